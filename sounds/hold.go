package sounds

import (
	"fmt"
	"sync"
	"time"

	"github.com/supportdesk/ivr/sounds/wav"
)

// holdCuts keeps the hold music cut at each segment length asked for, so
// that it is cut once per length for the life of the process.
var holdCuts sync.Map // time.Duration -> func() ([][]byte, error)

// HoldSegments is the hold music cut into segments of seg each, in order:
// each a WAV file of its own, cut on sample boundaries, the last one up to
// half a segment longer rather than a blip (wav.Cut). Played one after
// another they play the loop once. A driver that plays them one per wait
// request hears from the caller every seg instead of once a loop. The
// music is cut once per length; the slices returned are the caller's.
func HoldSegments(seg time.Duration) ([][]byte, error) {
	cut, _ := holdCuts.LoadOrStore(seg, sync.OnceValues(func() ([][]byte, error) {
		f, _, ok := lookup("", Hold)
		if !ok {
			return nil, fmt.Errorf("sounds: no hold music; run go generate ./sounds/ (sounds/README.md)")
		}
		segs, err := wav.Cut([]byte(f.data), seg)
		if err != nil {
			return nil, fmt.Errorf("sounds: cutting the hold music into %v segments: %w", seg, err)
		}
		return segs, nil
	}))
	segs, err := cut.(func() ([][]byte, error))()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(segs))
	for i, s := range segs {
		out[i] = append([]byte(nil), s...)
	}
	return out, nil
}
