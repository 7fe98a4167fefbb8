package oncall

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/supportdesk/ivr/errs"
)

// SwapShifts gives shift a to b's engineer and shift b to a's, as two
// overrides stored together or not at all (an admin swapping two shifts
// never leaves one engineer on both). A shift in progress is swapped from
// now on: who was on call so far stays as it was. Invalid when the two
// shifts are one engineer's, or (field start) when either overlaps an
// override already there; the fields are first and second. Admins only.
func (s *Service) SwapShifts(ctx context.Context, actor string, a, b Shift) ([]Override, error) {
	if a.EngineerID == b.EngineerID {
		return nil, errs.InvalidField("second", "is a shift of the same engineer as the first; choose another engineer's")
	}
	now := s.opts.Now()
	names := map[int64]string{}
	if snap := s.snap.Load(); snap != nil {
		names[a.EngineerID], names[b.EngineerID] = snap.Engineers[a.EngineerID].Name, snap.Engineers[b.EngineerID].Name
	}
	give := func(sh Shift, to, from int64) Override {
		start := sh.Start
		if start.Before(now) {
			start = now
		}
		return Override{Level: sh.Level, Layer: sh.Layer, EngineerID: to, Start: start, End: sh.End,
			Reason: strings.TrimSpace(fmt.Sprintf("swap: %s's shift", names[from]))}
	}
	os := []Override{give(a, b.EngineerID, a.EngineerID), give(b, a.EngineerID, b.EngineerID)}
	for i, o := range os {
		field := [2]string{"first", "second"}[i]
		n, err := o.Normalize()
		if err != nil {
			return nil, errs.Prefix(field, err)
		}
		if !n.End.After(now) {
			return nil, errs.InvalidField(field, "has ended; choose a shift to come")
		}
		os[i] = n
	}
	out, err := s.store.CreateOverrides(ctx, actor, os)
	var e *errs.Error
	if errors.As(err, &e) && e.Code == errs.Conflict {
		// An overlap is the admin's to change, as CreateOverride has it, on
		// the shift whose override it is.
		field := "first"
		if strings.HasPrefix(e.Field, "overrides[1]") {
			field = "second"
		}
		return nil, errs.InvalidField(field, "%s", e.Message)
	}
	if err != nil {
		return nil, err
	}
	s.afterChange(ctx)
	return out, nil
}
