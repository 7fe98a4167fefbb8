package sounds_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/supportdesk/ivr/sounds"
	"github.com/supportdesk/ivr/sounds/wav"
)

// The hold music cut into segments plays the loop once, in order, each
// segment a WAV file of the loop's format that lasts the segment's length
// (the last up to half a segment more).
func TestHoldSegments(t *testing.T) {
	whole, ok := sounds.Bytes("", sounds.Hold)
	if !ok {
		t.Fatal("no hold music")
	}
	loop, err := wav.Read(whole)
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range []time.Duration{8 * time.Second, 3 * time.Second, 7500 * time.Millisecond, time.Minute} {
		segs, err := sounds.HoldSegments(seg)
		if err != nil {
			t.Fatalf("HoldSegments(%v): %v", seg, err)
		}
		var played []byte
		for i, s := range segs {
			f, err := wav.Read(s)
			if err != nil {
				t.Fatalf("HoldSegments(%v)[%d]: %v", seg, i, err)
			}
			if f.Format != loop.Format || f.SampleRate != loop.SampleRate || f.Channels != loop.Channels || f.BitsPerSample != loop.BitsPerSample {
				t.Errorf("HoldSegments(%v)[%d] is %+v, want the loop's format %+v", seg, i, f.Info, loop.Info)
			}
			d, last := f.Duration(), i == len(segs)-1
			if (!last && d != seg) || (last && len(segs) > 1 && (d < seg/2 || d >= seg+seg/2)) {
				t.Errorf("HoldSegments(%v)[%d] of %d plays %v", seg, i, len(segs), d)
			}
			played = append(played, f.Data...)
		}
		if !bytes.Equal(played, loop.Data) {
			t.Errorf("HoldSegments(%v): %d segments play %d bytes of samples, not the loop's %d in order", seg, len(segs), len(played), len(loop.Data))
		}
	}
}

// A segment shorter than a sample is refused rather than cut into nothing.
func TestHoldSegmentsErrTooShort(t *testing.T) {
	if _, err := sounds.HoldSegments(time.Nanosecond); err == nil {
		t.Error("HoldSegments(1ns): no error")
	}
}

// The segments handed out are the caller's: changing one changes no one
// else's.
func TestHoldSegmentsAreCopies(t *testing.T) {
	a, err := sounds.HoldSegments(8 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	orig := a[0][100]
	a[0][100] ^= 0xff
	if b, _ := sounds.HoldSegments(8 * time.Second); b[0][100] != orig {
		t.Error("changing a segment changed the next caller's")
	}
}
