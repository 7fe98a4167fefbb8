package spool

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Whatever bytes the file holds (a crash, a disk error, another program),
// Open neither panics nor hands over a record that was not appended whole:
// every record a replay hands over is one encoded in full, and what is
// appended afterwards is read back after a restart.
func FuzzOpen(f *testing.F) {
	good := append(encode(kindEntry, "CA1/call", []byte("one")), encode(kindEntry, "CA2/recording", []byte("two"))...)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(append([]byte(nil), good...), 0, 0, 0, 9, 1))
	f.Add(append(encode(kindEntry, "k", []byte("v")), encode(kindDone, "k", make([]byte, 8))...))
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), content, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Replay(context.Background(), func(_ context.Context, key string, data []byte) error {
			if !bytes.Contains(content, encode(kindEntry, key, data)) {
				t.Fatalf("replayed %q=%q, which is not a whole record of the file", key, data)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Append("after", []byte("restart")); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		s, err = Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if data, ok, err := s.Get("after"); err != nil || !ok || string(data) != "restart" {
			t.Fatalf("the record appended after opening is lost: %q %v %v", data, ok, err)
		}
	})
}
