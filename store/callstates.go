package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
)

// The state of calls in progress, for drivers that keep none themselves
// (Twilio's webhooks): one opaque value per call id (the flow's state as
// JSON) with a version, so that two instances serving webhooks of one call
// at once cannot both advance it. These are high-rate runtime data, not
// admin changes: nothing here is audited.
//
// Durability, the same on both back ends: the writes of a call's state
// (create, update, finish: writeCallState) are committed without waiting
// for the disk, as each costs an fsync otherwise (about 1.3 ms with
// SQLite here, 1-6 ms with PostgreSQL) and the next webhook rewrites the
// state anyway. A crash of the ivr process loses none of them. A crash of
// the machine (SQLite) or of the database server (PostgreSQL) can undo the
// last of them: with PostgreSQL those of the last few hundred ms (at most
// three times its wal_writer_delay, 600 ms by default), with SQLite those
// since its last synced commit. The sweep then finishes the calls from
// their last state on disk. Never lost: what was acknowledged durably, on
// either back end (a page, a page attempt, a call record, a voicemail, a
// caller's language, a deleted state): those commits are synced, or with
// PostgreSQL wait for the server's synchronous_commit.

// maxCallStateBytes bounds one call's state.
const maxCallStateBytes = 1 << 20

func checkCallState(callID string, data []byte) error {
	switch {
	case strings.TrimSpace(callID) == "":
		return errs.InvalidField("call_id", "is required")
	case len(data) == 0:
		return errs.InvalidField("data", "the state is empty")
	case len(data) > maxCallStateBytes:
		return errs.InvalidField("data", "the state is larger than %d bytes", maxCallStateBytes)
	}
	return nil
}

// CreateCallState stores the first state of call callID, at version 1.
// Conflict if the call has a state already (another instance answered it
// first); Invalid (call_id or data) for an empty id or state.
func (db *DB) CreateCallState(ctx context.Context, callID string, data []byte) error {
	if err := checkCallState(callID, data); err != nil {
		return err
	}
	gen := db.stateCache.generation()
	now := micros(roundTime(db.Now()))
	_, err := db.writeCallState(ctx, `INSERT INTO call_states (call_id, version, data, created_at, updated_at)
		VALUES (?, 1, ?, ?, ?)`,
		`INSERT INTO call_states (call_id, version, data, created_at, updated_at)
		SELECT ?::text, 1, ?::bytea, ?::bigint, ?::bigint WHERE `+unsyncedCommit,
		callID, data, now, now)
	if err != nil {
		db.stateCache.forget(callID) // whatever the database holds now, read it next
		return fmt.Errorf("create state of call %s: %w", callID, db.dialect.userError(err))
	}
	db.stateCache.put(gen, callID, data, 1)
	return nil
}

// CallState returns the state of call callID and its version; NotFound if
// the call has none (never had, or it was deleted).
func (db *DB) CallState(ctx context.Context, callID string) (data []byte, version int64, err error) {
	if data, version, ok := db.stateCache.get(callID); ok {
		return data, version, nil
	}
	return db.storedCallState(ctx, callID)
}

// storedCallState is CallState from the database, never the cache.
func (db *DB) storedCallState(ctx context.Context, callID string) (data []byte, version int64, err error) {
	row, err := db.readHot(ctx, "SELECT data, version FROM call_states WHERE call_id = ?", callID)
	if err == nil {
		err = row.Scan(&data, &version)
	}
	if isNoRows(err) {
		return nil, 0, errs.E(errs.NotFound, "", "call %q has no state", callID)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get state of call %s: %w", callID, err)
	}
	return data, version, nil
}

