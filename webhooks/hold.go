package webhooks

import (
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/supportdesk/ivr/sounds"
)

// Hold music in segments. sounds has one loop of 20–30 s; played whole, a
// caller on hold would deliver a Tick (a wait URL request) only that often,
// and the progress message due every 30 s would come at 48 s. Cut into
// segments of Config.HoldSegment played one after the other, the music
// still runs in order and the flow gets a Tick every few seconds. Each
// segment is a valid WAV file of its own, cut on sample boundaries.

type holdMusic struct {
	once sync.Once
	seg  time.Duration
	wavs [][]byte
}

func (h *holdMusic) load() {
	h.once.Do(func() {
		b, _ := sounds.Bytes("", sounds.Hold)
		h.wavs = cutWAV(b, h.seg)
		if len(h.wavs) == 0 && len(b) > 0 {
			h.wavs = [][]byte{b} // not a PCM file we can cut: play it whole
		}
	})
}

func (h *holdMusic) count() int {
	h.load()
	return max(1, len(h.wavs))
}

// serve answers GET {n}.wav. It needs no signature: it is public audio,
// like sounds.Handler.
func (h *holdMusic) serve(w http.ResponseWriter, r *http.Request) {
	h.load()
	name := strings.TrimPrefix(r.URL.Path, pathHold)
	n, err := strconv.Atoi(strings.TrimSuffix(name, ".wav"))
	if err != nil || !strings.HasSuffix(name, ".wav") || n < 0 || n >= len(h.wavs) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Content-Length", strconv.Itoa(len(h.wavs[n])))
	if r.Method != http.MethodHead {
		_, _ = w.Write(h.wavs[n])
	}
}

// cutWAV cuts a PCM WAV file into pieces of about seg each; nil if b is
// not a PCM WAV file it understands.
func cutWAV(b []byte, seg time.Duration) [][]byte {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil
	}
	var fmtChunk, data []byte
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		end := min(p+8+size, len(b))
		switch id {
		case "fmt ":
			fmtChunk = b[p+8 : end]
		case "data":
			data = b[p+8 : end]
		}
		p = end + size%2
	}
	if len(fmtChunk) < 16 || data == nil || binary.LittleEndian.Uint16(fmtChunk[0:2]) != 1 {
		return nil
	}
	byteRate := int(binary.LittleEndian.Uint32(fmtChunk[8:12]))
	align := int(binary.LittleEndian.Uint16(fmtChunk[12:14]))
	if byteRate <= 0 || align <= 0 {
		return nil
	}
	step := int(seg.Seconds()*float64(byteRate)) / align * align
	if step <= 0 {
		return nil
	}
	var out [][]byte
	for off := 0; off < len(data); off += step {
		piece := data[off:min(off+step, len(data))]
		if len(out) > 0 && len(piece) < step/2 {
			out[len(out)-1] = wav(fmtChunk, append(pcm(out[len(out)-1]), piece...))
			break
		}
		out = append(out, wav(fmtChunk, piece))
	}
	return out
}

func wav(fmtChunk, data []byte) []byte {
	out := make([]byte, 0, 20+len(fmtChunk)+8+len(data))
	out = append(out, "RIFF"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(4+8+len(fmtChunk)+8+len(data)))
	out = append(out, "WAVEfmt "...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(fmtChunk)))
	out = append(out, fmtChunk...)
	out = append(out, "data"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
	return append(out, data...)
}

// pcm is the data of a file wav built.
func pcm(w []byte) []byte {
	fmtLen := int(binary.LittleEndian.Uint32(w[16:20]))
	return w[20+fmtLen+8:]
}
