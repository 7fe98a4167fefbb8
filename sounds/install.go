package sounds

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// InstallManifest is the file Install keeps in the folder it installs
// into: the files it wrote there and their SHA-256, so that a later
// Install removes only files of its own once they leave the catalogue.
const InstallManifest = ".ivr-sounds.json"

// Modes of what Install writes. Asterisk reads the files as a user of its
// own (asterisk), usually not the one that installs them, so they are
// world-readable; they hold only the prompts the binary carries anyway.
const (
	installFileMode = 0o644
	installDirMode  = 0o755
)

// InstallPath is where Install puts the file of prompt name in language
// lang (the hold music: lang "", name Hold), relative to the folder and
// without the .wav extension, as Asterisk's sound: media URI wants it:
// "en/greeting_washington", "hold". A driver plays MediaURI. False if the catalogue has no such
// file.
func InstallPath(lang, name string) (string, bool) {
	_, k, ok := lookup(lang, name)
	if !ok {
		return "", false
	}
	return strings.TrimSuffix(k, ".wav"), true
}

// MediaURI is the ARI media URI that plays prompt name in language lang
// from dir, the folder Install wrote (as Asterisk sees it):
// "sound:" + dir + "/" + InstallPath. False if the catalogue has no such
// file.
func MediaURI(dir, lang, name string) (string, bool) {
	rel, ok := InstallPath(lang, name)
	if !ok {
		return "", false
	}
	return "sound:" + path.Join(dir, rel), true
}

// Action is what Install did to one file.
type Action string

// What Install does to a file.
const (
	// Added: the file was not there.
	Added Action = "added"
	// Replaced: the file was there with other content.
	Replaced Action = "replaced"
	// Removed: a file Install wrote once, no longer in the catalogue.
	Removed Action = "removed"
	// Kept: a file Install wrote once, no longer in the catalogue, but
	// changed since: someone else's now, so left where it is and
	// forgotten.
	Kept Action = "kept"
)

// Change is one file Install changed, or chose not to.
type Change struct {
	// Path is the file's path inside the folder, such as "en/goodbye.wav".
	Path   string
	Action Action
}

// Installed is what Install did.
type Installed struct {
	// Changes are the files added, replaced, removed or kept, in path
	// order.
	Changes []Change
	// Unchanged counts the catalogue's files that were already there as
	// they are.
	Unchanged int
}

// Problem kinds Check reports.
const (
	// Missing: a file of the catalogue is not in the folder.
	Missing = "missing"
	// Stale: a file of the catalogue is in the folder with other content.
	Stale = "stale"
	// Obsolete: a file Install wrote once is still there, no longer in
	// the catalogue.
	Obsolete = "obsolete"
)

// Problem is a file of the folder that differs from the catalogue.
type Problem struct {
	Path string
	Kind string // Missing, Stale or Obsolete
}

func (p Problem) String() string { return p.Path + ": " + p.Kind }

// installManifest is InstallManifest's content.
type installManifest struct {
	Comment string            `json:"comment"`
	Files   map[string]string `json:"files"` // path → hex SHA-256 of what was written
}

const installComment = "Written by ivr asterisk sounds: the files it installed here. " +
	"It removes a file listed here once the file leaves the catalogue, and leaves every other file alone."

