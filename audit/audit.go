// Package audit owns the record of who changed what and when. Stores write an
// Entry in the same transaction as the change it describes; nothing here
// touches a database or a transport.
package audit

import (
	"context"
	"encoding/json"
	"time"
)

// Entry is one change, as the audit log shows it.
type Entry struct {
	ID       int64           `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`  // e.g. "token:3 (alice)", "cli", "demo"
	Action   string          `json:"action"` // create, update, delete
	Entity   string          `json:"entity"` // engineer, rotation, override, policy, token, ticket
	EntityID string          `json:"entity_id"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
}

// Actions recorded in Entry.Action.
const (
	Create = "create"
	Update = "update"
	Delete = "delete"
)

// Entities named in Entry.Entity.
const (
	Engineer = "engineer"
	Rotation = "rotation"
	Override = "override"
	Policy   = "policy"
	Token    = "token"
	Ticket   = "ticket"
)

// Filter selects a page of the log, newest first.
type Filter struct {
	Entity   string // empty: all
	EntityID string // empty: all
	BeforeID int64  // 0: from the newest
	Limit    int    // 0: a default of 100
}

// Log reads the audit log.
type Log interface {
	// AuditLog returns entries matching f, newest first.
	AuditLog(ctx context.Context, f Filter) ([]Entry, error)
}
