package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// maxCallerLength bounds a caller id kept as a preference's key.
const maxCallerLength = 32

// Language returns the language caller (E.164, as the provider reports it)
// chose on an earlier call; false if none is remembered.
func (db *DB) Language(ctx context.Context, caller string) (oncall.Language, bool, error) {
	var l oncall.Language
	err := db.reads().queryRow(ctx, "SELECT language FROM caller_languages WHERE caller = ?",
		strings.TrimSpace(caller)).Scan(&l)
	switch {
	case isNoRows(err):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("get language of caller: %w", err)
	}
	return l, true, nil
}

// SetLanguage remembers the language caller chose, replacing any earlier
// choice. Invalid (caller) for an empty or overlong caller id, Invalid
// (language) for a language other than ru and en. No audit entry: it is
// the caller's choice, not an admin's change.
func (db *DB) SetLanguage(ctx context.Context, caller string, l oncall.Language) error {
	caller = strings.TrimSpace(caller)
	switch {
	case caller == "":
		return errs.InvalidField("caller", "is required")
	case len(caller) > maxCallerLength:
		return errs.InvalidField("caller", "is longer than %d characters", maxCallerLength)
	case !l.Valid():
		return errs.InvalidField("language", "%q is not a language (ru or en)", l)
	}
	err := db.update(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `INSERT INTO caller_languages (caller, language, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (caller) DO UPDATE SET language = excluded.language, updated_at = excluded.updated_at`,
			caller, string(l), micros(tx.now))
		return err
	})
	if err != nil {
		return fmt.Errorf("set language of caller: %w", err)
	}
	return nil
}