// Install writes the whole catalogue (every prompt in every language and
// the hold music) into the folder dir, which it creates if need be, in
// the layout InstallPath names: dir/<lang>/<name>.wav and dir/hold.wav.
// Each file is written to a temporary file beside it, synced and renamed
// over the old one, so that Asterisk never reads half a prompt; a file
// already there with the same content is not touched. Files listed in
// dir's InstallManifest that left the catalogue are removed if they are
// still as written, and kept (and forgotten) if someone changed them;
// files Install never wrote are left alone, but for the temporary files
// of an install that crashed, once an hour old. Everything is done inside
// dir: a path that would lead out of it (a symbolic link, a manifest
// entry with "..") is an error.
func Install(dir string) (Installed, error) {
	var done Installed
	if err := os.MkdirAll(dir, installDirMode); err != nil {
		return done, fmt.Errorf("sounds: install into %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return done, fmt.Errorf("sounds: install into %s: %w", dir, err)
	}
	defer func() { _ = root.Close() }() // only read-only handles are left to close
	old, err := readInstallManifest(root)
	if err != nil {
		return done, fmt.Errorf("sounds: install into %s: %w", dir, err)
	}
	state, err := compare(root, old)
	if err != nil {
		return done, fmt.Errorf("sounds: install into %s: %w", dir, err)
	}
	files := index()
	next := map[string]string{}
	for k, f := range files {
		next[k] = hashOf(f.data)
	}
	// Record what is about to be written before writing it, so that a
	// file of ours is never there unlisted, even after a crash midway.
	if len(state.write) > 0 {
		pending := maps.Clone(old.Files)
		maps.Copy(pending, next)
		if err := writeInstallManifest(root, pending); err != nil {
			return done, fmt.Errorf("sounds: install into %s: %w", dir, err)
		}
	}
	dirs := map[string]bool{}
	for _, k := range state.write {
		if err := writeAtomic(root, k, []byte(files[k].data)); err != nil {
			return done, fmt.Errorf("sounds: install into %s: %w", dir, err)
		}
		dirs[path.Dir(k)] = true
		a := Added
		if state.stale[k] {
			a = Replaced
		}
		done.Changes = append(done.Changes, Change{Path: k, Action: a})
	}
	for _, k := range state.obsolete {
		if err := root.Remove(k); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return done, fmt.Errorf("sounds: install into %s: remove %s: %w", dir, k, err)
		}
		dirs[path.Dir(k)] = true
		done.Changes = append(done.Changes, Change{Path: k, Action: Removed})
	}
	for _, k := range state.changedByOthers {
		done.Changes = append(done.Changes, Change{Path: k, Action: Kept})
	}
	done.Unchanged = len(files) - len(state.write)
	if len(state.write) > 0 || len(state.obsolete) > 0 || len(state.changedByOthers) > 0 || !old.equal(next) {
		if err := writeInstallManifest(root, next); err != nil {
			return done, fmt.Errorf("sounds: install into %s: %w", dir, err)
		}
		dirs["."] = true
	}
	if err := removeLeftovers(root, time.Now().Add(-leftoverAge)); err != nil {
		return done, fmt.Errorf("sounds: install into %s: %w", dir, err)
	}
	for d := range dirs {
		if err := syncDir(root, d); err != nil {
			return done, fmt.Errorf("sounds: install into %s: %w", dir, err)
		}
	}
	slices.SortFunc(done.Changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return done, nil
}

// Check compares the folder dir with the catalogue without changing it:
// the catalogue's files missing there or there with other content, and
// files Install wrote that left the catalogue, in path order. None means
// Install would write or remove nothing.
func Check(dir string) ([]Problem, error) {
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		var all []Problem
		for k := range index() {
			all = append(all, Problem{Path: k, Kind: Missing})
		}
		slices.SortFunc(all, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
		return all, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sounds: check %s: %w", dir, err)
	}
	defer func() { _ = root.Close() }() // opened to read only
	old, err := readInstallManifest(root)
	if err != nil {
		return nil, fmt.Errorf("sounds: check %s: %w", dir, err)
	}
	state, err := compare(root, old)
	if err != nil {
		return nil, fmt.Errorf("sounds: check %s: %w", dir, err)
	}
	var problems []Problem
	for _, k := range state.write {
		kind := Missing
		if state.stale[k] {
			kind = Stale
		}
		problems = append(problems, Problem{Path: k, Kind: kind})
	}
	for _, k := range state.obsolete {
		problems = append(problems, Problem{Path: k, Kind: Obsolete})
	}
	slices.SortFunc(problems, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
	return problems, nil
}

// folderState is how a folder differs from the catalogue.
type folderState struct {
	write           []string        // catalogue files missing or stale, sorted
	stale           map[string]bool // those of write that are there with other content
	obsolete        []string        // ours, out of the catalogue, still as written
	changedByOthers []string        // ours, out of the catalogue, changed since
}

func compare(root *os.Root, old installManifest) (folderState, error) {
	st := folderState{stale: map[string]bool{}}
	files := index()
	for _, k := range sortedKeys(files) {
		have, err := root.ReadFile(k)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st.write = append(st.write, k)
		case err != nil:
			return st, err
		case !bytes.Equal(have, []byte(files[k].data)):
			st.write = append(st.write, k)
			st.stale[k] = true
		}
	}
	for _, k := range sortedKeys(old.Files) {
		if _, ok := files[k]; ok {
			continue
		}
		have, err := root.ReadFile(k)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return st, err
		case hashOf(string(have)) == old.Files[k]:
			st.obsolete = append(st.obsolete, k)
		default:
			st.changedByOthers = append(st.changedByOthers, k)
		}
	}
	return st, nil
}

