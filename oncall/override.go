package oncall

import (
	"strings"
	"time"

	"github.com/supportdesk/ivr/errs"
)

// Override puts an engineer on call for a level's layer from Start to End,
// replacing whoever the rotations give. It is how a shift is covered or
// swapped. Two overrides of one level and layer never overlap.
type Override struct {
	ID         int64     `json:"id"`
	Level      Level     `json:"level"`
	Layer      Layer     `json:"layer"`
	EngineerID int64     `json:"engineer_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Reason     string    `json:"reason,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// MaxOverrideLength bounds one override; longer cover belongs in a rotation.
const MaxOverrideLength = 90 * 24 * time.Hour

// Normalize validates o's own fields (not whether the engineer exists or
// whether o overlaps another override).
func (o Override) Normalize() (Override, error) {
	if !o.Level.Valid() {
		return o, errs.InvalidField("level", "must be L1, L2 or L3")
	}
	if o.Layer == 0 {
		o.Layer = Primary
	}
	if !o.Layer.Valid() {
		return o, errs.InvalidField("layer", "must be primary or secondary")
	}
	if o.EngineerID <= 0 {
		return o, errs.InvalidField("engineer_id", "is required")
	}
	if o.Start.IsZero() {
		return o, errs.InvalidField("start", "is required (RFC 3339)")
	}
	if o.End.IsZero() {
		return o, errs.InvalidField("end", "is required (RFC 3339)")
	}
	if !o.End.After(o.Start) {
		return o, errs.InvalidField("end", "must be after start")
	}
	if o.End.Sub(o.Start) > MaxOverrideLength {
		return o, errs.InvalidField("end", "an override lasts at most 90 days; use a rotation for longer cover")
	}
	o.Start, o.End = o.Start.UTC(), o.End.UTC()
	o.Reason = strings.TrimSpace(o.Reason)
	if len(o.Reason) > 500 {
		return o, errs.InvalidField("reason", "is longer than 500 characters")
	}
	return o, nil
}

// Overlaps reports whether o and p cover a common instant of the same level
// and layer.
func (o Override) Overlaps(p Override) bool {
	return o.Level == p.Level && o.Layer == p.Layer && o.Start.Before(p.End) && p.Start.Before(o.End)
}
