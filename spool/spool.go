// Package spool owns a local, append-only file of records that must outlive
// an unreachable store: each record is synced to disk before Append
// returns, and replayed later, each marked done only once its replay
// succeeded. It owns the file's format, its lock and its compaction; what a
// record means is its writer's. It protects one host only: another
// instance's spool is on another machine. It imports no project package.
package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"go.uber.org/zap"
)

// FileName is the spool's file inside its directory.
const FileName = "fallback.spool"

// MaxRecord bounds one record's key and data together: a voicemail of
// Twilio's longest allowed length, base64-encoded, fits.
const MaxRecord = 64 << 20

// Log keys.
const (
	keyPath   = "path"
	keyOffset = "offset"
	keyBytes  = "bytes"
	keyKey    = "key"
)

// The file is a sequence of frames, each
//
//	length uint32 (big endian) | crc32c(payload) uint32 | payload
//
// and a payload is a kind byte, the key's length (uvarint), the key, and
// the data. An entry's data is the writer's; a done marker's is the 8-byte
// offset of the entry it completes, so that an entry appended again for
// the same key while the first was being replayed stays pending. A frame
// that is short, too long, empty or fails its checksum ends what is read:
// a crash can tear only the last one, and nothing after it is trusted.
const (
	headerSize      = 8
	kindEntry  byte = 1
	kindDone   byte = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Spool is an open spool file. Its methods may be called concurrently.
type Spool struct {
	dir, path string
	log       *zap.Logger
	// syncFile makes a file's (or a directory's) writes durable; tests
	// replace it.
	syncFile func(*os.File) error

	mu      sync.Mutex
	f       *os.File
	size    int64
	pending map[string]int64 // key → offset of its latest entry not done
	order   []entryAt        // entries in file order (done ones too, until compaction)
	replay  sync.Mutex       // one Replay at a time
	kick    chan struct{}
}

// Open opens (creating it, 0600, and dir, 0700, if needed) the spool file
// in dir and locks it, so that no other process uses it: a second process
// given the same directory is refused. A torn last record is dropped with
// a warning; a damaged one with records after it is copied aside first
// (FileName.damaged-<offset>) and logged as an error.
func Open(dir string, log *zap.Logger) (*Spool, error) {
	return open(dir, log, func(f *os.File) error { return f.Sync() })
}

func open(dir string, log *zap.Logger, syncFile func(*os.File) error) (*Spool, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if dir == "" {
		return nil, errors.New("spool: no directory given")
	}
	s := &Spool{dir: dir, path: filepath.Join(dir, FileName), log: log, syncFile: syncFile,
		pending: map[string]int64{}, kick: make(chan struct{}, 1)}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("spool: create %s: %w", dir, err)
		}
		if err := s.syncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
			return nil, err
		}
	}
	_, statErr := os.Stat(s.path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", s.path, err)
	}
	if err := lockFile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("spool: %s is in use by another process (give each instance its own spool directory): %w", s.path, err)
	}
	s.f = f
	if created {
		if err := s.syncDir(dir); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	if err := s.load(); err != nil {
		_ = f.Close()
		return nil, err
	}
	return s, nil
}

func (s *Spool) syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: open directory %s: %w", dir, err)
	}
	defer func() { _ = d.Close() }() // only read; the sync's error is what counts
	if err := s.syncFile(d); err != nil {
		return fmt.Errorf("spool: sync directory %s: %w", dir, err)
	}
	return nil
}

// Dir returns the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// load reads the file, builds the index, and cuts a bad tail.
func (s *Spool) load() error {
	data, err := io.ReadAll(io.NewSectionReader(s.f, 0, 1<<62))
	if err != nil {
		return fmt.Errorf("spool: read %s: %w", s.path, err)
	}
	off := int64(0)
	for off < int64(len(data)) {
		kind, key, body, n, ok := decode(data[off:])
		if !ok {
			return s.cut(data, off)
		}
		s.index(kind, key, body, off)
		off += n
	}
	s.size = off
	return nil
}