// readInstallManifest reads the folder's manifest; an empty one if there
// is none. An entry that is not a .wav path inside the folder is refused:
// Install removes what the manifest lists.
func readInstallManifest(root *os.Root) (installManifest, error) {
	m := installManifest{Files: map[string]string{}}
	b, err := root.ReadFile(InstallManifest)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w (delete it to start afresh: files it listed are then left alone)", InstallManifest, err)
	}
	if m.Files == nil {
		m.Files = map[string]string{}
	}
	for k := range m.Files {
		if !fs.ValidPath(k) || path.Ext(k) != ".wav" {
			return m, fmt.Errorf("%s: files: %q is not the path of a .wav file inside the folder", InstallManifest, k)
		}
	}
	return m, nil
}

func (m installManifest) equal(files map[string]string) bool { return maps.Equal(m.Files, files) }

func writeInstallManifest(root *os.Root, files map[string]string) error {
	b, err := json.MarshalIndent(installManifest{Comment: installComment, Files: files}, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(root, InstallManifest, append(b, '\n'))
}

// writeAtomic writes data to name inside root through a temporary file
// beside it: written, synced, made readable and renamed over name.
func writeAtomic(root *os.Root, name string, data []byte) error {
	if d := path.Dir(name); d != "." {
		if err := root.MkdirAll(d, installDirMode); err != nil {
			return err
		}
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+".tmp-"+hex.EncodeToString(suffix))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, installFileMode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// The umask may have taken the others' read bit: Asterisk needs it.
		err = root.Chmod(tmp, installFileMode)
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err != nil {
		_ = root.Remove(tmp) // the error that matters is err
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// leftoverAge is how old a temporary file of writeAtomic must be before
// Install takes it for the leftover of an install that crashed, not the
// file another install is writing right now.
const leftoverAge = time.Hour

// leftover is the name writeAtomic gives its temporary files: a dot, the
// file's name, a random suffix.
var leftover = regexp.MustCompile(`^\.(.+)\.tmp-[0-9a-f]{12}$`)

// removeLeftovers removes the temporary files writeAtomic made for a file
// of the catalogue or the manifest that are older than before.
func removeLeftovers(root *os.Root, before time.Time) error {
	folders := map[string]bool{".": true}
	for k := range index() {
		folders[path.Dir(k)] = true
	}
	for _, d := range sortedKeys(folders) {
		f, err := root.Open(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		entries, err := f.ReadDir(-1)
		_ = f.Close() // opened to read only
		if err != nil {
			return err
		}
		for _, e := range entries {
			m := leftover.FindStringSubmatch(e.Name())
			if !e.Type().IsRegular() || m == nil {
				continue
			}
			if _, ours := index()[path.Join(d, m[1])]; !ours && path.Join(d, m[1]) != InstallManifest {
				continue
			}
			info, err := e.Info()
			if err != nil || !info.ModTime().Before(before) {
				continue // gone meanwhile, or being written
			}
			if err := root.Remove(path.Join(d, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// syncDir syncs a folder inside root, so that the renames in it survive a
// crash of the machine.
func syncDir(root *os.Root, name string) error {
	d, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	return nil
}

func hashOf(data string) string {
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:])
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
