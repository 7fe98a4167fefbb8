// Package sounds owns the recorded prompts of the call flow and the hold
// music: every prompt of ivr.Catalogue in Russian and in English, and a
// hold-music loop, as 8 kHz mono 16-bit PCM WAV files embedded in the
// binary with go:embed. The Twilio webhooks play them by URL from Handler;
// the Asterisk driver takes them with Open or Bytes.
//
// The audio is generated, not hand-made: go generate ./sounds/ renders the
// prompts with espeak-ng and sox and synthesises the hold music
// (internal/gen); audio/manifest.json records the text each file was made
// from, and the tests fail when that no longer matches the catalogue.
// README.md says how to regenerate, and how to put studio recordings in
// place of the synthetic voice.
//
// Files are addressed by language ("ru", "en") and prompt name, and the
// hold music by Hold with no language; HoldSegments cuts the hold music
// into pieces a driver plays one per wait request. WAV files are read,
// written and cut by the wav subpackage, the project's one WAV reader. The
// package imports only the standard library and its own packages; the
// domain packages (ivr, oncall) do not import it.
package sounds

//go:generate go run ./internal/gen

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/supportdesk/ivr/sounds/wav"
)

// Hold is the name of the hold music, which has no language:
// Open("", Hold), served at /sounds/hold.wav. It is a loop of 20 to 30
// seconds, meant to be played over and over.
const Hold = "hold"

// MountPath is where Handler expects to be mounted.
const MountPath = "/sounds/"

//go:embed audio
var audio embed.FS

// file is one embedded WAV file.
type file struct {
	data    string        // the whole file
	version string        // the first 16 hex digits of its SHA-256
	length  time.Duration // how long it plays, 0 if the header cannot be read
}

// index holds every embedded WAV file by its path inside audio/, such as
// "ru/goodbye.wav" or "hold.wav".
var index = sync.OnceValue(func() map[string]file {
	files := map[string]file{}
	err := fs.WalkDir(audio, "audio", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".wav" {
			return err
		}
		b, err := audio.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := file{data: string(b), version: hex.EncodeToString(sum[:8])}
		if info, err := wav.Parse(b); err == nil {
			f.length = info.Duration()
		}
		files[strings.TrimPrefix(p, "audio/")] = f
		return nil
	})
	if err != nil {
		// An embed.FS is in memory; walking it cannot fail.
		panic("sounds: walking the embedded audio: " + err.Error())
	}
	return files
})

// key is the path inside audio/ of the file lang and name address, or ""
// if they cannot address one.
func key(lang, name string) string {
	if name == "" || strings.Contains(name, "/") || strings.Contains(lang, "/") {
		return ""
	}
	if lang == "" {
		return name + ".wav"
	}
	return lang + "/" + name + ".wav"
}

func lookup(lang, name string) (file, string, bool) {
	k := key(lang, name)
	f, ok := index()[k]
	return f, k, ok
}

// Open opens the WAV file of prompt name in language lang ("ru" or "en"),
// or the hold music with Open("", Hold). The error for anything unknown
// is an *fs.PathError wrapping fs.ErrNotExist.
func Open(lang, name string) (fs.File, error) {
	_, k, ok := lookup(lang, name)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: lang + "/" + name, Err: fs.ErrNotExist}
	}
	return audio.Open("audio/" + k)
}

// Bytes returns a copy of the WAV file of prompt name in language lang, or
// of the hold music with Bytes("", Hold); false if there is none.
func Bytes(lang, name string) ([]byte, bool) {
	f, _, ok := lookup(lang, name)
	if !ok {
		return nil, false
	}
	return []byte(f.data), true
}

// Duration is how long the prompt (or the hold music) plays, read from its
// WAV header; 0 if there is no such file.
func Duration(lang, name string) time.Duration {
	f, _, _ := lookup(lang, name)
	return f.length
}

// URLPath is the path Handler serves the file at, with the content's
// version in the query so that a cache can keep it for good:
// "/sounds/ru/goodbye.wav?v=1f2e3d4c5b6a7988". Prefix it with the
// service's public base URL for Twilio's <Play>. False if there is no such
// file (a driver may then fall back to text-to-speech of ivr.Text).
func URLPath(lang, name string) (string, bool) {
	f, k, ok := lookup(lang, name)
	if !ok {
		return "", false
	}
	return MountPath + k + "?v=" + f.version, true
}