// cut drops the bad frame at off and whatever follows it.
func (s *Spool) cut(data []byte, off int64) error {
	rest := data[off:]
	torn := len(rest) < headerSize || bytes.Count(rest, []byte{0}) == len(rest)
	if !torn {
		n := int64(binary.BigEndian.Uint32(rest[:4]))
		torn = headerSize+n >= int64(len(rest)) // the frame reaches the end: its write was cut short
	}
	log := s.log.With(zap.String(keyPath, s.path), zap.Int64(keyOffset, off), zap.Int(keyBytes, len(rest)))
	if torn {
		log.Warn("spool: a torn last record (a crash while it was written) is ignored")
	} else {
		aside := fmt.Sprintf("%s.damaged-%d", s.path, off)
		if err := os.WriteFile(aside, data, 0o600); err != nil {
			return fmt.Errorf("spool: %s is damaged at offset %d and could not be copied aside: %w", s.path, off, err)
		}
		log.Error("spool: a damaged record with records after it; the file is copied aside and cut there",
			zap.String(keyCopy, aside))
	}
	if err := s.f.Truncate(off); err != nil {
		return fmt.Errorf("spool: cut %s at %d: %w", s.path, off, err)
	}
	if err := s.syncFile(s.f); err != nil {
		return fmt.Errorf("spool: sync %s: %w", s.path, err)
	}
	s.size = off
	return nil
}

// entryAt is an entry's key and offset.
type entryAt struct {
	key string
	off int64
}

func (s *Spool) index(kind byte, key string, body []byte, off int64) {
	switch kind {
	case kindEntry:
		s.pending[key] = off
		s.order = append(s.order, entryAt{key, off})
	case kindDone:
		if len(body) == 8 && s.pending[key] == int64(binary.BigEndian.Uint64(body)) { //nolint:gosec // an offset done wrote from a file offset, non-negative
			delete(s.pending, key)
		}
	}
}

// decode reads the frame at the start of b: its kind, key, data and
// length; false if it is short, empty, too long or fails its checksum.
func decode(b []byte) (kind byte, key string, data []byte, n int64, ok bool) {
	if len(b) < headerSize {
		return 0, "", nil, 0, false
	}
	size := int64(binary.BigEndian.Uint32(b[:4]))
	if size == 0 || size > MaxRecord+1+binary.MaxVarintLen64 || int64(len(b)) < headerSize+size {
		return 0, "", nil, 0, false
	}
	payload := b[headerSize : headerSize+size]
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(b[4:8]) {
		return 0, "", nil, 0, false
	}
	kind = payload[0]
	klen, m := binary.Uvarint(payload[1:])
	if m <= 0 || klen > MaxRecord || kind != kindEntry && kind != kindDone {
		return 0, "", nil, 0, false
	}
	rest, k := payload[1+m:], int(klen) //nolint:gosec // klen is at most MaxRecord
	if k > len(rest) {
		return 0, "", nil, 0, false
	}
	return kind, string(rest[:k]), rest[k:], headerSize + size, true
}

func encode(kind byte, key string, data []byte) []byte {
	payload := make([]byte, 0, 1+binary.MaxVarintLen64+len(key)+len(data))
	payload = append(payload, kind)
	payload = binary.AppendUvarint(payload, uint64(len(key)))
	payload = append(payload, key...)
	payload = append(payload, data...)
	frame := make([]byte, headerSize, headerSize+len(payload))
	binary.BigEndian.PutUint32(frame[:4], uint32(len(payload))) //nolint:gosec // Append keeps a payload within MaxRecord, far below 4 GiB
	binary.BigEndian.PutUint32(frame[4:8], crc32.Checksum(payload, castagnoli))
	return append(frame, payload...)
}

