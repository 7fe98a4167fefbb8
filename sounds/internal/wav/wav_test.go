package wav

import (
	"encoding/binary"
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
