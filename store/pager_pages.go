package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/pager"
)

// Pages and the outbox of their attempts (pager.Store). A page is stored
// whole, as JSON, with copies of the fields its indexes need; its attempts
// are rows of their own, claimed under leases (pager_outbox.go). Every
// write goes through db.update: durable, as a page must survive a power
// cut once acknowledged. Limits of 0 or less mean 100, and at most 1000
// are returned, as for the store's other lists.

var _ pager.Store = (*DB)(nil)

// CreatePage stores p as a new page unless a page has its key already,
// then calls open and stores the page as open left it, with open's
// attempts, in the same durable transaction. Its ID and CreatedAt are the
// store's. An existing page is returned as it is, created false.
func (db *DB) CreatePage(ctx context.Context, p pager.Page, open func(p *pager.Page) pager.Changes) (pager.Page, bool, error) {
	var (
		stored  pager.Page
		created bool
	)
	err := db.update(ctx, func(t *tx) error {
		p.ID, p.CreatedAt = 0, t.now
		// The row first, for its id; its state is written once open has
		// run, before the commit, so that nobody reads the placeholder and
		// a page only open makes encodable is not refused.
		id, err := t.insert(ctx, `INSERT INTO pages (key, status, priority, ticket_id, created_at, updated_at, state)
			VALUES (?, ?, ?, ?, ?, ?, '{}') ON CONFLICT (key) DO NOTHING`,
			p.Key, string(p.Status), string(p.Priority), p.TicketID, micros(t.now), micros(t.now))
		if isNoRows(err) {
			stored, err = t.pageByKey(ctx, p.Key)
			return err
		}
		if err != nil {
			return err
		}
		created = true
		p.ID = id
		key, createdAt := p.Key, p.CreatedAt
		var ch pager.Changes
		if open != nil {
			ch = open(&p)
		}
		stored, err = t.savePage(ctx, id, key, createdAt, &p, ch)
		return err
	})
	if err != nil {
		return pager.Page{}, false, fmt.Errorf("create page %q: %w", p.Key, err)
	}
	return stored, created, nil
}

// UpdatePage loads page id (locking its row with PostgreSQL; SQLite's
// write lock serialises updates anyway) and its attempts, calls fn and
// stores what fn did. fn may not change the page's ID, Key or CreatedAt:
// they are put back. fn's error comes back as it is, and nothing is
// written.
func (db *DB) UpdatePage(ctx context.Context, id int64, fn func(p *pager.Page, atts []pager.Attempt) (pager.Changes, error)) (pager.Page, error) {
	var (
		stored pager.Page
		fnErr  error
	)
	err := db.update(ctx, func(t *tx) error {
		var state string
		err := t.queryRow(ctx, "SELECT state FROM pages WHERE id = ?"+t.d.forUpdate, id).Scan(&state)
		if isNoRows(err) {
			return errs.E(errs.NotFound, "", "page %d does not exist", id)
		}
		if err != nil {
			return err
		}
		p, err := decodePage(state)
		if err != nil {
			return err
		}
		atts, err := attemptsOf(ctx, t.runner, id)
		if err != nil {
			return err
		}
		key, createdAt := p.Key, p.CreatedAt
		ch, err := fn(&p, atts)
		if err != nil {
			fnErr = err
			return err
		}
		stored, err = t.savePage(ctx, id, key, createdAt, &p, ch)
		return err
	})
	if fnErr != nil {
		return pager.Page{}, fnErr
	}
	if err != nil {
		return pager.Page{}, fmt.Errorf("update page %d: %w", id, err)
	}
	return stored, nil
}

