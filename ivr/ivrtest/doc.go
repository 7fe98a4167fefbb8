// Package ivrtest is the test kit of the call flow (package ivr): one
// in-memory implementation of each of the flow's dependencies (Tickets,
// Roster, Pages, Preferences, CallLog, OtherCalls), gathered in a Desk,
// and one settable Clock whose timers fire when a test moves it.
//
// It is for tests: those of ivr itself and those of any package that
// drives the flow (webhooks, simulator, cmd/ivr). Each fake keeps what it
// holds in memory behind a mutex, records what it was asked (copies are
// handed out, so reading them races with nothing), lets a test take over
// any method with a function field (TicketFn, RequestPageFn…), and can be
// made to fail every call as an unreachable store would (Fail). Like the
// flow, it imports only the domain (ivr, oncall, errs): no transport,
// provider or database package.
package ivrtest
