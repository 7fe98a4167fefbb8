package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
)

var (
	_ ivr.CallLog     = (*DB)(nil)
	_ ivr.Pages       = (*DB)(nil)
	_ ivr.Preferences = (*DB)(nil)
)

// Page sizes of the lists of tickets, calls and pages.
const (
	listDefaultLimit = 100
	listMaxLimit     = 1000
)

// listLimit is n bounded to a page size: the default for 0 or less, never
// more than the maximum.
func listLimit(n int) int {
	if n <= 0 {
		return listDefaultLimit
	}
	return min(n, listMaxLimit)
}

// SaveCall stores a finished call: the record as JSON, and its id, line,
// caller, ticket and start to look it up by. Saving a call id again
// replaces its record: a retry, or the record completed later (a page that
// went through on a retry). Invalid (call_id) for a record without an id.
// No audit entry: the call log is its own record.
func (db *DB) SaveCall(ctx context.Context, r ivr.CallRecord) error {
	if strings.TrimSpace(r.CallID) == "" {
		return errs.InvalidField("call_id", "is required")
	}
	record, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("save call %s: %w", r.CallID, err)
	}
	err = db.update(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `INSERT INTO calls (id, line, caller, ticket_id, started_at, record)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET line = excluded.line, caller = excluded.caller,
				ticket_id = excluded.ticket_id, started_at = excluded.started_at, record = excluded.record`,
			r.CallID, r.Line, r.Caller, r.TicketID, micros(r.StartedAt), string(record))
		return err
	})
	if err != nil {
		return fmt.Errorf("save call %s: %w", r.CallID, err)
	}
	return nil
}

// Call returns the record of call id; NotFound if there is none.
func (db *DB) Call(ctx context.Context, id string) (ivr.CallRecord, error) {
	var record string
	err := db.reads().queryRow(ctx, "SELECT record FROM calls WHERE id = ?", id).Scan(&record)
	if isNoRows(err) {
		return ivr.CallRecord{}, errs.E(errs.NotFound, "", "call %q does not exist", id)
	}
	if err != nil {
		return ivr.CallRecord{}, fmt.Errorf("get call %s: %w", id, err)
	}
	var r ivr.CallRecord
	if err := json.Unmarshal([]byte(record), &r); err != nil {
		return ivr.CallRecord{}, fmt.Errorf("get call %s: %w", id, err)
	}
	return r, nil
}

// Calls returns the calls f selects, newest first (by start, then id): at
// most f.Limit (100 if 0, never more than 1000), only those with ticket
// f.TicketID if it is set, only those started before f.Before if it is set.
func (db *DB) Calls(ctx context.Context, f calls.Filter) ([]ivr.CallRecord, error) {
	var (
		where []string
		args  []any
	)
	if f.TicketID != "" {
		where, args = append(where, "ticket_id = ?"), append(args, f.TicketID)
	}
	if !f.Before.IsZero() {
		where, args = append(where, "started_at < ?"), append(args, micros(f.Before))
	}
	q := "SELECT record FROM calls"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	out, err := queryAll(ctx, db.reads(), scanCallRecord, q+" ORDER BY started_at DESC, id DESC LIMIT "+fmt.Sprint(listLimit(f.Limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return out, nil
}

// scanCallRecord reads a call record stored as JSON.
func scanCallRecord(s scanner) (ivr.CallRecord, error) {
	var (
		record string
		r      ivr.CallRecord
	)
	if err := s.Scan(&record); err != nil {
		return r, err
	}
	err := json.Unmarshal([]byte(record), &r)
	return r, err
}