// UpdateCallState replaces the state of call callID if its stored version
// is still version (compare-and-swap, one statement) and returns the new
// version, version+1. Conflict if the stored version is another (an
// instance advanced the call since this one read it: read it again and
// redo the step, or give up the event); NotFound if the call has no state;
// Invalid (call_id or data) for an empty id or state.
func (db *DB) UpdateCallState(ctx context.Context, callID string, version int64, data []byte) (newVersion int64, err error) {
	if err := checkCallState(callID, data); err != nil {
		return 0, err
	}
	gen := db.stateCache.generation()
	const update = `UPDATE call_states SET data = ?, version = version + 1, updated_at = ?
		WHERE call_id = ? AND version = ?`
	res, err := db.writeCallState(ctx, update, update+" AND "+unsyncedCommit, data, micros(roundTime(db.Now())), callID, version)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err != nil {
		db.stateCache.forget(callID) // whatever the database holds now, read it next
		return 0, fmt.Errorf("update state of call %s: %w", callID, err)
	}
	if n == 1 {
		db.stateCache.put(gen, callID, data, version+1)
		return version + 1, nil
	}
	// Why not: the version moved, or the state is gone. Told apart after
	// the fact; either answer was true at the moment of the update. The
	// caller reads again next: from the database.
	db.stateCache.forget(callID)
	_, stored, err := db.storedCallState(ctx, callID)
	if err != nil {
		return 0, fmt.Errorf("update state of call %s: %w", callID, err)
	}
	return 0, errs.E(errs.Conflict, "", "the state of call %q is at version %d, not %d: another instance advanced the call",
		callID, stored, version)
}

// DeleteCallStatesBefore deletes the states of calls last updated before t
// (calls long over, whose end the driver never saw) and returns how many it
// deleted.
func (db *DB) DeleteCallStatesBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(tx *tx) error {
		res, err := tx.exec(ctx, "DELETE FROM call_states WHERE updated_at < ?", micros(t))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	db.stateCache.clear()
	if err != nil {
		return 0, fmt.Errorf("delete call states: %w", err)
	}
	return int(n), nil
}

// DeleteCallState deletes the state of call callID, once the call is over;
// deleting a state that does not exist is not an error.
func (db *DB) DeleteCallState(ctx context.Context, callID string) error {
	err := db.update(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, "DELETE FROM call_states WHERE call_id = ?", callID)
		return err
	})
	db.stateCache.forget(callID)
	if err != nil {
		return fmt.Errorf("delete state of call %s: %w", callID, err)
	}
	return nil
}

// OpenCallStates returns up to limit calls not marked finished whose state
// has not changed since idleSince, longest idle first: the calls a sweeper
// looks at.
func (db *DB) OpenCallStates(ctx context.Context, idleSince time.Time, limit int) ([]string, error) {
	ids, err := queryAll(ctx, db.reads(), scanString, `SELECT call_id FROM call_states
		WHERE finished_at IS NULL AND updated_at < ? ORDER BY updated_at LIMIT `+fmt.Sprint(listLimit(limit)), micros(idleSince))
	if err != nil {
		return nil, fmt.Errorf("list open calls: %w", err)
	}
	return ids, nil
}

// FinishCallState marks call callID's flow done, so that the sweeper no
// longer looks at it; its state stays for late webhooks until deleted. No
// error for an unknown call or one marked already.
func (db *DB) FinishCallState(ctx context.Context, callID string) error {
	const finish = "UPDATE call_states SET finished_at = ? WHERE call_id = ? AND finished_at IS NULL"
	_, err := db.writeCallState(ctx, finish, finish+" AND "+unsyncedCommit, micros(roundTime(db.Now())), callID)
	if err != nil {
		return fmt.Errorf("finish state of call %s: %w", callID, err)
	}
	return nil
}

// writeCallState runs one write statement of call state, committed
// without waiting for the disk (see the top of this file), in its own
// implicit transaction, prepared once: with SQLite q, on the writer at
// synchronous=NORMAL (writeVolatile); with PostgreSQL pq, the same
// statement made to set synchronous_commit off for its own transaction
// (unsyncedCommit) before it writes a row.
func (db *DB) writeCallState(ctx context.Context, q, pq string, args ...any) (sql.Result, error) {
	if db.backend == Postgres {
		q = pq
	}
	return db.writeVolatile(ctx, q, args...)
}

func scanString(s scanner) (string, error) {
	var v string
	err := s.Scan(&v)
	return v, err
}
