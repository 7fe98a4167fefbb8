// Package wav reads the header of a RIFF/WAVE file: enough to check the
// format of a prompt and to tell how long it plays. It decodes no audio.
package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// FormatPCM is the WAVE format tag of uncompressed integer PCM.
const FormatPCM = 1

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

// Parse reads the RIFF/WAVE header of b: the "fmt " chunk and the length of
// the "data" chunk, skipping any other chunk. It checks that the chunks fit
// in b and that the format's numbers agree with each other; it does not
// require any particular format.
func Parse(b []byte) (Info, error) {
	var info Info
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return info, errors.New("wav: not a RIFF/WAVE file")
	}
	if riff := int64(binary.LittleEndian.Uint32(b[4:8])) + 8; riff > int64(len(b)) {
		return info, fmt.Errorf("wav: RIFF size %d but file has %d bytes", riff, len(b))
	}
	var haveFmt, haveData bool
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := int64(off + 8)
		if body+size > int64(len(b)) {
			return info, fmt.Errorf("wav: chunk %q of %d bytes overruns the file", id, size)
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return info, fmt.Errorf("wav: fmt chunk of %d bytes, want at least 16", size)
			}
			f := b[body : body+16]
			info.Format = int(binary.LittleEndian.Uint16(f[0:2]))
			info.Channels = int(binary.LittleEndian.Uint16(f[2:4]))
			info.SampleRate = int(binary.LittleEndian.Uint32(f[4:8]))
			info.ByteRate = int(binary.LittleEndian.Uint32(f[8:12]))
			info.BlockAlign = int(binary.LittleEndian.Uint16(f[12:14]))
			info.BitsPerSample = int(binary.LittleEndian.Uint16(f[14:16]))
			haveFmt = true
		case "data":
			if !haveFmt {
				return info, errors.New("wav: data chunk before fmt chunk")
			}
			info.DataBytes = int(size)
			haveData = true
		}
		if haveData {
			break
		}
		off = int(body + size + size%2) // chunks are padded to an even length
	}
	switch {
	case !haveFmt:
		return info, errors.New("wav: no fmt chunk")
	case !haveData:
		return info, errors.New("wav: no data chunk")
	case info.Channels == 0 || info.SampleRate == 0 || info.BitsPerSample == 0:
		return info, fmt.Errorf("wav: fmt chunk has zero channels, rate or bits: %+v", info)
	case info.Format == FormatPCM && info.BlockAlign != info.Channels*((info.BitsPerSample+7)/8):
		return info, fmt.Errorf("wav: block align %d does not match %d channels of %d bits", info.BlockAlign, info.Channels, info.BitsPerSample)
	case info.Format == FormatPCM && info.ByteRate != info.SampleRate*info.BlockAlign:
		return info, fmt.Errorf("wav: byte rate %d does not match %d Hz × %d bytes", info.ByteRate, info.SampleRate, info.BlockAlign)
	case info.BlockAlign > 0 && info.DataBytes%info.BlockAlign != 0:
		return info, fmt.Errorf("wav: %d data bytes is not a whole number of %d-byte frames", info.DataBytes, info.BlockAlign)
	}
	return info, nil
}
