package sounds

import (
	"path"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/sounds/internal/manifest"
	"github.com/supportdesk/ivr/sounds/wav"
)

// These tests check the committed audio against the catalogue. They need
// neither espeak-ng nor sox.

const regenerate = "run go generate ./sounds/ (see sounds/README.md)"

// Limits on how long a file may play: prompts are sentences, digits are
// read back one after another, and the hold music is a loop.
const (
	maxPrompt   = 15 * time.Second
	maxDigit    = 1500 * time.Millisecond
	minHold     = 10 * time.Second
	maxHold     = 40 * time.Second
	sampleRate  = 8000
	bitsPerSamp = 16
)

// catalogueFiles is the path inside audio/ and the text of every prompt of
// the catalogue in every language.
func catalogueFiles() map[string]string {
	files := map[string]string{}
	for _, p := range ivr.Catalogue() {
		files[string(oncall.Russian)+"/"+p.Name+".wav"] = p.RU
		files[string(oncall.English)+"/"+p.Name+".wav"] = p.EN
	}
	return files
}

func readManifest(t *testing.T) *manifest.Manifest {
	t.Helper()
	b, err := audio.ReadFile("audio/" + manifest.File)
	if err != nil {
		t.Fatalf("no manifest: %v; %s", err, regenerate)
	}
	m, err := manifest.Parse(b)
	if err != nil {
		t.Fatalf("%v; %s", err, regenerate)
	}
	return m
}

func TestEveryPromptHasAudio(t *testing.T) {
	for _, p := range ivr.Catalogue() {
		for _, lang := range []oncall.Language{oncall.Russian, oncall.English} {
			if _, ok := Bytes(string(lang), p.Name); !ok {
				t.Errorf("no audio for prompt %s in %s; %s", p.Name, lang, regenerate)
			}
		}
	}
	if _, ok := Bytes("", Hold); !ok {
		t.Errorf("no hold music; %s", regenerate)
	}
}

func TestAudioFormat(t *testing.T) {
	if len(index()) == 0 {
		t.Fatal("no audio embedded")
	}
	for k, f := range index() {
		info, err := wav.Parse([]byte(f.data))
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if info.Format != wav.FormatPCM || info.SampleRate != sampleRate || info.Channels != 1 || info.BitsPerSample != bitsPerSamp {
			t.Errorf("%s: format %d, %d Hz, %d channels, %d bits; want PCM (1), 8000 Hz, mono, 16 bits",
				k, info.Format, info.SampleRate, info.Channels, info.BitsPerSample)
		}
		if info.DataBytes == 0 {
			t.Errorf("%s: no audio data", k)
		}
		if f.length != info.Duration() {
			t.Errorf("%s: indexed length %v, header says %v", k, f.length, info.Duration())
		}
		max := maxPrompt
		switch {
		case k == Hold+".wav":
			max = maxHold
			if f.length < minHold {
				t.Errorf("%s plays %v, want at least %v for a loop", k, f.length, minHold)
			}
		case strings.HasPrefix(path.Base(k), "digit_"):
			max = maxDigit
		}
		if f.length > max {
			t.Errorf("%s plays %v, want at most %v", k, f.length, max)
		}
	}
}

// TestManifestMatchesCatalogue is what catches a prompt whose wording
// changed in ivr/prompts.go while its audio still says the old words.
func TestManifestMatchesCatalogue(t *testing.T) {
	m := readManifest(t)
	for k, text := range catalogueFiles() {
		e, ok := m.Files[k]
		switch {
		case !ok:
			t.Errorf("%s: not in the manifest; %s", k, regenerate)
		case e.Text != text:
			if e.Source == manifest.SourceRecorded {
				t.Errorf("%s: the recording says %q but the catalogue says %q; re-record it, or delete its manifest entry and %s",
					k, e.Text, text, regenerate)
			} else {
				t.Errorf("%s: the audio says %q but the catalogue says %q; %s", k, e.Text, text, regenerate)
			}
		}
		switch e.Source {
		case manifest.SourceESpeak:
			if e.Voice == "" || e.Rate <= 0 || e.Recipe == "" {
				t.Errorf("%s: rendered by espeak-ng with no voice, rate or recipe recorded: %+v", k, e)
			}
		case manifest.SourceRecorded:
		default:
			if ok {
				t.Errorf("%s: source %q, want %q or %q", k, e.Source, manifest.SourceESpeak, manifest.SourceRecorded)
			}
		}
	}
	if e := m.Files[Hold+".wav"]; e.Source != manifest.SourceSynth && e.Source != manifest.SourceRecorded {
		t.Errorf("hold.wav: source %q, want %q or %q; %s", e.Source, manifest.SourceSynth, manifest.SourceRecorded, regenerate)
	}
}

// TestManifestMatchesFiles checks that the manifest and the embedded files
// list the same files, with the same content.
func TestManifestMatchesFiles(t *testing.T) {
	m := readManifest(t)
	want := catalogueFiles()
	want[Hold+".wav"] = ""
	for k, e := range m.Files {
		f, ok := index()[k]
		if !ok {
			t.Errorf("%s: in the manifest but not in sounds/audio; %s", k, regenerate)
			continue
		}
		if e.SHA256 != "" && e.SHA256 != manifest.Hash([]byte(f.data)) {
			t.Errorf("%s: content differs from the manifest's sha256: if it is a recording, mark it source %q in the manifest (see sounds/README.md), otherwise %s",
				k, manifest.SourceRecorded, regenerate)
		}
		if e.Source != manifest.SourceRecorded && e.SHA256 == "" {
			t.Errorf("%s: generated, but the manifest records no sha256; %s", k, regenerate)
		}
	}
	for k := range index() {
		if _, ok := m.Files[k]; !ok {
			t.Errorf("%s: not in the manifest: a recording needs an entry with source %q (see sounds/README.md)", k, manifest.SourceRecorded)
		}
		if _, ok := want[k]; !ok {
			t.Errorf("%s: not a prompt of the catalogue; %s to remove it", k, regenerate)
		}
	}
}
