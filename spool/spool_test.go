package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

func mustOpen(t *testing.T, dir string) *Spool {
	t.Helper()
	s, err := Open(dir, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustAppend(t *testing.T, s *Spool, key, data string) {
	t.Helper()
	if err := s.Append(key, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

// replayAll replays s, collecting what it was handed.
func replayAll(t *testing.T, s *Spool) (map[string]string, int) {
	t.Helper()
	got := map[string]string{}
	left, err := s.Replay(context.Background(), func(_ context.Context, key string, data []byte) error {
		got[key] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, left
}

// What is appended survives closing and reopening (a restart), and is
// handed over by a replay with its data.
func TestAppendSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s := mustOpen(t, dir)
	mustAppend(t, s, "CA1/call", `{"from":"+1202"}`)
	mustAppend(t, s, "CA1/recording", strings.Repeat("a", 100_000))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir)
	if data, ok, err := s.Get("CA1/call"); err != nil || !ok || string(data) != `{"from":"+1202"}` {
		t.Fatalf("Get after restart = %q %v %v", data, ok, err)
	}
	got, left := replayAll(t, s)
	if len(got) != 2 || len(got["CA1/recording"]) != 100_000 || left != 0 {
		t.Fatalf("replayed %d records (left %d), want both", len(got), left)
	}
}

// The spool's directory and file are the service user's only: they hold
// callers' numbers and voicemails.
func TestFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	dir := filepath.Join(t.TempDir(), "spool")
	s := mustOpen(t, dir)
	mustAppend(t, s, "k", "v")
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
}

// A crash while a record was being written leaves part of it at the end:
// it is dropped, never read as a record, and what is appended next is
// read after the next restart.
func TestTornLastRecordIsIgnored(t *testing.T) {
	for name, tail := range map[string]func() []byte{
		"half a frame":    func() []byte { f := encode(kindEntry, "CA3/call", []byte("torn")); return f[:len(f)/2] },
		"a short header":  func() []byte { return []byte{0, 0, 0} },
		"zeros":           func() []byte { return make([]byte, 4096) },
		"a bad checksum":  func() []byte { f := encode(kindEntry, "CA3/call", []byte("torn")); f[len(f)-1] ^= 0xff; return f },
		"a huge length":   func() []byte { return []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5} },
		"an empty record": func() []byte { return make([]byte, headerSize) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir)
			mustAppend(t, s, "CA1/call", "one")
			mustAppend(t, s, "CA2/call", "two")
			good := s.Size()
			_ = s.Close()
			appendRaw(t, filepath.Join(dir, FileName), tail())

			s = mustOpen(t, dir)
			if s.Pending() != 2 || s.Size() != good {
				t.Fatalf("after the torn write: %d pending, %d bytes; want 2 records in %d bytes", s.Pending(), s.Size(), good)
			}
			mustAppend(t, s, "CA4/call", "four")
			_ = s.Close()
			s = mustOpen(t, dir)
			got, _ := replayAll(t, s)
			if len(got) != 3 || got["CA1/call"] != "one" || got["CA2/call"] != "two" || got["CA4/call"] != "four" {
				t.Fatalf("replayed %v; want the two records before the torn one and the one after", got)
			}
		})
	}
}

// A damaged record with good ones after it is not a torn write: the file
// is copied aside for a person to look at, and said so in the log, before
// it is cut.
func TestDamagedRecordIsCopiedAside(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	mustAppend(t, s, "CA1/call", "one")
	mustAppend(t, s, "CA2/call", "two")
	_ = s.Close()
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[headerSize+2] ^= 0xff // inside the first record's payload
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.ErrorLevel)
	s, err = Open(dir, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Pending() != 0 {
		t.Fatalf("%d pending; a damaged record and what follows it must not be read", s.Pending())
	}
	aside, _ := filepath.Glob(path + ".damaged-*")
	if len(aside) != 1 || logs.Len() != 1 {
		t.Fatalf("copies aside %v, error logs %d; want one of each", aside, logs.Len())
	}
	if kept, _ := os.ReadFile(aside[0]); string(kept) != string(b) {
		t.Fatal("the copy aside is not the damaged file")
	}
}

func appendRaw(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// syncLog records what was synced, and fails while failing is set.
type syncLog struct {
	mu      sync.Mutex
	synced  []string
	failing bool
}

func (l *syncLog) sync(f *os.File) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failing {
		return errors.New("disk gone")
	}
	l.synced = append(l.synced, f.Name())
	return f.Sync()
}

func (l *syncLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.synced
	l.synced = nil
	return s
}

