package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/supportdesk/ivr/audit"
	"github.com/supportdesk/ivr/calendar"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

var _ calendar.Store = (*DB)(nil)

const calendarFeedColumns = "id, kind, engineer_id, level, hash, created_at, revoked_at"

func scanCalendarFeed(s scanner) (calendar.Feed, error) {
	var (
		f          calendar.Feed
		engineerID sql.NullInt64
		level      sql.NullInt64
		createdAt  int64
		revokedAt  nullTime
	)
	if err := s.Scan(&f.ID, &f.Kind, &engineerID, &level, &f.Hash, &createdAt, &revokedAt); err != nil {
		return f, err
	}
	f.EngineerID = engineerID.Int64
	f.Level = oncall.Level(level.Int64)
	f.CreatedAt = fromMicros(createdAt)
	f.RevokedAt = revokedAt.time()
	return f, nil
}

// CreateCalendarFeed stores f (Hash set) and returns it with ID and
// CreatedAt set. Invalid (engineer_id) if an engineer feed names an engineer
// that does not exist or was deleted.
func (db *DB) CreateCalendarFeed(ctx context.Context, actor string, f calendar.Feed) (calendar.Feed, error) {
	err := db.update(ctx, func(t *tx) error {
		engineerID := sql.NullInt64{Int64: f.EngineerID, Valid: f.EngineerID != 0}
		level := sql.NullInt64{Int64: int64(f.Level), Valid: f.Level != 0}
		if engineerID.Valid {
			if err := t.checkEngineers(ctx, []int64{f.EngineerID}, func(int) string { return "engineer_id" }); err != nil {
				return err
			}
		}
		f.CreatedAt = t.now
		f.RevokedAt = nil
		var err error
		f.ID, err = t.insert(ctx, `INSERT INTO calendar_feeds (kind, engineer_id, level, hash, created_at)
			VALUES (?, ?, ?, ?, ?)`, string(f.Kind), engineerID, level, f.Hash, micros(f.CreatedAt))
		if err != nil {
			return err
		}
		return t.audit(ctx, actor, audit.Create, calendar.AuditEntity, strconv.FormatInt(f.ID, 10), nil, f)
	})
	if err != nil {
		return calendar.Feed{}, fmt.Errorf("create calendar feed: %w", err)
	}
	return f, nil
}

// CalendarFeedByHash returns the feed with this token hash, revoked or not;
// NotFound if none.
func (db *DB) CalendarFeedByHash(ctx context.Context, hash string) (calendar.Feed, error) {
	f, err := scanCalendarFeed(db.reads().queryRow(ctx, "SELECT "+calendarFeedColumns+" FROM calendar_feeds WHERE hash = ?", hash))
	if isNoRows(err) {
		return calendar.Feed{}, errs.E(errs.NotFound, "", "no calendar feed has this token")
	}
	if err != nil {
		return calendar.Feed{}, fmt.Errorf("get calendar feed: %w", err)
	}
	return f, nil
}

// CalendarFeed returns feed id; NotFound if absent.
func (db *DB) CalendarFeed(ctx context.Context, id int64) (calendar.Feed, error) {
	f, err := scanCalendarFeed(db.reads().queryRow(ctx, "SELECT "+calendarFeedColumns+" FROM calendar_feeds WHERE id = ?", id))
	if err != nil {
		return calendar.Feed{}, fmt.Errorf("get calendar feed %d: %w", id, notFound(err, "calendar feed", id))
	}
	return f, nil
}

// CalendarFeeds lists every feed, revoked ones included, by id.
func (db *DB) CalendarFeeds(ctx context.Context) ([]calendar.Feed, error) {
	out, err := queryAll(ctx, db.reads(), scanCalendarFeed, "SELECT "+calendarFeedColumns+" FROM calendar_feeds ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list calendar feeds: %w", err)
	}
	return out, nil
}

// RevokeCalendarFeed marks feed id revoked at at; NotFound if absent,
// Conflict if revoked already. The audit entry is a delete whose after shows
// the revocation.
func (db *DB) RevokeCalendarFeed(ctx context.Context, actor string, id int64, at time.Time) error {
	err := db.update(ctx, func(t *tx) error {
		before, err := scanCalendarFeed(t.queryRow(ctx, "SELECT "+calendarFeedColumns+" FROM calendar_feeds WHERE id = ?"+t.d.forUpdate, id))
		if err != nil {
			return notFound(err, "calendar feed", id)
		}
		if before.RevokedAt != nil {
			return errs.E(errs.Conflict, "", "calendar feed %d was revoked at %s already", id, before.RevokedAt.Format(time.RFC3339))
		}
		at = roundTime(at)
		if _, err := t.exec(ctx, "UPDATE calendar_feeds SET revoked_at = ? WHERE id = ?", micros(at), id); err != nil {
			return err
		}
		after := before
		after.RevokedAt = &at
		return t.audit(ctx, actor, audit.Delete, calendar.AuditEntity, strconv.FormatInt(id, 10), before, after)
	})
	if err != nil {
		return fmt.Errorf("revoke calendar feed %d: %w", id, err)
	}
	return nil
}
