package calendar

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/supportdesk/ivr/oncall"
)

// Schedule is what a feed is built from; *oncall.Service is one.
type Schedule interface {
	Now() time.Time
	Snapshot() *oncall.Snapshot
	// Rotations returns every version of every rotation.
	Rotations(ctx context.Context) ([]oncall.Rotation, error)
	// Overrides returns the overrides that end after from and start before to.
	Overrides(ctx context.Context, from, to time.Time) ([]oncall.Override, error)
}

// Build returns feed f as of now: its shifts from now-Past to now+Ahead as
// an iCalendar document, events named with host (see the package comment).
func Build(ctx context.Context, sched Schedule, f Feed, host string, now time.Time) ([]byte, error) {
	snap := sched.Snapshot()
	if snap == nil {
		return nil, fmt.Errorf("build calendar feed %d: the schedule is not loaded yet", f.ID)
	}
	from, to := now.Add(-Past), now.Add(Ahead)
	rotations, err := sched.Rotations(ctx)
	if err != nil {
		return nil, fmt.Errorf("build calendar feed %d: %w", f.ID, err)
	}
	overrides, err := sched.Overrides(ctx, from.Add(-oncall.MaxOverrideLength), to)
	if err != nil {
		return nil, fmt.Errorf("build calendar feed %d: %w", f.ID, err)
	}
	b := builder{snap: snap, host: host, now: now.UTC(),
		versions: map[int64][]oncall.Rotation{}, overrides: map[int64]oncall.Override{}}
	for _, r := range rotations {
		b.versions[r.ID] = append(b.versions[r.ID], r)
	}
	for _, o := range overrides {
		b.overrides[o.ID] = o
	}

	cal := ics.NewCalendarFor("supportdesk//ivr")
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	var shifts []oncall.Shift
	switch f.Kind {
	case EngineerFeed:
		name := oncall.PrintableName(snap.Engineers[f.EngineerID].Name, f.EngineerID)
		cal.SetName("On call: " + name)
		cal.SetXWRCalName("On call: " + name)
		for _, level := range oncall.Levels {
			for _, s := range snap.Schedule.Shifts(level, from, to) {
				if s.EngineerID == f.EngineerID {
					shifts = append(shifts, s)
				}
			}
		}
	case LevelFeed:
		cal.SetName("On call " + f.Level.String())
		cal.SetXWRCalName("On call " + f.Level.String())
		shifts = snap.Schedule.Shifts(f.Level, from, to)
	default:
		return nil, fmt.Errorf("build calendar feed %d: unknown kind %q", f.ID, f.Kind)
	}
	cal.SetRefreshInterval("PT1H")
	cal.SetXPublishedTTL("PT1H")
	slices.SortStableFunc(shifts, func(a, b oncall.Shift) int { return a.Start.Compare(b.Start) })
	for _, s := range shifts {
		b.add(cal, f.Kind, s)
	}
	var buf bytes.Buffer
	if err := cal.SerializeTo(&buf, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("build calendar feed %d: %w", f.ID, err)
	}
	return buf.Bytes(), nil
}

type builder struct {
	snap      *oncall.Snapshot
	host      string
	now       time.Time
	versions  map[int64][]oncall.Rotation // by rotation id, in version order
	overrides map[int64]oncall.Override
}

// UID returns the UID of shift s of a feed whose events are named with host
// (the rule in the package comment).
func UID(s oncall.Shift, host string) string {
	if s.OverrideID != 0 {
		return fmt.Sprintf("%s-%s-override-%d-%d@%s", s.Level, s.Layer, s.OverrideID, s.Start.Unix(), host)
	}
	return fmt.Sprintf("%s-%s-rotation-%d-%d-%d@%s", s.Level, s.Layer, s.RotationID, s.Start.Unix(), s.End.Unix(), host)
}

func (b *builder) add(cal *ics.Calendar, kind Kind, s oncall.Shift) {
	e := cal.AddEvent(UID(s, b.host))
	e.SetDtStampTime(b.now)
	e.SetStartAt(s.Start)
	e.SetEndAt(s.End)
	e.SetTimeTransparency(ics.TransparencyTransparent)
	who := oncall.PrintableName(b.snap.Engineers[s.EngineerID].Name, s.EngineerID)
	what := fmt.Sprintf("%s %s", s.Level, s.Layer)
	summary := "On call " + what
	if kind == LevelFeed {
		summary = what + ": " + who
	}
	var desc string
	if s.OverrideID != 0 {
		summary += " (override)"
		desc = fmt.Sprintf("Override %d: %s on call for %s.", s.OverrideID, who, what)
		o, ok := b.overrides[s.OverrideID]
		if ok && o.Reason != "" {
			desc += " Reason: " + o.Reason
		}
		e.SetSequence(0)
		if ok {
			e.SetLastModifiedAt(o.CreatedAt)
			e.SetCreatedTime(o.CreatedAt)
		}
	} else {
		v := b.version(s)
		desc = fmt.Sprintf("Rotation %q (%d, version %d): %s on call for %s.", v.Name, s.RotationID, v.Version, who, what)
		e.SetSequence(v.Version)
		modified := v.EffectiveFrom
		if modified.IsZero() || modified.After(b.now) {
			modified = b.now
		}
		e.SetLastModifiedAt(modified)
	}
	if s.OpenEnded() {
		desc += " No end is planned."
	}
	e.SetSummary(summary)
	e.SetDescription(desc)
}

// version returns the version of s's rotation in force at s's start: the
// latest that took effect at or before it (the first, if none).
func (b *builder) version(s oncall.Shift) oncall.Rotation {
	vs := b.versions[s.RotationID]
	if len(vs) == 0 {
		return oncall.Rotation{ID: s.RotationID}
	}
	v := vs[0]
	for _, w := range vs[1:] {
		if !w.EffectiveFrom.After(s.Start) && w.Version > v.Version {
			v = w
		}
	}
	return v
}
