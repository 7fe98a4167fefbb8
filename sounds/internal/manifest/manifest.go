// Package manifest reads and writes sounds/audio/manifest.json, the record
// of where every audio file came from: the exact text and voice a prompt was
// rendered from, or that it is a studio recording the generator must leave
// alone.
package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// File is the manifest's name inside the audio directory.
const File = "manifest.json"

// Sources of an audio file.
const (
	// SourceESpeak is a prompt rendered by the generator with espeak-ng.
	SourceESpeak = "espeak-ng"
	// SourceSynth is audio synthesised by the generator with sox (the hold
	// music).
	SourceSynth = "sox-synth"
	// SourceRecorded is audio put in place by hand (a studio recording). The
	// generator never renders, overwrites or deletes it.
	SourceRecorded = "recorded"
)

// Manifest lists every audio file under the audio directory.
type Manifest struct {
	Comment string `json:"comment,omitempty"`
	Format  string `json:"format,omitempty"`
	// Files is keyed by the path inside the audio directory, such as
	// "ru/goodbye.wav" or "hold.wav".
	Files map[string]Entry `json:"files"`
}

// Entry says where one audio file came from.
type Entry struct {
	Source string `json:"source"`
	// Text is what the prompt says: the catalogue's text, exactly. Empty for
	// the hold music.
	Text string `json:"text,omitempty"`
	// Spoken is what espeak-ng was given when it differs from Text (a
	// pronunciation spelled out, such as "24/7").
	Spoken string `json:"spoken,omitempty"`
	// Voice and Rate (words per minute) are espeak-ng's -v and -s.
	Voice string `json:"voice,omitempty"`
	Rate  int    `json:"rate,omitempty"`
	// Recipe is how the file was made besides the voice: the sox effects
	// applied to espeak-ng's output, or what the hold music is made of.
	Recipe string `json:"recipe,omitempty"`
	// Tools are the versions of the programs that made the file.
	Tools string `json:"tools,omitempty"`
	// SHA256 is the hex SHA-256 of the file as written. Optional for
	// recordings; when present it must match.
	SHA256 string `json:"sha256,omitempty"`
	// Note is free text, for recordings (who recorded it, when).
	Note string `json:"note,omitempty"`
}

// Parse reads a manifest.
func Parse(b []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Files == nil {
		m.Files = map[string]Entry{}
	}
	return &m, nil
}

// Marshal writes m as indented JSON with its files in path order, text left
// unescaped so that the Russian stays readable in review.
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// Hash is the SHA256 an Entry records for the file content b.
func Hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
