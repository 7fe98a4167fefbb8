package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/supportdesk/ivr/audit"
)

// Audit log page sizes.
const (
	auditDefaultLimit = 100
	auditMaxLimit     = 1000
)

// AuditLog returns the entries matching f, newest first: at most f.Limit
// (100 if 0, never more than 1000), with ids below f.BeforeID if it is set.
func (db *DB) AuditLog(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	var (
		where []string
		args  []any
	)
	if f.Entity != "" {
		where, args = append(where, "entity = ?"), append(args, f.Entity)
	}
	if f.EntityID != "" {
		where, args = append(where, "entity_id = ?"), append(args, f.EntityID)
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = auditDefaultLimit
	}
	limit = min(limit, auditMaxLimit)
	q := "SELECT id, at, actor, action, entity, entity_id, before_json, after_json FROM audit"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.reads().query(ctx, q+" ORDER BY id DESC LIMIT "+fmt.Sprint(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var (
			e             audit.Entry
			at            int64
			before, after sql.NullString
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Entity, &e.EntityID, &before, &after); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.At = fromMicros(at)
		if before.Valid {
			e.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			e.After = json.RawMessage(after.String)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