// Append returns only once the record is synced: the file, and on
// creation the directories that name it. A sync that fails is an error,
// and the record is not kept.
func TestAppendSyncs(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "spool")
	var l syncLog
	s, err := open(dir, zaptest.NewLogger(t), l.sync)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	file := filepath.Join(dir, FileName)
	if got := l.take(); fmt.Sprint(got) != fmt.Sprint([]string{parent, dir}) {
		t.Fatalf("synced on creation %v; want the new directory's parent, then the directory", got)
	}
	mustAppend(t, s, "CA1/call", "one")
	if got := l.take(); fmt.Sprint(got) != fmt.Sprint([]string{file}) {
		t.Fatalf("synced on append %v; want the file", got)
	}
	l.failing = true
	if err := s.Append("CA2/call", []byte("two")); err == nil {
		t.Fatal("Append succeeded while sync failed")
	}
	l.failing = false
	if _, ok, _ := s.Get("CA2/call"); ok || s.Pending() != 1 {
		t.Fatalf("a record whose sync failed is pending (%d pending)", s.Pending())
	}
	_ = s.Close()
	s = mustOpen(t, dir)
	if got, _ := replayAll(t, s); len(got) != 1 || got["CA1/call"] != "one" {
		t.Fatalf("after restart %v; want only the synced record", got)
	}
	// Reopening an existing file syncs nothing new.
	_ = s.Close()
	s, err = open(dir, zaptest.NewLogger(t), l.sync)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if got := l.take(); len(got) != 0 {
		t.Fatalf("synced %v on reopening; want nothing", got)
	}
}

// A replay marks done only what succeeded: after a restart (a crash
// mid-replay) the records already replayed are not handed over again,
// and the failed one is.
func TestReplayIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	for _, k := range []string{"CA1/call", "CA1/recording", "CA2/call"} {
		mustAppend(t, s, k, k)
	}
	var order []string
	left, err := s.Replay(context.Background(), func(_ context.Context, key string, _ []byte) error {
		order = append(order, key)
		if key == "CA1/recording" {
			return errors.New("store down")
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "CA1/recording") || left != 1 {
		t.Fatalf("replay: left %d, err %v; want the failed record named and left", left, err)
	}
	if fmt.Sprint(order) != "[CA1/call CA1/recording CA2/call]" {
		t.Fatalf("replayed in order %v; want the order appended", order)
	}
	_ = s.Close()
	s = mustOpen(t, dir)
	got, left := replayAll(t, s)
	if len(got) != 1 || got["CA1/recording"] != "CA1/recording" || left != 0 {
		t.Fatalf("after restart replayed %v (left %d); want only the one that failed", got, left)
	}
	if got, _ := replayAll(t, s); len(got) != 0 {
		t.Fatalf("a third replay handed over %v; want nothing", got)
	}
}

// A record appended again for a key while its first was being replayed
// (Twilio repeating a callback) stays pending, with its new data.
func TestAppendedDuringReplayStays(t *testing.T) {
	s := mustOpen(t, t.TempDir())
	mustAppend(t, s, "CA1/recording", "first")
	_, err := s.Replay(context.Background(), func(_ context.Context, key string, _ []byte) error {
		return s.Append(key, []byte("again"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if data, ok, _ := s.Get("CA1/recording"); !ok || string(data) != "again" {
		t.Fatalf("Get = %q %v; want the record appended during the replay", data, ok)
	}
	select {
	case <-s.Appended():
	default:
		t.Fatal("no signal after Append")
	}
}

// Once everything is replayed the file is emptied; while anything is
// left, nothing is dropped.
func TestCompaction(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	mustAppend(t, s, "CA1/call", "one")
	mustAppend(t, s, "CA2/call", "two")
	fail := true
	apply := func(_ context.Context, key string, _ []byte) error {
		if key == "CA2/call" && fail {
			return errors.New("store down")
		}
		return nil
	}
	if left, _ := s.Replay(context.Background(), apply); left != 1 || s.Size() == 0 {
		t.Fatalf("left %d, %d bytes; want one record kept", left, s.Size())
	}
	fail = false
	if left, err := s.Replay(context.Background(), apply); left != 0 || err != nil {
		t.Fatalf("left %d, %v", left, err)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || st.Size() != 0 || s.Size() != 0 {
		t.Fatalf("after everything was replayed the file has %d bytes (%v); want none", st.Size(), err)
	}
	mustAppend(t, s, "CA3/call", "three")
	_ = s.Close()
	s = mustOpen(t, dir)
	if got, _ := replayAll(t, s); len(got) != 1 || got["CA3/call"] != "three" {
		t.Fatalf("after compaction and restart replayed %v; want the record appended since", got)
	}
}

// Two processes (or two Opens) on one spool would lose each other's
// records when one compacts: the second is refused, naming the way out.
func TestSecondOpenRefused(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && !strings.HasSuffix(runtime.GOOS, "bsd") {
		t.Skip("flock only on unix")
	}
	dir := t.TempDir()
	s := mustOpen(t, dir)
	if _, err := Open(dir, nil); err == nil || !strings.Contains(err.Error(), "its own spool directory") {
		t.Fatalf("second Open: %v; want refused", err)
	}
	_ = s.Close()
	mustOpen(t, dir)
}
