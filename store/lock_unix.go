//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
)

// sqliteLock is what an open SQLite store holds so that no second store,
// in this process or another, uses the same database file:
//
//   - an exclusive flock on path+".lock", the lock by name, as before (its
//     message names the lock file, and an older ivr takes only this one);
//   - on Linux, an exclusive flock on the database file itself, the lock by
//     inode: a hard link or a symbolic link names the same file under
//     another name, and two stores on it would each keep a WAL of their own
//     and lose each other's writes.
//
// The database file's descriptor is opened before SQLite opens the file
// and closed only after SQLite has closed it. SQLite's own locks are POSIX
// (fcntl) locks, which belong to the process and the file, not to a
// descriptor: closing any descriptor of the file in this process drops all
// of them (sqlite.org/howtocorrupt.html, §2.2). So the descriptor is opened
// once and kept for the store's life, and a second Open in this process
// that finds the file already open (openFiles) refuses without closing its
// descriptor: it is parked beside the store that has the file open and
// closed with it.
//
// flock is used on Linux only: there it is independent of fcntl locks, so
// it cannot get in SQLite's way. On the BSDs and macOS flock and fcntl locks
// share one lock list and would conflict with SQLite's own; there only the
// lock by name (and, within this process, openFiles) guards the file. On a
// network file system Linux emulates flock with fcntl locks: SQLite's WAL
// needs a local file system anyway (checkWAL).
type sqliteLock struct {
	name *os.File // path+".lock", flocked
	db   *os.File // the database file, flocked on Linux
	key  fileKey
	open *openFile // this store's entry in openFiles; nil once closed
}

// fileKey names a file by its device and inode, whatever its path.
type fileKey struct{ dev, ino uint64 }

// openFile is a database file this process has a store open on.
type openFile struct {
	path   string     // the name the store opened it by
	parked []*os.File // descriptors of refused Opens, closed with the store's
}

// openFiles are the database files this process has a store open on.
var openFiles = struct {
	sync.Mutex
	m map[fileKey]*openFile
}{m: map[fileKey]*openFile{}}

// flockDatabase says whether the database file itself is flocked.
const flockDatabase = runtime.GOOS == "linux"

// lockSQLite takes the locks of an SQLite store on path without waiting,
// creating the database file (mode 0600: it holds voicemails, callers'
// numbers and token hashes; SQLite gives its -wal and -shm files the
// database's mode) if it does not exist. An error matching ErrLocked when
// another store holds it.
func lockSQLite(path string) (*sqliteLock, error) {
	name, err := lockName(path)
	if err != nil {
		return nil, err
	}
	openFiles.Lock()
	defer openFiles.Unlock()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		_ = name.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	key, err := keyOf(f)
	if err != nil {
		_ = name.Close()
		_ = f.Close() // no store of this process has the file open, or it would have a key
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if open, ok := openFiles.m[key]; ok {
		// Closing f now would drop the open store's SQLite locks.
		open.parked = append(open.parked, f)
		_ = name.Close()
		return nil, &lockedError{path: path, same: open.path, thisProcess: true}
	}
	if flockDatabase {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			// No store of this process has the file open (openFiles), so
			// closing f drops no lock of ours.
			_ = f.Close()
			_ = name.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &lockedError{path: path}
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	}
	open := &openFile{path: path}
	openFiles.m[key] = open
	return &sqliteLock{name: name, db: f, key: key, open: open}, nil
}

// Close releases the locks; a second Close does nothing. Call it only once
// SQLite has closed every connection to the file.
func (l *sqliteLock) Close() error {
	if l == nil {
		return nil
	}
	openFiles.Lock()
	if l.open == nil {
		openFiles.Unlock()
		return nil
	}
	errs := []error{l.db.Close()}
	for _, f := range l.open.parked {
		errs = append(errs, f.Close())
	}
	delete(openFiles.m, l.key)
	l.open = nil
	openFiles.Unlock()
	errs = append(errs, l.name.Close())
	return errors.Join(errs...)
}

func keyOf(f *os.File) (fileKey, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileKey{}, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, fmt.Errorf("no inode for %s", f.Name())
	}
	return fileKey{dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}

// lockName takes an exclusive lock on path+".lock" without waiting, so
// that a second process on the same path fails at once. The lock lasts
// until the returned file is closed (or the process dies). The lock file is
// never removed: removing it would let two processes lock different files.
func lockName(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &lockedError{path: path, lock: name}
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return f, nil
}
