// Package wav is the project's one reader and writer of RIFF/WAVE files. It
// reads what a header says (format, rate, how long the audio plays), takes
// a file apart into its format chunk and its samples, writes a file back
// from them, and cuts integer PCM audio into segments of a given length on
// sample-frame boundaries. It decodes no samples and converts no formats.
//
// sounds uses it to check its prompts and to cut the hold music; the fake
// Twilio uses it to tell how long a recording plays. It imports only the
// standard library.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// FormatPCM is the WAVE format tag of uncompressed integer PCM.
const FormatPCM = 1

// ErrNotPCM is wrapped by the errors of what works on integer PCM only
// (Cut) when given another format.
var ErrNotPCM = errors.New("wav: not integer PCM")

// Info is what a WAV header says about its audio.
type Info struct {
	Format        int // format tag; FormatPCM for linear PCM
	Channels      int
	SampleRate    int // samples per second per channel
	ByteRate      int // bytes per second, all channels
	BlockAlign    int // bytes per sample frame, all channels
	BitsPerSample int
	DataBytes     int // length of the data chunk
}

// Duration is how long the audio plays.
func (i Info) Duration() time.Duration {
	if i.ByteRate <= 0 {
		return 0
	}
	return time.Duration(int64(i.DataBytes) * int64(time.Second) / int64(i.ByteRate))
}

// File is a WAV file taken apart. Its slices share the bytes it was read
// from.
type File struct {
	Info
	// Fmt is the body of the "fmt " chunk as it was, extension bytes
	// included.
	Fmt []byte
	// Data is the body of the "data" chunk: the samples.
	Data []byte
}

// Bytes writes f back as a WAV file of two chunks, "fmt " (Fmt) and "data"
// (Data), each padded to an even length as RIFF requires; any other chunk
// of the file f was read from (LIST, fact…) is left out.
func (f File) Bytes() []byte {
	return Encode(f.Fmt, f.Data)
}

// Encode writes a WAV file of a "fmt " chunk with body fmtChunk and a
// "data" chunk with body data, each padded to an even length.
func Encode(fmtChunk, data []byte) []byte {
	out := make([]byte, 0, 12+8+len(fmtChunk)+1+8+len(data)+1)
	out = append(out, "RIFF\x00\x00\x00\x00WAVE"...)
	out = appendChunk(out, "fmt ", fmtChunk)
	out = appendChunk(out, "data", data)
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8)) //nolint:gosec // G115: RIFF sizes are 32-bit; prompts and hold music are minutes long
	return out
}

func appendChunk(out []byte, id string, body []byte) []byte {
	out = append(out, id...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body))) //nolint:gosec // G115: as in Encode
	out = append(out, body...)
	if len(body)%2 == 1 {
		out = append(out, 0)
	}
	return out
}

// Parse reads the RIFF/WAVE header of b: the "fmt " chunk and the length of
// the "data" chunk, skipping any other chunk. It checks that the chunks fit
// in b and that the format's numbers agree with each other; it does not
// require any particular format.
func Parse(b []byte) (Info, error) {
	f, err := Read(b)
	return f.Info, err
}

