// Command gen renders the audio of package sounds: every prompt of
// ivr.Catalogue in Russian and English with espeak-ng, converted by sox to
// 8 kHz mono 16-bit signed PCM WAV; the hold music, synthesised by sox; and
// audio/manifest.json, which records what each file was made from.
//
// It is run by go generate ./sounds/ (from the sounds directory) and needs
// espeak-ng and sox on the PATH only when something has to be rendered: a
// file whose manifest entry already matches the catalogue text, voice, rate
// and recipe is left as it is. Files marked "recorded" in the manifest are
// never rendered, overwritten or deleted; a recording whose text no longer
// matches the catalogue, or a generated file changed by hand, is reported
// and makes the command fail.
//
// Usage:
//
//	go run ./internal/gen [-dir audio] [-force]
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds/internal/manifest"
)

// voiceConfig is how one language is spoken.
type voiceConfig struct {
	Lang  string // directory under audio/, an oncall.Language
	Voice string // espeak-ng -v
	Rate  int    // espeak-ng -s, words per minute: below the default 175, for a phone line
	// Spell rewrites a text, for espeak-ng, where it would misread it. The
	// manifest keeps the catalogue text and records the spelling.
	Spell func(string) string
}

var voices = []voiceConfig{
	{Lang: "ru", Voice: "ru", Rate: 145, Spell: spellRussian},
	{Lang: "en", Voice: "en-us", Rate: 150, Spell: spellEnglish},
}

// prepositionK is the preposition "к" as a word of its own, which
// espeak-ng 1.51 reads as the letter's name, "ка" ("Ка сожалению").
var prepositionK = regexp.MustCompile(`(^|[\s(«"])([Кк]) +`)

// forty is the word "сорок" (forty), which espeak-ng 1.51 stresses on the
// last syllable (сорóк, of сорока, a magpie); spelt "сорокь" it is read
// "сóрок", as the number is said.
var forty = regexp.MustCompile(`(^|[^\p{L}])([Сс]орок)([^\p{L}]|$)`)

// spellRussian writes "к" together with the next word, as it is spoken,
// and "сорок" so that it is stressed as the number.
func spellRussian(s string) string {
	s = prepositionK.ReplaceAllString(s, "${1}${2}")
	return forty.ReplaceAllString(s, "${1}${2}ь${3}")
}

// spellEnglish spells out what espeak-ng reads as symbols: it says "24/7"
// as "twenty four slash seven".
var spellEnglish = strings.NewReplacer("24/7", "twenty-four seven").Replace

// speechEffects is the sox effects chain applied to espeak-ng's output:
// trim leading and trailing silence, resample to 8 kHz, normalise the peak
// to -3 dBFS and pad with a short silence (the flow plays prompts back to
// back, so the pads are the gap between them).
const speechEffects = "silence 1 0.01 -50d reverse silence 1 0.01 -50d reverse rate -v 8000 gain -n -3 pad 0.1 0.15"

// wavOut are sox's output options for every file: 8 kHz, mono, 16-bit
// signed PCM WAV, what Asterisk's wav format and Twilio's <Play> take.
var wavOut = []string{"-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "wav"}

const holdPath = "hold.wav"

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	dir := flag.String("dir", "audio", "audio directory to write")
	force := flag.Bool("force", false, "render every generated file again, and overwrite generated files changed by hand")
	flag.Parse()
	if err := run(*dir, *force); err != nil {
		log.Fatal(err)
	}
}

func run(dir string, force bool) error {
	old := &manifest.Manifest{Files: map[string]manifest.Entry{}}
	switch b, err := os.ReadFile(filepath.Join(dir, manifest.File)); {
	case err == nil:
		if old, err = manifest.Parse(b); err != nil {
			return err
		}
	case !os.IsNotExist(err):
		return err
	}
	files, err := scan(dir)
	if err != nil {
		return err
	}

	p := makePlan(old, wanted(ivr.Catalogue()), files, force)

	entries := p.keep
	if len(p.render) > 0 {
		r, err := newRenderer(dir)
		if err != nil {
			return err
		}
		defer r.close()
		done, err := r.renderAll(p.render)
		if err != nil {
			return err
		}
		for path, e := range done {
			entries[path] = e
		}
	}
	for _, path := range p.remove {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(path))); err != nil && !os.IsNotExist(err) {
			return err
		}
		log.Printf("removed %s (not a prompt of the catalogue)", path)
	}

	m := &manifest.Manifest{
		Comment: "Written by go generate ./sounds/ (sounds/internal/gen); see sounds/README.md. " +
			"Entries with source \"recorded\" are studio audio the generator leaves alone.",
		Format: "WAV, 8000 Hz, mono, 16-bit signed PCM",
		Files:  entries,
	}
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, manifest.File), b); err != nil {
		return err
	}
	log.Printf("%d files rendered, %d kept, %d removed", len(p.render), len(entries)-len(p.render), len(p.remove))
	if len(p.problems) > 0 {
		sort.Strings(p.problems)
		return fmt.Errorf("%d files need attention:\n  %s", len(p.problems), strings.Join(p.problems, "\n  "))
	}
	return nil
}

// wanted is the manifest entry, without tools and hash, of every file the
// catalogue calls for, keyed by path.
func wanted(cat []ivr.PromptText) map[string]manifest.Entry {
	w := make(map[string]manifest.Entry, 2*len(cat)+1)
	for _, v := range voices {
		for _, p := range cat {
			text := p.RU
			if v.Lang == "en" {
				text = p.EN
			}
			e := manifest.Entry{
				Source: manifest.SourceESpeak,
				Text:   text,
				Voice:  v.Voice,
				Rate:   v.Rate,
				Recipe: speechEffects,
			}
			if s := v.Spell(text); s != text {
				e.Spoken = s
			}
			w[v.Lang+"/"+p.Name+".wav"] = e
		}
	}
	w[holdPath] = manifest.Entry{Source: manifest.SourceSynth, Recipe: holdRecipe()}
	return w
}

// scan returns the SHA-256 of every .wav file under dir, keyed by its
// slash-separated path inside dir.
func scan(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && path == dir {
				return fs.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".wav") {
			return nil
		}
		b, err := os.ReadFile(path) //nolint:gosec // G122: the module's own sounds folder, walked by its developer
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = manifest.Hash(b)
		return nil
	})
	return files, err
}

// writeFile replaces name with b through a temporary file, so that an
// interrupted run leaves the old file rather than half a new one.
func writeFile(name string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil { //nolint:gosec // G301: a folder of the source tree, as readable as the rest of it
		return err
	}
	// A dot file, so that go:embed skips one left behind.
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil { //nolint:gosec // G306: committed audio, as readable as the rest of the tree
		return err
	}
	return os.Rename(tmp, name)
}