// Append adds the record key with data and syncs it to disk before it
// returns: once it returns nil the record survives a crash of the process
// or the machine. A key appended again while pending is replayed once,
// with the latest data. An error leaves nothing appended.
func (s *Spool) Append(key string, data []byte) error {
	if key == "" || len(key)+len(data) > MaxRecord {
		return fmt.Errorf("spool: record %q of %d bytes: a key is required and at most %d bytes are kept", key, len(data), MaxRecord)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	off, err := s.write(kindEntry, key, data)
	if err != nil {
		return err
	}
	s.index(kindEntry, key, nil, off)
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// write appends one frame and syncs it; the caller holds mu.
func (s *Spool) write(kind byte, key string, data []byte) (int64, error) {
	if s.f == nil {
		return 0, errors.New("spool: closed")
	}
	off := s.size
	frame := encode(kind, key, data)
	_, err := s.f.Write(frame)
	if err == nil {
		err = s.syncFile(s.f)
	}
	if err != nil {
		// Whatever reached the file is taken back; were that to fail too,
		// the next Open ignores the frame only if it is torn.
		_ = s.f.Truncate(off)
		return 0, fmt.Errorf("spool: append to %s: %w", s.path, err)
	}
	s.size = off + int64(len(frame))
	return off, nil
}

// Get returns the pending data of key; false if it has none (never
// appended, or done).
func (s *Spool) Get(key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	off, ok := s.pending[key]
	if !ok {
		return nil, false, nil
	}
	_, _, data, err := s.readAt(off)
	return data, err == nil, err
}

func (s *Spool) readAt(off int64) (byte, string, []byte, error) {
	var h [headerSize]byte
	if _, err := s.f.ReadAt(h[:], off); err != nil {
		return 0, "", nil, fmt.Errorf("spool: read %s at %d: %w", s.path, off, err)
	}
	b := make([]byte, headerSize+int(binary.BigEndian.Uint32(h[:4])))
	if _, err := s.f.ReadAt(b, off); err != nil {
		return 0, "", nil, fmt.Errorf("spool: read %s at %d: %w", s.path, off, err)
	}
	kind, key, data, _, ok := decode(b)
	if !ok {
		return 0, "", nil, fmt.Errorf("spool: %s: the record at %d fails its checksum", s.path, off)
	}
	return kind, key, data, nil
}

// Pending returns how many records wait for a successful replay.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Appended receives after records are appended (one signal for any
// number), for a loop that replays them.
func (s *Spool) Appended() <-chan struct{} { return s.kick }

// Replay hands each pending record, in the order appended, to apply, and
// marks it done (synced) when apply returns nil; a record apply fails
// stays for the next Replay, and the others are still tried. A crash
// between apply and the mark replays that record again: apply must be
// idempotent on its key. Once nothing is pending the file is compacted to
// nothing. It returns how many records are left and apply's errors.
func (s *Spool) Replay(ctx context.Context, apply func(ctx context.Context, key string, data []byte) error) (int, error) {
	s.replay.Lock()
	defer s.replay.Unlock()
	s.mu.Lock()
	var todo []int64
	for _, e := range s.order {
		if off, ok := s.pending[e.key]; ok && off == e.off {
			todo = append(todo, off)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, off := range todo {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		s.mu.Lock()
		if s.f == nil {
			s.mu.Unlock()
			return 0, errors.New("spool: closed")
		}
		_, key, data, err := s.readAt(off)
		s.mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := apply(ctx, key, data); err != nil {
			errs = append(errs, fmt.Errorf("replay %s: %w", key, err))
			continue
		}
		if err := s.done(key, off); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.compact(); err != nil {
		errs = append(errs, err)
	}
	return s.Pending(), errors.Join(errs...)
}

// done marks the entry of key at off replayed.
func (s *Spool) done(key string, off int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(off)) //nolint:gosec // a file offset, non-negative
	if _, err := s.write(kindDone, key, b[:]); err != nil {
		return err
	}
	s.index(kindDone, key, b[:], 0)
	return nil
}

// compact empties the file once nothing in it is pending.
func (s *Spool) compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) > 0 || s.size == 0 || s.f == nil {
		return nil
	}
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("spool: compact %s: %w", s.path, err)
	}
	if err := s.syncFile(s.f); err != nil {
		return fmt.Errorf("spool: sync %s: %w", s.path, err)
	}
	s.size, s.order = 0, nil
	return nil
}

// Size returns the file's length in bytes.
func (s *Spool) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Close releases the file (and its lock).
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// More log keys.
const (
	keyCopy = "copy"
)