// savePage writes page p (id, key and createdAt its own whatever p says)
// and the changes ch, and returns the page as stored.
func (t *tx) savePage(ctx context.Context, id int64, key string, createdAt time.Time, p *pager.Page, ch pager.Changes) (pager.Page, error) {
	p.ID, p.Key, p.CreatedAt = id, key, createdAt
	cols, err := pageRow(p)
	if err != nil {
		return pager.Page{}, err
	}
	if _, err := t.exec(ctx, `UPDATE pages SET status = ?, priority = ?, ticket_id = ?, due_at = ?, updated_at = ?, state = ?
		WHERE id = ?`, cols.status, cols.priority, cols.ticketID, cols.dueAt, micros(t.now), cols.state, id); err != nil {
		return pager.Page{}, err
	}
	for i := range ch.Add {
		if err := t.addAttempt(ctx, id, &ch.Add[i]); err != nil {
			return pager.Page{}, err
		}
	}
	for _, e := range ch.End {
		if err := t.endAttempt(ctx, id, e); err != nil {
			return pager.Page{}, err
		}
	}
	if t.d.notifyPager != "" {
		if _, err := t.exec(ctx, t.d.notifyPager); err != nil {
			return pager.Page{}, fmt.Errorf("notify other instances: %w", err)
		}
	}
	// The page as it reads back, so that what the caller gets and what
	// Page returns later are the same value.
	return decodePage(cols.state)
}

// addAttempt stores a as a new Intended attempt of page pageID and sets its
// ID, unless the page has an attempt with its key already (the same event
// applied twice), which is left as it is and a.ID as it was.
func (t *tx) addAttempt(ctx context.Context, pageID int64, a *pager.Attempt) error {
	id, err := t.insert(ctx, `INSERT INTO page_attempts (page_id, key, kind, purpose, rung, engineer_id, to_number,
			language, body, status, detail, not_before, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (page_id, key) DO NOTHING`,
		pageID, a.Key, string(a.Kind), string(a.Purpose), a.Rung, a.EngineerID, a.To,
		string(a.Language), a.Body, string(pager.Intended), a.Detail, zeroMicros(a.NotBefore), micros(t.now), micros(t.now))
	switch {
	case isNoRows(err):
		return nil
	case err != nil:
		return fmt.Errorf("add attempt %q: %w", a.Key, err)
	}
	a.ID, a.PageID, a.Status = id, pageID, pager.Intended
	a.CreatedAt, a.UpdatedAt = t.now, t.now
	return nil
}

// endAttempt makes attempt e.AttemptID of page pageID Done with e's outcome,
// unless it is Done already or, for Canceled, has left Intended (a claimer
// may be making the request at this moment: its outcome will tell). An
// attempt of another page is left alone.
func (t *tx) endAttempt(ctx context.Context, pageID int64, e pager.Ended) error {
	cond := "status <> 'done'"
	if e.Outcome == pager.Canceled {
		cond = "status = 'intended'"
	}
	_, err := t.exec(ctx, `UPDATE page_attempts SET status = 'done', outcome = ?, detail = ?, lease_until = NULL, updated_at = ?
		WHERE id = ? AND page_id = ? AND `+cond, string(e.Outcome), e.Detail, micros(t.now), e.AttemptID, pageID)
	if err != nil {
		return fmt.Errorf("end attempt %d: %w", e.AttemptID, err)
	}
	return nil
}

func (t *tx) pageByKey(ctx context.Context, key string) (pager.Page, error) {
	var state string
	if err := t.queryRow(ctx, "SELECT state FROM pages WHERE key = ?", key).Scan(&state); err != nil {
		return pager.Page{}, err
	}
	return decodePage(state)
}

// Page returns page id and its attempts, oldest first, as of one moment.
func (db *DB) Page(ctx context.Context, id int64) (pager.Page, []pager.Attempt, error) {
	var (
		p    pager.Page
		atts []pager.Attempt
	)
	err := db.snapshot(ctx, func(r runner) error {
		var state string
		err := r.queryRow(ctx, "SELECT state FROM pages WHERE id = ?", id).Scan(&state)
		if isNoRows(err) {
			return errs.E(errs.NotFound, "", "page %d does not exist", id)
		}
		if err != nil {
			return err
		}
		if p, err = decodePage(state); err != nil {
			return err
		}
		atts, err = attemptsOf(ctx, r, id)
		return err
	})
	if err != nil {
		return pager.Page{}, nil, fmt.Errorf("get page %d: %w", id, err)
	}
	return p, atts, nil
}

