package pager

import (
	"context"
	"time"
)

// Store keeps pages and the outbox of their attempts. Every method is safe
// for concurrent use by several engines, in one process or (with
// PostgreSQL) in several. The store implements it.
type Store interface {
	Folder   // storms: page calls to one engineer folded together
	Lines    // which phones have page calls in flight
	Listener // wake-ups from other instances
	LegStore // engineer legs of live calls, in the same outbox
	// CreatePage stores a new page p (its ID is assigned), then, in the
	// same transaction, calls open with the page as stored (ID set) and
	// stores the page as open left it along with the changes it returns.
	// A page whose Key is stored already is returned as it is, with
	// created false, and open is not called. The commit is durable.
	CreatePage(ctx context.Context, p Page, open func(p *Page) Changes) (stored Page, created bool, err error)
	// UpdatePage loads page id and its attempts (oldest first), calls fn,
	// and, if fn returns nil, stores the page as fn left it together with
	// fn's changes, in one durable transaction; it returns the page as
	// stored. Concurrent updates of one page are serialised (a row lock
	// or the database's write lock), so fn sees the latest page. Added
	// attempts get status Intended; an added attempt whose Key the page
	// has already is not added again. An Ended for an attempt that is
	// Done already changes nothing; Canceled ends only an attempt still
	// Intended. errs.NotFound if there is no page id; fn's error is
	// returned as it is and nothing is written.
	UpdatePage(ctx context.Context, id int64, fn func(p *Page, atts []Attempt) (Changes, error)) (Page, error)
	// Page returns page id and its attempts, oldest first; errs.NotFound
	// if there is none.
	Page(ctx context.Context, id int64) (Page, []Attempt, error)
	// Pages lists pages newest first (by id).
	Pages(ctx context.Context, f Filter) ([]Page, error)
	// DuePages returns the ids of open pages whose DueAt is at or before
	// now, soonest first, at most limit.
	DuePages(ctx context.Context, now time.Time, limit int) ([]int64, error)
	// NextDue returns the earliest DueAt of an open page; false if no
	// open page has one.
	NextDue(ctx context.Context) (time.Time, bool, error)

	// ClaimAttempts leases to owner, until the database's clock plus
	// lease, at most limit attempts that are Intended and whose NotBefore
	// is at or before now (the engine's clock, which set it; zero: the
	// database's clock), oldest first, and returns them
	// as Sending with Tries incremented and ClaimedAt set. A voice attempt
	// is claimed only while no other voice attempt to its number is
	// Sending, Sent or InDoubt: one page call in flight per phone. With
	// PostgreSQL the candidates are locked FOR UPDATE SKIP LOCKED in a
	// short transaction that commits the lease, so instances never wait
	// on each other and never claim the same attempt.
	ClaimAttempts(ctx context.Context, owner string, lease time.Duration, limit int, now time.Time) ([]Attempt, error)
	// ClaimInDoubt leases to owner, as ClaimAttempts does, at most limit
	// attempts whose lease has run out while Sending or InDoubt (their
	// claimer died, or lost track, after the request may have been made),
	// and returns them as InDoubt, ClaimedAt unchanged (the time after
	// which the request in doubt was made).
	ClaimInDoubt(ctx context.Context, owner string, lease time.Duration, limit int) ([]Attempt, error)
	// AttemptSent records providerID for attempt id held by owner and
	// makes it Sent (no lease any more). errs.Conflict if owner does not
	// hold it (its lease ran out and another claimed it); errs.NotFound
	// if there is no such attempt. Recording the same providerID again is
	// not an error.
	AttemptSent(ctx context.Context, id int64, owner, providerID string) error
	// ConfirmAttempt records providerID for attempt id on the provider's
	// own word (a callback naming the attempt), whoever holds it: one out
	// for sending becomes Sent; one that ended keeps its outcome. An
	// attempt with a provider id already is left alone. errs.NotFound if
	// there is no such attempt.
	ConfirmAttempt(ctx context.Context, id int64, providerID string) error
	// RetryAttempt puts attempt id held by owner back to Intended, not to
	// be claimed before notBefore, noting detail. errs.Conflict if owner
	// does not hold it.
	RetryAttempt(ctx context.Context, id int64, owner string, notBefore time.Time, detail string) error
	// Attempt returns attempt id; errs.NotFound if there is none.
	Attempt(ctx context.Context, id int64) (Attempt, error)
	// AttemptByProviderID returns the attempt the provider knows by id;
	// errs.NotFound if none.
	AttemptByProviderID(ctx context.Context, providerID string) (Attempt, error)
	// StaleAttempts returns at most limit attempts that are Sent and were
	// last updated before the given time: their outcome callback is late
	// or lost.
	StaleAttempts(ctx context.Context, updatedBefore time.Time, limit int) ([]Attempt, error)
}

// Filter selects pages, newest first.
type Filter struct {
	Status Status // "": any
	Before int64  // 0: from the newest; else pages with a smaller id
	Limit  int    // 0: 100; at most 1000
}
