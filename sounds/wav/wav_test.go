package wav

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

type chunk struct {
	id   string
	body []byte
}

// build lays out a RIFF/WAVE file from chunks, padding odd ones.
func build(chunks ...chunk) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		b = append(b, c.id...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c.body)))
		b = append(b, c.body...)
		if len(c.body)%2 == 1 {
			b = append(b, 0)
		}
	}
	binary.LittleEndian.PutUint32(b[4:8], uint32(len(b)-8))
	return b
}

func fmtChunk(format, channels, rate, bits int) chunk {
	align := channels * bits / 8
	var b []byte
	b = binary.LittleEndian.AppendUint16(b, uint16(format))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*align))
	b = binary.LittleEndian.AppendUint16(b, uint16(align))
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	return chunk{"fmt ", b}
}

// samples is n bytes of a pattern that differs from frame to frame.
func samples(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestParse(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		b := build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"LIST", []byte("odd")}, chunk{"data", make([]byte, 24000)})
		info, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		want := Info{Format: FormatPCM, Channels: 1, SampleRate: 8000, ByteRate: 16000, BlockAlign: 2, BitsPerSample: 16, DataBytes: 24000}
		if info != want {
			t.Errorf("Parse = %+v, want %+v", info, want)
		}
		if d := info.Duration(); d != 1500*time.Millisecond {
			t.Errorf("Duration = %v, want 1.5s", d)
		}
	})

	t.Run("OtherFormat", func(t *testing.T) {
		info, err := Parse(build(fmtChunk(FormatPCM, 2, 44100, 16), chunk{"data", make([]byte, 8)}))
		if err != nil || info.Channels != 2 || info.SampleRate != 44100 {
			t.Errorf("Parse = %+v, %v", info, err)
		}
	})

	good := build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"data", make([]byte, 16)})
	badAlign := fmtChunk(FormatPCM, 1, 8000, 16)
	badAlign.body[12] = 4
	for _, c := range []struct {
		name string
		b    []byte
		err  string
	}{
		{"Empty", nil, "not a RIFF/WAVE"},
		{"NotWave", append([]byte("RIFF\x04\x00\x00\x00AVI "), make([]byte, 8)...), "not a RIFF/WAVE"},
		{"Truncated", good[:len(good)-4], "RIFF size"},
		{"ChunkOverrun", func() []byte {
			b := append([]byte(nil), good...)
			binary.LittleEndian.PutUint32(b[len(b)-20:], 1000) // the data chunk's size
			return b
		}(), "overruns"},
		{"NoFmt", build(chunk{"data", make([]byte, 4)}), "data chunk before fmt"},
		{"NoData", build(fmtChunk(FormatPCM, 1, 8000, 16)), "no data chunk"},
		{"ShortFmt", build(chunk{"fmt ", make([]byte, 14)}, chunk{"data", nil}), "at least 16"},
		{"ZeroRate", build(fmtChunk(FormatPCM, 1, 0, 16), chunk{"data", nil}), "zero"},
		{"BadAlign", build(badAlign, chunk{"data", nil}), "block align"},
		{"PartialFrame", build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"data", make([]byte, 3)}), "whole number"},
	} {
		t.Run("Err"+c.name, func(t *testing.T) {
			if _, err := Parse(c.b); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse: %v, want an error containing %q", err, c.err)
			}
		})
	}
}

func TestRead(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		data := samples(24)
		f, err := Read(build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"LIST", []byte("INFOodd")}, chunk{"data", data}, chunk{"junk", []byte("after")}))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Data, data) || len(f.Fmt) != 16 || f.DataBytes != 24 {
			t.Errorf("Read = fmt %x, data %x, %+v; want the 16-byte fmt chunk and the 24 data bytes", f.Fmt, f.Data, f.Info)
		}
	})

	t.Run("FmtExtensionKept", func(t *testing.T) {
		ext := fmtChunk(FormatPCM, 1, 8000, 16)
		ext.body = append(ext.body, 0, 0) // cbSize 0
		f, err := Read(build(ext, chunk{"data", samples(4)}))
		if err != nil || !bytes.Equal(f.Fmt, ext.body) {
			t.Errorf("Read = fmt %x, %v; want %x", f.Fmt, err, ext.body)
		}
	})

	t.Run("StreamedSizesUnset", func(t *testing.T) {
		// A recorder that streams leaves the RIFF and data sizes 0 (or
		// 0xFFFFFFFF): the samples run to the end of the file, in whole
		// frames.
		for _, unset := range []uint32{0, 0xFFFFFFFF} {
			b := build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"data", samples(16001)})
			binary.LittleEndian.PutUint32(b[4:8], unset)
			binary.LittleEndian.PutUint32(b[40:44], unset)
			f, err := Read(b[:44+16001]) // no pad byte: the writer did not know
			if err != nil || f.DataBytes != 16000 || !bytes.Equal(f.Data, samples(16000)) || f.Duration() != time.Second {
				t.Errorf("Read with sizes %#x: %d data bytes, %v, %v; want the 16000 bytes of whole frames, 1s", unset, f.DataBytes, f.Duration(), err)
			}
		}
	})

	t.Run("ErrTornData", func(t *testing.T) {
		// A recording cut off mid-write: the headers promise more samples
		// than the file holds.
		b := build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"data", samples(1600)})
		for _, n := range []int{len(b) - 1, len(b) - 800, 45, 44, 40, 11, 0} {
			if _, err := Read(b[:n]); err == nil {
				t.Errorf("Read of the first %d of %d bytes: no error", n, len(b))
			}
		}
	})
}

