package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/pager"
)

var _ pager.OptOuts = (*DB)(nil)

// maxPhoneLength bounds a phone number kept as an opt-out's key.
const maxPhoneLength = 32

// SetSMSOptOut records that phone (E.164) opted out of texts (out), or back
// in, on the provider's word at time at. A word older than the one stored
// changes nothing: callbacks and refusals may arrive out of order. Invalid
// (phone) for an empty or overlong number. No audit entry: it is the
// phone's owner's choice, reported by the provider, not an admin's change.
func (db *DB) SetSMSOptOut(ctx context.Context, phone string, out bool, at time.Time) error {
	phone = strings.TrimSpace(phone)
	switch {
	case phone == "":
		return errs.InvalidField("phone", "is required")
	case len(phone) > maxPhoneLength:
		return errs.InvalidField("phone", "is longer than %d characters", maxPhoneLength)
	}
	flag := 0
	if out {
		flag = 1
	}
	err := db.update(ctx, func(tx *tx) error {
		_, err := tx.exec(ctx, `INSERT INTO sms_opt_outs (phone, opted_out, changed_at) VALUES (?, ?, ?)
			ON CONFLICT (phone) DO UPDATE SET opted_out = excluded.opted_out, changed_at = excluded.changed_at
			WHERE excluded.changed_at >= sms_opt_outs.changed_at`,
			phone, flag, micros(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("set sms opt-out of %s: %w", phone, err)
	}
	return nil
}

// SMSOptedOut reports whether phone is opted out of texts now.
func (db *DB) SMSOptedOut(ctx context.Context, phone string) (bool, error) {
	var flag int
	err := db.reads().queryRow(ctx, "SELECT opted_out FROM sms_opt_outs WHERE phone = ?", strings.TrimSpace(phone)).Scan(&flag)
	switch {
	case isNoRows(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("get sms opt-out of %s: %w", phone, err)
	}
	return flag == 1, nil
}

// SMSOptOuts returns every number opted out of texts now, with the time
// it did.
func (db *DB) SMSOptOuts(ctx context.Context) (map[string]time.Time, error) {
	rows, err := db.reads().query(ctx, "SELECT phone, changed_at FROM sms_opt_outs WHERE opted_out = 1")
	if err != nil {
		return nil, fmt.Errorf("list sms opt-outs: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var (
			phone string
			at    int64
		)
		if err := rows.Scan(&phone, &at); err != nil {
			return nil, fmt.Errorf("list sms opt-outs: %w", err)
		}
		out[phone] = fromMicros(at)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sms opt-outs: %w", err)
	}
	return out, nil
}
