package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// The hold music: a slow I–vi–IV–V, I–vi–ii–V progression in C major, a
// plucked arpeggio over a quiet sine pad, with a little reverb. Every
// note's fundamental is between 260 Hz and 1 kHz, inside a phone line's
// band (a bass would be lost on the line); a low-pass filter softens the
// plucks and the level stays below the prompts'. It is synthesised twice
// over and the second pass is kept, so that the reverb and the ringing
// notes of the last bar run on into the first: the file loops without a
// seam.
var (
	holdBeat  = 0.75      // seconds: 80 beats a minute
	holdBar   = 4         // beats
	holdChord = [][3]int{ // MIDI notes of the pad, one chord a bar; 60 is middle C
		{60, 64, 67}, // C
		{60, 64, 69}, // Am
		{60, 65, 69}, // F
		{62, 67, 71}, // G
		{60, 64, 67}, // C
		{60, 64, 69}, // Am
		{62, 65, 69}, // Dm
		{62, 67, 71}, // G
	}
	holdArpeggio = []int{0, 1, 2, 1} // chord tones an octave up, one a beat
	// The instruments: a sine pad held a little past each bar so that the
	// chords overlap, and plucked strings that ring on under the next ones.
	holdPad     = instrument{kind: "sine", extra: 0.4, fade: "q 0.5 -0 1.0", vol: 0.06}
	holdPluck   = instrument{kind: "pluck", length: 2.4, fade: "h 0.005 -0 1.2", vol: 0.15}
	holdEffects = "highpass 200 lowpass 2400 reverb 40 50 60 channels 1" // reverb makes stereo
	holdLevel   = "-12"                                                  // peak dBFS after normalising, below the prompts' -3
)

const holdRate = "32000" // synthesis rate, above 8 kHz so the plucks do not alias

// holdLength is the loop's length in seconds.
func holdLength() float64 { return holdBeat * float64(holdBar*len(holdChord)) }

// holdRecipe describes the hold music for the manifest; changing any of
// the parameters above changes it, so the generator renders it again.
func holdRecipe() string {
	var chords []string
	for _, c := range holdChord {
		chords = append(chords, fmt.Sprint(c))
	}
	return fmt.Sprintf("sox synth: chords %s at %.0f bpm, %d beats a bar; pad %s; arpeggio %v %s; %s; loop %gs; gain -n %s",
		strings.Join(chords, " "), 60/holdBeat, holdBar, holdPad, holdArpeggio, holdPluck, holdEffects, holdLength(), holdLevel)
}

// instrument is how a note sounds.
type instrument struct {
	kind   string  // sox synth type
	length float64 // seconds, or 0 for the bar's length
	extra  float64 // seconds held past the length
	fade   string  // sox fade arguments
	vol    float64 // mixing volume
}

func (i instrument) String() string {
	length := "bar"
	if i.length > 0 {
		length = f(i.length) + "s"
	}
	if i.extra > 0 {
		length += "+" + f(i.extra) + "s"
	}
	return fmt.Sprintf("%s %s fade %s vol %s", i.kind, length, i.fade, f(i.vol))
}

// note is one tone of the hold music.
type note struct {
	instrument
	start, length float64 // seconds
	midi          int
}

func holdNotes() []note {
	var notes []note
	bar := holdBeat * float64(holdBar)
	for pass := range 2 {
		for i, chord := range holdChord {
			t0 := float64(pass)*holdLength() + float64(i)*bar
			for _, m := range chord {
				notes = append(notes, note{holdPad, t0, bar + holdPad.extra, m})
			}
			for b := range holdBar {
				m := chord[holdArpeggio[b%len(holdArpeggio)]] + 12
				notes = append(notes, note{holdPluck, t0 + float64(b)*holdBeat, holdPluck.length + holdPluck.extra, m})
			}
		}
	}
	return notes
}

func hz(midi int) float64 { return 440 * math.Pow(2, float64(midi-69)/12) }

func f(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// hold synthesises the hold music into out.
func (r *renderer) hold(scratch, out string) error {
	mix := []string{"-D", "-R", "-m"}
	for i, n := range holdNotes() {
		name := filepath.Join(scratch, fmt.Sprintf("note%03d.wav", i))
		args := []string{"-D", "-R", "-n", "-r", holdRate, "-c", "1", "-b", "16", name,
			"synth", f(n.length), n.kind, strconv.FormatFloat(hz(n.midi), 'f', 2, 64), "fade"}
		args = append(args, strings.Fields(n.fade)...)
		args = append(args, "pad", f(n.start))
		if err := runTool(nil, "sox", args...); err != nil {
			return err
		}
		mix = append(mix, "-v", f(n.vol), name)
	}
	mix = append(mix, wavOut...)
	mix = append(mix, out)
	mix = append(mix, strings.Fields(holdEffects)...)
	mix = append(mix, "trim", f(holdLength()), f(holdLength()), "rate", "-v", "8000", "gain", "-n", holdLevel)
	return runTool(nil, "sox", mix...)
}
