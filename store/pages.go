package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
)

const pageColumns = `id, call_id, ticket_id, priority, level, voicemail_url, voicemail_seconds, line, caller,
	requested_at, status`

// RequestPage durably records a page to be sent for call p.CallID, with
// status "requested", until the pager takes it. One page per call:
// requesting one again for the same call keeps the first and returns nil.
// A level that is not L1–L3 is recorded as L1 and a priority that is not
// one of the four as normal, as the flow routes them: a page is never
// refused for them. Invalid (call_id) for a request without a call id.
func (db *DB) RequestPage(ctx context.Context, p ivr.PageRequest) error {
	if strings.TrimSpace(p.CallID) == "" {
		return errs.InvalidField("call_id", "is required")
	}
	if !p.Level.Valid() {
		p.Level = oncall.L1
	}
	if !p.Priority.Valid() {
		p.Priority = oncall.Normal
	}
	err := db.update(ctx, func(tx *tx) error {
		requested := p.RequestedAt
		if requested.IsZero() {
			requested = tx.now
		}
		_, err := tx.exec(ctx, `INSERT INTO page_requests (call_id, ticket_id, priority, level, voicemail_url,
				voicemail_seconds, line, caller, requested_at, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING`,
			p.CallID, p.TicketID, string(p.Priority), int(p.Level), p.VoicemailURL, p.VoicemailSeconds,
			p.Line, p.Caller, micros(requested), string(calls.PageRequested))
		return err
	})
	if err != nil {
		return fmt.Errorf("request page for call %s: %w", p.CallID, err)
	}
	return nil
}

// PageRequests returns the requested pages, newest first: at most limit
// (100 if 0, never more than 1000).
func (db *DB) PageRequests(ctx context.Context, limit int) ([]calls.PageRecord, error) {
	out, err := queryAll(ctx, db.reads(), scanPageRecord, "SELECT "+pageColumns+" FROM page_requests ORDER BY id DESC LIMIT "+
		fmt.Sprint(listLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("list page requests: %w", err)
	}
	return out, nil
}

// scanPageRecord reads one page_requests row (pageColumns).
func scanPageRecord(s scanner) (calls.PageRecord, error) {
	var (
		p           calls.PageRecord
		level       int
		requestedAt int64
	)
	err := s.Scan(&p.ID, &p.CallID, &p.TicketID, &p.Priority, &level, &p.VoicemailURL,
		&p.VoicemailSeconds, &p.Line, &p.Caller, &requestedAt, &p.Status)
	p.Level = oncall.Level(level)
	p.RequestedAt = fromMicros(requestedAt)
	return p, err
}

// PendingPageRequests returns the page requests recorded before the pager
// existed that it has not taken over yet, oldest first, at most limit.
func (db *DB) PendingPageRequests(ctx context.Context, limit int) ([]calls.PageRecord, error) {
	out, err := queryAll(ctx, db.reads(), scanPageRecord, "SELECT "+pageColumns+" FROM page_requests WHERE status = ? ORDER BY id LIMIT "+
		fmt.Sprint(listLimit(limit)), string(calls.PageRequested))
	if err != nil {
		return nil, fmt.Errorf("list pending page requests: %w", err)
	}
	return out, nil
}

// MarkPageRequest records what the pager made of the request of call
// callID (e.g. "paged", "expired"): it is no longer pending.
func (db *DB) MarkPageRequest(ctx context.Context, callID string, status calls.PageStatus) error {
	err := db.update(ctx, func(t *tx) error {
		_, err := t.exec(ctx, "UPDATE page_requests SET status = ? WHERE call_id = ?", string(status), callID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark page request of call %s: %w", callID, err)
	}
	return nil
}
