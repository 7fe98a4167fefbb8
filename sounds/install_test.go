package sounds_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds"
)

// every is the path inside an install folder of every file the catalogue
// has: both languages of every prompt, and the hold music.
func every(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	add := func(lang, name string) {
		p, ok := sounds.InstallPath(lang, name)
		b, found := sounds.Bytes(lang, name)
		if !ok || !found {
			t.Fatalf("no file for %q %q", lang, name)
		}
		files[p+".wav"] = b
	}
	for _, p := range ivr.Catalogue() {
		add("ru", p.Name)
		add("en", p.Name)
	}
	add("", sounds.Hold)
	return files
}

func TestInstallPath(t *testing.T) {
	for _, c := range []struct{ lang, name, want string }{
		{"en", "greeting_washington", "en/greeting_washington"},
		{"ru", "greeting_moscow", "ru/greeting_moscow"},
		{"", sounds.Hold, "hold"},
	} {
		if got, ok := sounds.InstallPath(c.lang, c.name); !ok || got != c.want {
			t.Errorf("InstallPath(%q, %q) = %q, %v; want %q", c.lang, c.name, got, ok, c.want)
		}
	}
	for _, c := range [][2]string{{"de", "goodbye"}, {"en", "no_such_prompt"}, {"en", "../hold"}, {"", ""}} {
		if got, ok := sounds.InstallPath(c[0], c[1]); ok {
			t.Errorf("InstallPath(%q, %q) = %q, want none", c[0], c[1], got)
		}
	}
}

// A first install writes every file of the catalogue, readable by others
// (Asterisk's own user), with nothing else left behind but the manifest;
// a second changes nothing and touches no file.
func TestInstallWritesTheCatalogueOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sounds")
	want := every(t)
	if problems, err := sounds.Check(dir); err != nil || len(problems) != len(want) {
		t.Fatalf("Check of a folder not there: %d problems, %v; want %d missing", len(problems), err, len(want))
	}
	done, err := sounds.Install(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(done.Changes) != len(want) || done.Unchanged != 0 {
		t.Errorf("first install: %d changes, %d unchanged; want %d added", len(done.Changes), done.Unchanged, len(want))
	}
	for _, c := range done.Changes {
		if c.Action != sounds.Added {
			t.Errorf("%s: %s, want added", c.Path, c.Action)
		}
	}
	found := map[string]os.FileInfo{}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := d.Info()
		found[filepath.ToSlash(rel)] = fi
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, b := range want {
		fi, ok := found[k]
		if !ok {
			t.Errorf("%s: not installed", k)
			continue
		}
		if got, _ := os.ReadFile(filepath.Join(dir, k)); !bytes.Equal(got, b) {
			t.Errorf("%s: content differs from the catalogue's", k)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want -rw-r--r-- (Asterisk reads it as its own user)", k, fi.Mode().Perm())
		}
		delete(found, k)
	}
	delete(found, sounds.InstallManifest)
	for k := range found {
		t.Errorf("%s: installed but not a file of the catalogue (a temporary file left?)", k)
	}
	if problems, err := sounds.Check(dir); err != nil || len(problems) != 0 {
		t.Errorf("Check after the install: %v, %v; want none", problems, err)
	}

	before := stat(t, dir, "en/greeting_washington.wav", sounds.InstallManifest)
	again, err := sounds.Install(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Changes) != 0 || again.Unchanged != len(want) {
		t.Errorf("second install: %v, %d unchanged; want no change, %d unchanged", again.Changes, again.Unchanged, len(want))
	}
	after := stat(t, dir, "en/greeting_washington.wav", sounds.InstallManifest)
	for i := range before {
		if !os.SameFile(before[i], after[i]) || !before[i].ModTime().Equal(after[i].ModTime()) {
			t.Errorf("%s was rewritten by an install that had nothing to do", before[i].Name())
		}
	}
}

func stat(t *testing.T, dir string, names ...string) []os.FileInfo {
	t.Helper()
	var out []os.FileInfo
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fi)
	}
	return out
}

// A file changed or deleted in the folder is reported by Check and put
// back by Install; files of the operator's own are left alone.
func TestInstallRepairs(t *testing.T) {
	dir := t.TempDir()
	if _, err := sounds.Install(dir); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "ru/goodbye.wav", "not a prompt")
	if err := os.Remove(filepath.Join(dir, "en", "goodbye.wav")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "en/our_own_greeting.wav", "the operator's")
	problems, err := sounds.Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantProblems := []sounds.Problem{{Path: "en/goodbye.wav", Kind: sounds.Missing}, {Path: "ru/goodbye.wav", Kind: sounds.Stale}}
	if !slices.Equal(problems, wantProblems) {
		t.Errorf("Check = %v, want %v", problems, wantProblems)
	}
	done, err := sounds.Install(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := []sounds.Change{{Path: "en/goodbye.wav", Action: sounds.Added}, {Path: "ru/goodbye.wav", Action: sounds.Replaced}}
	if !slices.Equal(done.Changes, wantChanges) {
		t.Errorf("Install changed %v, want %v", done.Changes, wantChanges)
	}
	for _, lang := range []string{"en", "ru"} {
		want, _ := sounds.Bytes(lang, "goodbye")
		if got, _ := os.ReadFile(filepath.Join(dir, lang, "goodbye.wav")); !bytes.Equal(got, want) {
			t.Errorf("%s/goodbye.wav not put back", lang)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "en", "our_own_greeting.wav")); string(got) != "the operator's" {
		t.Errorf("a file Install never wrote was changed: %q", got)
	}
	if problems, err := sounds.Check(dir); err != nil || len(problems) != 0 {
		t.Errorf("Check after the repair: %v, %v", problems, err)
	}
}