// Read takes b apart as Parse reads it, and returns its format chunk and
// its samples too. A torn file (one whose RIFF size or whose data chunk
// runs past the end of b) is an error: the samples are not all there. A
// streamed file, whose RIFF size and data size were left unset (0 or
// 0xFFFFFFFF), has as samples the whole frames from the data chunk to the
// end of b.
func Read(b []byte) (File, error) {
	var f File
	info := &f.Info
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return f, errors.New("wav: not a RIFF/WAVE file")
	}
	riffSize := binary.LittleEndian.Uint32(b[4:8])
	// A writer that streams (a recorder, a pipe) cannot go back to fill in
	// the sizes: it leaves the RIFF size unset, 0 or 0xFFFFFFFF, and the
	// data chunk's too, which then runs to the end of the file.
	streamed := riffSize == 0 || riffSize == 0xFFFFFFFF
	if riff := int64(riffSize) + 8; !streamed && riff > int64(len(b)) {
		return f, fmt.Errorf("wav: RIFF size %d but file has %d bytes", riff, len(b))
	}
	var haveFmt, haveData bool
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := int64(off + 8)
		if id == "data" && streamed && (size == 0 || size == 0xFFFFFFFF) && haveFmt {
			size = int64(len(b)) - body
			if info.BlockAlign > 0 {
				size -= size % int64(info.BlockAlign) // a frame cut off by the end
			}
		}
		if body+size > int64(len(b)) {
			return f, fmt.Errorf("wav: chunk %q of %d bytes overruns the file", id, size)
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return f, fmt.Errorf("wav: fmt chunk of %d bytes, want at least 16", size)
			}
			c := b[body : body+16]
			info.Format = int(binary.LittleEndian.Uint16(c[0:2]))
			info.Channels = int(binary.LittleEndian.Uint16(c[2:4]))
			info.SampleRate = int(binary.LittleEndian.Uint32(c[4:8]))
			info.ByteRate = int(binary.LittleEndian.Uint32(c[8:12]))
			info.BlockAlign = int(binary.LittleEndian.Uint16(c[12:14]))
			info.BitsPerSample = int(binary.LittleEndian.Uint16(c[14:16]))
			f.Fmt = b[body : body+size : body+size]
			haveFmt = true
		case "data":
			if !haveFmt {
				return f, errors.New("wav: data chunk before fmt chunk")
			}
			info.DataBytes = int(size)
			f.Data = b[body : body+size : body+size]
			haveData = true
		}
		if haveData {
			break
		}
		off = int(body + size + size%2) // chunks are padded to an even length
	}
	switch {
	case !haveFmt:
		return f, errors.New("wav: no fmt chunk")
	case !haveData:
		return f, errors.New("wav: no data chunk")
	case info.Channels == 0 || info.SampleRate == 0 || info.BitsPerSample == 0:
		return f, fmt.Errorf("wav: fmt chunk has zero channels, rate or bits: %+v", *info)
	case info.Format == FormatPCM && info.BlockAlign != info.Channels*((info.BitsPerSample+7)/8):
		return f, fmt.Errorf("wav: block align %d does not match %d channels of %d bits", info.BlockAlign, info.Channels, info.BitsPerSample)
	case info.Format == FormatPCM && info.ByteRate != info.SampleRate*info.BlockAlign:
		return f, fmt.Errorf("wav: byte rate %d does not match %d Hz × %d bytes", info.ByteRate, info.SampleRate, info.BlockAlign)
	case info.BlockAlign > 0 && info.DataBytes%info.BlockAlign != 0:
		return f, fmt.Errorf("wav: %d data bytes is not a whole number of %d-byte frames", info.DataBytes, info.BlockAlign)
	}
	return f, nil
}

// Cut cuts the integer PCM WAV file b into segments of seg each, every one
// a WAV file of its own (Encode) with b's format chunk, cut on sample-frame
// boundaries; played one after another they play b's samples in order and
// in full. A last piece shorter than half a segment is joined to the one
// before it rather than played as a blip. Another format is refused with
// an error wrapping ErrNotPCM; so is a segment shorter than one frame.
func Cut(b []byte, seg time.Duration) ([][]byte, error) {
	f, err := Read(b)
	if err != nil {
		return nil, err
	}
	if f.Format != FormatPCM {
		return nil, fmt.Errorf("%w: format tag %d, want %d; only integer PCM can be cut on sample boundaries", ErrNotPCM, f.Format, FormatPCM)
	}
	step := int(seg.Seconds()*float64(f.ByteRate)) / f.BlockAlign * f.BlockAlign
	if step <= 0 {
		return nil, fmt.Errorf("wav: a segment of %v is shorter than one %d-byte frame at %d bytes a second", seg, f.BlockAlign, f.ByteRate)
	}
	var pieces [][]byte
	for off := 0; off < len(f.Data); off += step {
		piece := f.Data[off:min(off+step, len(f.Data))]
		if n := len(pieces); n > 0 && len(piece) < step/2 {
			last := pieces[n-1]
			pieces[n-1] = last[:len(last)+len(piece)] // both share f.Data
			break
		}
		pieces = append(pieces, piece)
	}
	if len(pieces) == 0 {
		pieces = [][]byte{f.Data} // no samples: one empty segment
	}
	out := make([][]byte, len(pieces))
	for i, p := range pieces {
		out[i] = Encode(f.Fmt, p)
	}
	return out, nil
}