// Pages returns the pages f selects, newest first (an empty, non-nil slice
// when there are none).
func (db *DB) Pages(ctx context.Context, f pager.Filter) ([]pager.Page, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.Before != 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	q := "SELECT state FROM pages"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	out, err := queryAll(ctx, db.reads(), scanPage, q+" ORDER BY id DESC LIMIT "+fmt.Sprint(listLimit(f.Limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	return orEmpty(out), nil
}

// DuePages returns the ids of open pages due at or before now, soonest
// first.
func (db *DB) DuePages(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	ids, err := queryAll(ctx, db.reads(), scanInt64, `SELECT id FROM pages`+db.indexedBy("pages_due")+`
		WHERE status = 'open' AND due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT `+fmt.Sprint(listLimit(limit)),
		micros(now))
	if err != nil {
		return nil, fmt.Errorf("list due pages: %w", err)
	}
	return orEmpty(ids), nil
}

// indexedBy makes SQLite read a query of the pager's loops from index, a
// partial index of the rows the loop looks for. Its planner, which has no
// statistics, would rather take an index on status, or scan the table,
// and the cost would grow with every page and attempt ever stored:
// DuePages and NextDue sorted every open page on each of the engine's
// wake-ups (every page change: 4 ms a wake-up at 10,000 open pages,
// against 20 µs from pages_due), and ClaimInDoubt scanned every attempt
// with the write lock held (9 ms at 100,000 attempts, every 2 s, against
// 16 µs). PostgreSQL, which keeps statistics, picks these indexes itself.
// A query whose index is gone fails rather than slows down.
func (db *DB) indexedBy(index string) string {
	if db.backend == SQLite {
		return " INDEXED BY " + index
	}
	return ""
}

// NextDue returns the earliest due time of an open page.
func (db *DB) NextDue(ctx context.Context) (time.Time, bool, error) {
	var us int64
	err := db.reads().queryRow(ctx, `SELECT due_at FROM pages`+db.indexedBy("pages_due")+`
		WHERE status = 'open' AND due_at IS NOT NULL ORDER BY due_at LIMIT 1`).Scan(&us)
	if isNoRows(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due page: %w", err)
	}
	return fromMicros(us), true, nil
}

// pageRowValues are what a page's row holds besides its id and key.
type pageRowValues struct {
	status, priority, ticketID string
	dueAt                      sql.NullInt64
	state                      string
}

// pageRow puts p's times in UTC at microsecond precision, as the columns
// keep them (so that a page found due at its due_at column is due by the
// DueAt in its state too), and returns its row.
func pageRow(p *pager.Page) (pageRowValues, error) {
	for _, t := range []*time.Time{&p.RaisedAt, &p.Deadline, &p.CreatedAt, &p.DueAt, &p.AckedAt, &p.ResolvedAt, &p.Current.Started} {
		*t = storedTime(*t)
	}
	p.Log = slices.Clone(p.Log) // the caller's entries stay as they were
	for i := range p.Log {
		p.Log[i].At = storedTime(p.Log[i].At)
	}
	state, err := json.Marshal(p)
	if err != nil {
		return pageRowValues{}, fmt.Errorf("encode page: %w", err)
	}
	c := pageRowValues{status: string(p.Status), priority: string(p.Priority), ticketID: p.TicketID, state: string(state)}
	if p.Status == pager.Open && !p.DueAt.IsZero() {
		c.dueAt = sql.NullInt64{Int64: micros(p.DueAt), Valid: true}
	}
	return c, nil
}

func decodePage(state string) (pager.Page, error) {
	var p pager.Page
	if err := json.Unmarshal([]byte(state), &p); err != nil {
		return pager.Page{}, fmt.Errorf("decode page: %w", err)
	}
	return p, nil
}

func scanPage(s scanner) (pager.Page, error) {
	var state string
	if err := s.Scan(&state); err != nil {
		return pager.Page{}, err
	}
	return decodePage(state)
}

func scanInt64(s scanner) (int64, error) {
	var v int64
	err := s.Scan(&v)
	return v, err
}

// storedTime is t as the store keeps it: UTC, microsecond precision; the
// zero time stays zero.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return roundTime(t)
}

// zeroMicros stores the zero time as 0 ("none") in a column that is not
// nullable; fromZeroMicros reads it back.
func zeroMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func fromZeroMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

// orEmpty returns s, or an empty slice for nil: lists read as [] in JSON.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
