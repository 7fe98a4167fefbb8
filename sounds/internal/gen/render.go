package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/supportdesk/ivr/sounds/internal/manifest"
	"github.com/supportdesk/ivr/sounds/wav"
)

// renderer runs espeak-ng and sox into a scratch directory and moves
// finished files into the audio directory.
type renderer struct {
	dir     string // the audio directory
	tmp     string // scratch directory
	espeak  string // espeak-ng's version line
	soxVers string // sox's version
}

func newRenderer(dir string) (*renderer, error) {
	r := &renderer{dir: dir}
	var err error
	if r.soxVers, err = version("sox", "--version"); err != nil {
		return nil, err
	}
	r.soxVers = strings.TrimSpace(strings.TrimPrefix(r.soxVers, "sox:"))
	if r.espeak, err = version("espeak-ng", "--version"); err != nil {
		return nil, err
	}
	if i := strings.Index(r.espeak, "Data at:"); i >= 0 {
		r.espeak = strings.TrimSpace(r.espeak[:i])
	}
	if r.tmp, err = os.MkdirTemp("", "sounds-gen-"); err != nil {
		return nil, err
	}
	return r, nil
}

// close removes the scratch folder; one left behind in the temp directory
// harms nothing, so its error is dropped.
func (r *renderer) close() { _ = os.RemoveAll(r.tmp) }

// version returns the first line of the tool's version output, or an error
// that says how to install it.
func version(tool string, arg string) (string, error) {
	out, err := exec.Command(tool, arg).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w (install with: apt-get install espeak-ng sox)", tool, arg, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line), nil
}

// renderAll renders the jobs on all CPUs and returns their finished
// manifest entries by path.
func (r *renderer) renderAll(jobs []job) (map[string]manifest.Entry, error) {
	var (
		mu   sync.Mutex
		done = make(map[string]manifest.Entry, len(jobs))
		errs []error
		wg   sync.WaitGroup
		next = make(chan job)
	)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for j := range next {
				e, err := r.render(j)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", j.Path, err))
				} else {
					done[j.Path] = e
				}
				mu.Unlock()
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	return done, errors.Join(errs...)
}

func (r *renderer) render(j job) (manifest.Entry, error) {
	scratch, err := os.MkdirTemp(r.tmp, "job-")
	if err != nil {
		return manifest.Entry{}, err
	}
	defer func() { _ = os.RemoveAll(scratch) }() // inside r.tmp, which close removes anyway
	out := filepath.Join(scratch, "out.wav")
	e := j.Entry
	switch e.Source {
	case manifest.SourceESpeak:
		err = r.speak(scratch, e, out)
		e.Tools = r.espeak + "; " + r.soxVers
	case manifest.SourceSynth:
		err = r.hold(scratch, out)
		e.Tools = r.soxVers
	default:
		err = fmt.Errorf("cannot render source %q", e.Source)
	}
	if err != nil {
		return manifest.Entry{}, err
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return manifest.Entry{}, err
	}
	if err := checkFormat(b); err != nil {
		return manifest.Entry{}, err
	}
	e.SHA256 = manifest.Hash(b)
	if err := writeFile(filepath.Join(r.dir, filepath.FromSlash(j.Path)), b); err != nil {
		return manifest.Entry{}, err
	}
	return e, nil
}

// speak renders e's text with espeak-ng and converts it with sox.
func (r *renderer) speak(scratch string, e manifest.Entry, out string) error {
	text := e.Text
	if e.Spoken != "" {
		text = e.Spoken
	}
	raw := filepath.Join(scratch, "espeak.wav")
	// -b 1: the text is UTF-8; -z: no pause after the last sentence.
	if err := runTool(strings.NewReader(text), "espeak-ng", "-b", "1", "-z",
		"-v", e.Voice, "-s", strconv.Itoa(e.Rate), "-w", raw, "--stdin"); err != nil {
		return err
	}
	return sox(raw, out, strings.Fields(e.Recipe)...)
}

// sox converts in to out in the output format, applying effects. -D and -R
// keep the output the same from run to run (no dither, fixed seeds), so
// that rendering again does not change committed files.
func sox(in, out string, effects ...string) error {
	args := append([]string{"-D", "-R", in}, wavOut...)
	args = append(args, out)
	return runTool(nil, "sox", append(args, effects...)...)
}

func runTool(stdin *strings.Reader, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// checkFormat makes sure sox wrote what the service promises.
func checkFormat(b []byte) error {
	info, err := wav.Parse(b)
	if err != nil {
		return err
	}
	if info.Format != wav.FormatPCM || info.SampleRate != 8000 || info.Channels != 1 || info.BitsPerSample != 16 || info.DataBytes == 0 {
		return fmt.Errorf("sox wrote %+v, want 8000 Hz mono 16-bit PCM", info)
	}
	return nil
}
