package oncall

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// ServiceOptions tune a Service; zero values take the defaults.
type ServiceOptions struct {
	Now     func() time.Time // default time.Now
	History time.Duration    // how far back the schedule is precomputed; default 5 years
	Horizon time.Duration    // how far ahead; default 400 days
	// MaxSkew is how far in the past an edit's effective instant may lie
	// and still count as "now" (clock differences between an admin's
	// machine and the server); default 1 minute.
	MaxSkew time.Duration
	// ServiceNumbers are the service's own phone numbers (its lines, the
	// pager's caller id and texting number), each with what it is ("the
	// Moscow line"): no engineer may give one as theirs, or a page would
	// call the service itself.
	ServiceNumbers map[string]string
}

// Service is the on-call domain's front door: it validates changes, stores
// them, and answers "who is on call" from an immutable Snapshot swapped
// atomically after every change, so reads never wait for a write or the
// database.
type Service struct {
	store Store
	log   *zap.Logger
	opts  ServiceOptions

	refreshMu sync.Mutex // one rebuild at a time
	snap      atomic.Pointer[Snapshot]
}

// Snapshot is the schedule and the engineers as of one moment.
type Snapshot struct {
	Schedule  *Schedule
	Engineers map[int64]Engineer // every engineer, deleted ones included
	Built     time.Time
}

// NewService returns a Service over store. Call Refresh before the first
// read.
func NewService(store Store, log *zap.Logger, opts ServiceOptions) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.History == 0 {
		opts.History = 5 * 365 * 24 * time.Hour
	}
	if opts.Horizon == 0 {
		opts.Horizon = 400 * 24 * time.Hour
	}
	if opts.MaxSkew == 0 {
		opts.MaxSkew = time.Minute
	}
	own := make(map[string]string, len(opts.ServiceNumbers))
	for n, what := range opts.ServiceNumbers {
		if p, err := NormalizePhone(n); err == nil { // a Messaging Service id is no number
			own[p] = what
		}
	}
	opts.ServiceNumbers = own
	return &Service{store: store, log: log, opts: opts}
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.opts.Now() }

// Refresh rebuilds the snapshot from the store. Writes through the Service
// refresh on their own; call it periodically to pick up changes made by
// other instances and to move the precomputed window along.
func (s *Service) Refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	now := s.opts.Now()
	rotations, err := s.store.Rotations(ctx)
	if err != nil {
		return fmt.Errorf("load rotations: %w", err)
	}
	overrides, err := s.store.Overrides(ctx, time.Unix(0, 0), now.Add(100*365*24*time.Hour))
	if err != nil {
		return fmt.Errorf("load overrides: %w", err)
	}
	engineers, err := s.allEngineers(ctx, rotations, overrides)
	if err != nil {
		return err
	}
	sched, err := NewSchedule(rotations, overrides, now.Add(-s.opts.History), now.Add(s.opts.Horizon))
	if err != nil {
		return fmt.Errorf("build schedule: %w", err)
	}
	s.snap.Store(&Snapshot{Schedule: sched, Engineers: engineers, Built: now})
	return nil
}

// allEngineers loads the listed engineers plus deleted ones that the
// schedule still names, so that history shows who was on call.
func (s *Service) allEngineers(ctx context.Context, rotations []Rotation, overrides []Override) (map[int64]Engineer, error) {
	list, err := s.store.Engineers(ctx)
	if err != nil {
		return nil, fmt.Errorf("load engineers: %w", err)
	}
	m := make(map[int64]Engineer, len(list))
	for _, e := range list {
		m[e.ID] = e
	}
	need := func(id int64) error {
		if _, ok := m[id]; ok {
			return nil
		}
		e, err := s.store.Engineer(ctx, id)
		if err != nil {
			return fmt.Errorf("load engineer %d: %w", id, err)
		}
		m[id] = e
		return nil
	}
	for _, r := range rotations {
		for _, id := range r.Participants {
			if err := need(id); err != nil {
				return nil, err
			}
		}
	}
	for _, o := range overrides {
		if err := need(o.EngineerID); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Snapshot returns the current snapshot; nil before the first Refresh.
func (s *Service) Snapshot() *Snapshot { return s.snap.Load() }

// Assignment is who is on call for a level's layer, and for how long.
type Assignment struct {
	Shift    Shift
	Engineer Engineer
}

// OnCall answers who is on call for level and layer at t, from the current
// snapshot. ok is false when nobody is (a coverage gap).
func (s *Service) OnCall(level Level, layer Layer, t time.Time) (a Assignment, ok bool) {
	snap := s.snap.Load()
	if snap == nil {
		return Assignment{}, false
	}
	sh, ok := snap.Schedule.OnCall(level, layer, t)
	if !ok {
		return Assignment{}, false
	}
	return Assignment{Shift: sh, Engineer: snap.Engineers[sh.EngineerID]}, true
}

// afterChange rebuilds the snapshot after a successful write. The write has
// committed, so a failed rebuild is logged, not returned: the next periodic
// refresh catches up.
func (s *Service) afterChange(ctx context.Context) {
	if err := s.Refresh(ctx); err != nil {
		s.log.Error("refresh schedule after change", zap.Error(err))
	}
}

// effective resolves an edit's effective instant: zero means now, and an
// instant further in the past than MaxSkew is refused, since an edit never
// rewrites who was on call.
func (s *Service) effective(field string, at time.Time) (time.Time, error) {
	now := s.opts.Now()
	if at.IsZero() {
		return now.UTC(), nil
	}
	if at.Before(now.Add(-s.opts.MaxSkew)) {
		return time.Time{}, errs.InvalidField(field, "%s is in the past; edits take effect from now or later and never rewrite who was on call", at.UTC().Format(time.RFC3339))
	}
	if at.Before(now) {
		at = now
	}
	return at.UTC(), nil
}

// RunRefresh refreshes the snapshot (Refresh) at each tick, picking up
// changes made by other instances and moving the precomputed window
// along, until ctx is done. serve gives it a time.Ticker's channel. A
// failed refresh is logged; the snapshot in use stays until the next.
func (s *Service) RunRefresh(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("refresh schedules", zap.Error(err))
			}
		}
	}
}
