package webhooks

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/supportdesk/ivr/sounds"
)

// Hold music in segments. sounds has one loop of 20–30 s; played whole, a
// caller on hold would deliver a Tick (a wait URL request) only that often,
// and the progress message due every 30 s would come at 48 s. Played as
// the segments of Config.HoldSegment that sounds.HoldSegments cuts, one
// after the other, the music still runs in order and the flow gets a Tick
// every few seconds. This file only serves them.

type holdMusic struct {
	once sync.Once
	seg  time.Duration
	wavs [][]byte
}

func (h *holdMusic) load() {
	h.once.Do(func() {
		segs, err := sounds.HoldSegments(h.seg)
		if err != nil {
			// Not music sounds can cut (its tests keep it cuttable):
			// play it whole.
			if b, ok := sounds.Bytes("", sounds.Hold); ok {
				segs = [][]byte{b}
			}
		}
		h.wavs = segs
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