// A file Install wrote that left the catalogue (a prompt renamed) is
// removed, unless someone changed it since: then it is kept, and
// forgotten.
func TestInstallRemovesOnlyItsOwn(t *testing.T) {
	dir := t.TempDir()
	if _, err := sounds.Install(dir); err != nil {
		t.Fatal(err)
	}
	// What an older catalogue would have left: two prompts it had, as
	// that install wrote them, one changed since by someone.
	write(t, dir, "en/old_greeting.wav", "old greeting")
	write(t, dir, "ru/old_greeting.wav", "changed by the operator")
	m := readManifest(t, dir)
	m.Files["en/old_greeting.wav"] = sha256hex("old greeting")
	m.Files["ru/old_greeting.wav"] = sha256hex("old greeting in Russian")
	m.Files["en/gone_already.wav"] = sha256hex("deleted by hand")
	writeManifest(t, dir, m)

	problems, err := sounds.Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []sounds.Problem{{Path: "en/old_greeting.wav", Kind: sounds.Obsolete}}; !slices.Equal(problems, want) {
		t.Errorf("Check = %v, want %v", problems, want)
	}
	done, err := sounds.Install(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []sounds.Change{{Path: "en/old_greeting.wav", Action: sounds.Removed}, {Path: "ru/old_greeting.wav", Action: sounds.Kept}}
	if !slices.Equal(done.Changes, want) {
		t.Errorf("Install changed %v, want %v", done.Changes, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "en", "old_greeting.wav")); !os.IsNotExist(err) {
		t.Errorf("en/old_greeting.wav still there (%v)", err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "ru", "old_greeting.wav")); string(got) != "changed by the operator" {
		t.Errorf("ru/old_greeting.wav: %q, want it kept as the operator left it", got)
	}
	for _, k := range []string{"en/old_greeting.wav", "ru/old_greeting.wav", "en/gone_already.wav"} {
		if _, ok := readManifest(t, dir).Files[k]; ok {
			t.Errorf("%s still in the manifest", k)
		}
	}
	if again, err := sounds.Install(dir); err != nil || len(again.Changes) != 0 {
		t.Errorf("the install after: %v, %v; want no change", again.Changes, err)
	}
}

// A manifest naming a file outside the folder is refused, and nothing is
// removed.
func TestInstallRefusesAManifestLeadingOut(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "sounds")
	if _, err := sounds.Install(dir); err != nil {
		t.Fatal(err)
	}
	write(t, parent, "precious.wav", "precious")
	m := readManifest(t, dir)
	m.Files["../precious.wav"] = sha256hex("precious")
	writeManifest(t, dir, m)
	_, err := sounds.Install(dir)
	if err == nil || !strings.Contains(err.Error(), `"../precious.wav" is not the path of a .wav file inside the folder`) {
		t.Errorf("Install: %v, want the manifest entry refused", err)
	}
	if _, err := sounds.Check(dir); err == nil {
		t.Error("Check accepted the manifest")
	}
	if got, _ := os.ReadFile(filepath.Join(parent, "precious.wav")); string(got) != "precious" {
		t.Error("a file outside the folder was removed")
	}
}

type manifest struct {
	Comment string            `json:"comment"`
	Files   map[string]string `json:"files"`
}

func readManifest(t *testing.T, dir string) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, sounds.InstallManifest))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeManifest(t *testing.T, dir string, m manifest) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, sounds.InstallManifest, string(b))
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The temporary file of an install that crashed is removed by the next
// one once it is an hour old; a younger one (another install writing it
// now) and files of other names are left alone.
func TestInstallRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	if _, err := sounds.Install(dir); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "en/.goodbye.wav.tmp-0123456789ab", "half a prompt")
	write(t, dir, "..ivr-sounds.json.tmp-ba9876543210", "half a manifest")
	write(t, dir, "ru/.goodbye.wav.tmp-00112233aabb", "being written")
	write(t, dir, "en/.our-notes.tmp-0123456789ab", "the operator's")
	write(t, dir, "en/.our_own.wav.tmp-0123456789ab", "the operator's too")
	old := time.Now().Add(-2 * time.Hour)
	for _, f := range []string{"en/.goodbye.wav.tmp-0123456789ab", "..ivr-sounds.json.tmp-ba9876543210", "en/.our-notes.tmp-0123456789ab", "en/.our_own.wav.tmp-0123456789ab"} {
		if err := os.Chtimes(filepath.Join(dir, f), old, old); err != nil {
			t.Fatal(err)
		}
	}
	if done, err := sounds.Install(dir); err != nil || len(done.Changes) != 0 {
		t.Fatalf("Install: %v, %v", done.Changes, err)
	}
	for f, kept := range map[string]bool{
		"en/.goodbye.wav.tmp-0123456789ab":   false,
		"..ivr-sounds.json.tmp-ba9876543210": false,
		"ru/.goodbye.wav.tmp-00112233aabb":   true,
		"en/.our-notes.tmp-0123456789ab":     true,
		"en/.our_own.wav.tmp-0123456789ab":   true,
	} {
		_, err := os.Stat(filepath.Join(dir, f))
		if there := err == nil; there != kept {
			t.Errorf("%s: there %v, want %v", f, there, kept)
		}
	}
}