func TestEncode(t *testing.T) {
	t.Run("RoundTrip", func(t *testing.T) {
		data := samples(3200)
		in := build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"LIST", []byte("INFOodd")}, chunk{"data", data})
		f, err := Read(in)
		if err != nil {
			t.Fatal(err)
		}
		out := f.Bytes()
		want := build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"data", data}) // the LIST chunk dropped
		if !bytes.Equal(out, want) {
			t.Errorf("Bytes = %x…, want the canonical 44-byte header and the samples", out[:min(len(out), 48)])
		}
	})

	t.Run("OddDataPadded", func(t *testing.T) {
		out := Encode(fmtChunk(FormatPCM, 1, 8000, 8).body, []byte{1, 2, 3})
		if len(out)%2 != 0 || binary.LittleEndian.Uint32(out[4:8]) != uint32(len(out)-8) {
			t.Errorf("Encode of 3 data bytes: %d bytes, RIFF size %d; want an even file whose RIFF size counts the pad", len(out), binary.LittleEndian.Uint32(out[4:8]))
		}
		f, err := Read(out)
		if err != nil || !bytes.Equal(f.Data, []byte{1, 2, 3}) {
			t.Errorf("Read(Encode) = %x, %v", f.Data, err)
		}
	})
}

func TestCut(t *testing.T) {
	mono := build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"data", samples(36800)}) // 2.3 s

	t.Run("OK", func(t *testing.T) {
		segs, err := Cut(mono, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// 1 s, then 1.3 s: the last 0.3 s is under half a segment.
		var got []time.Duration
		var all []byte
		for _, s := range segs {
			f, err := Read(s)
			if err != nil {
				t.Fatalf("segment: %v", err)
			}
			got = append(got, f.Duration())
			all = append(all, f.Data...)
		}
		if want := []time.Duration{time.Second, 1300 * time.Millisecond}; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("segments play %v, want %v", got, want)
		}
		if !bytes.Equal(all, samples(36800)) {
			t.Error("the segments' samples played in order are not the file's")
		}
	})

	t.Run("FrameBoundaries", func(t *testing.T) {
		// 0.33 s of 3-byte frames is 7276.5 bytes: every segment must
		// still hold whole frames.
		segs, err := Cut(build(fmtChunk(FormatPCM, 1, 7350, 24), chunk{"data", samples(3 * 7350)}), 330*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range segs {
			if _, err := Read(s); err != nil {
				t.Errorf("segment %d: %v", i, err)
			}
		}
	})

	// The bytes the hold music was served as before this package cut it
	// (webhooks' cutWAV, which it replaces), as SHA-256 of the segments
	// one after another: a caller on hold hears exactly what they did.
	ext := fmtChunk(FormatPCM, 2, 11025, 16)
	ext.body = append(ext.body, 0, 0)
	for _, c := range []struct {
		name  string
		b     []byte
		seg   time.Duration
		count int
		sum   string
	}{
		{"MonoRemainderJoined", mono, time.Second, 2, "6a3a6c534319b044d93a2d7c0a93bd09263f2d2c03ecb40d329cdc97537d7842"},
		{"MonoUnevenSegment", mono, 700 * time.Millisecond, 3, "240230bf5656ccddb902d4a8677fc406c178fc8313f36857f5c7483db17af231"},
		{"OddLISTChunk", build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"LIST", []byte("INFOodd")}, chunk{"data", samples(36800)}), time.Second, 2, "6a3a6c534319b044d93a2d7c0a93bd09263f2d2c03ecb40d329cdc97537d7842"},
		{"StereoFmtExtension", build(ext, chunk{"data", samples(66148)}), 400 * time.Millisecond, 4, "7f04fa949edde0fdc851db6ef1fbde949cd62865935edb05844662e5f3e46a3d"},
		{"LongerThanFile", mono, 40 * time.Second, 1, "f58b5b1cd7f448477d01ab97b30741935b3c8b163a40fcec8294a453755f526b"},
		{"HoldLike", build(fmtChunk(FormatPCM, 1, 8000, 16), chunk{"data", samples(384000)}), 8 * time.Second, 3, "50d4946d1b22e15a7805d5915c5669ac5ccba95fb4140dc2823ca406f462bdce"},
	} {
		t.Run("AsBefore"+c.name, func(t *testing.T) {
			segs, err := Cut(c.b, c.seg)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			for _, s := range segs {
				h.Write(s)
			}
			if sum := hex.EncodeToString(h.Sum(nil)); len(segs) != c.count || sum != c.sum {
				t.Errorf("Cut(%v) = %d segments, sha256 %s; want %d, %s", c.seg, len(segs), sum, c.count, c.sum)
			}
		})
	}

	t.Run("ErrNotPCM", func(t *testing.T) {
		float := build(fmtChunk(3, 1, 8000, 32), chunk{"data", samples(3200)}) // IEEE float
		_, err := Cut(float, time.Second)
		if !errors.Is(err, ErrNotPCM) || !strings.Contains(err.Error(), "format tag 3") {
			t.Errorf("Cut of a float WAV: %v, want ErrNotPCM naming format tag 3", err)
		}
	})

	t.Run("ErrSegmentUnderAFrame", func(t *testing.T) {
		if _, err := Cut(mono, time.Microsecond); err == nil || !strings.Contains(err.Error(), "shorter than one") {
			t.Errorf("Cut(1µs): %v, want an error saying the segment is shorter than a frame", err)
		}
	})

	t.Run("ErrTorn", func(t *testing.T) {
		if _, err := Cut(mono[:len(mono)-100], time.Second); err == nil || !strings.Contains(err.Error(), "RIFF size") {
			t.Errorf("Cut of a torn file: %v, want the RIFF size error", err)
		}
	})
}
