//go:build linux

package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/pager"
)

// The crash tests kill the real `ivr serve` with SIGKILL while pages
// flow, at each phase of the pager's work where a crash leaves the most to
// recover, restart it, and prove from the fake Twilio's record that every
// page ended acknowledged by the scripted engineer and that no request the
// fake accepted was made twice (a resend is allowed only where the fake
// never received the original).

// crashPhases are the pager's pauses, in the order the kills go round
// them: a claim committed; Twilio's 201 in hand, its SID not stored; the
// SID stored, the outcome unknown; a page's timer come, its escalation not
// stored.
var crashPhases = []string{string(pager.PhaseClaimed), string(pager.PhaseAccepted), string(pager.PhaseRecorded), string(pager.PhaseDue)}

// crashKillsPerPhase is how many times each backend is killed at each
// phase.
const crashKillsPerPhase = 5

// crashClockSpeed runs the pager's clock fast enough that a slow page's
// 7½-minute rung passes in under 4 s.
const crashClockSpeed = "120"

func TestCrashSQLite(t *testing.T) {
	skipShort(t)
	runCrash(t, "SQLite", filepath.Join(t.TempDir(), "ivr.db"))
}

func TestCrashPostgres(t *testing.T) {
	skipShort(t)
	runCrash(t, "PostgreSQL", pgtest.URL(t))
}

// runCrash kills one instance crashKillsPerPhase times at each phase,
// restarting it with the next phase's pause each time, then lets a last
// instance finish everything and checks the record.
func runCrash(t *testing.T, backend, db string) {
	addr := freeAddr(t)
	r := newCrashRig(t, "http://"+addr)
	env := func(phase string) []string {
		// One fast time line for every run: a restarted instance goes on
		// from the times the dead one stored.
		return r.env(db, "IVR_TEST_CLOCK_SPEED="+crashClockSpeed, "IVR_TEST_CLOCK_START="+r.start.UTC().Format(time.RFC3339Nano),
			"IVR_TEST_PAUSE_AT="+phase)
	}
	r.setRaising(true)
	for range crashKillsPerPhase {
		for _, phase := range crashPhases {
			r.setPhase(phase)
			p := r.launch(addr, env(phase))
			ev, paused := r.awaitReady(p, 30*time.Second)
			if !paused {
				r.gate.open()
				ev = r.awaitPause(p, phase, 60*time.Second)
			}
			r.gate.close()
			p.kill()
			r.killed(p, ev)
		}
	}
	r.setPhase("")
	last := r.launch(addr, env(""))
	r.awaitReady(last, 30*time.Second)
	r.gate.open()
	r.setRaising(false)
	r.settle(60 * time.Second)
	r.verify()
	r.gate.close()
	last.stop(t)
	r.killSummary(backend)
	for _, phase := range crashPhases {
		if n := r.kills[phase]; n < crashKillsPerPhase {
			t.Errorf("%d kills at %s, want at least %d", n, phase, crashKillsPerPhase)
		}
	}
}

// TestCrashPostgresTwoInstances: two instances, A and B, share one
// database; the load balancer sends Twilio's callbacks, the engineer's
// replies and the API to B (both have B's address as their public URL).
// A's pager stops at a phase holding an attempt and A is killed; B, never
// restarted, finishes the page A held. At "accepted" A made the call but
// never stored its SID, so whoever stored it is B (it found the call at
// Twilio once A's lease ran out, or heard of it from the call's initiated
// callback); at "claimed" A made no call, so the one call the fake got for
// the attempt is B's.
func TestCrashPostgresTwoInstances(t *testing.T) {
	skipShort(t)
	db := pgtest.URL(t)
	bAddr := freeAddr(t)
	r := newCrashRig(t, "http://"+bAddr)
	r.noSlow = true // without a fast clock a rung's wait is 7½ real minutes
	r.answerKnown = true
	env := func(phase string) []string {
		return r.env(db, "IVR_PUBLIC_URL="+r.base, "IVR_TEST_PAUSE_AT="+phase)
	}
	// B first, alone: it migrates and seeds the demo team.
	b := r.launch(bAddr, env(""))
	r.awaitReady(b, 30*time.Second)
	r.gate.open()
	for _, phase := range []string{string(pager.PhaseAccepted), string(pager.PhaseClaimed)} {
		a := r.launch(freeAddr(t), env(phase))
		ev, paused := r.awaitReady(a, 30*time.Second)
		if !paused {
			r.setRaising(true) // until A, not B, claims one
			ev = r.awaitPause(a, phase, 60*time.Second)
			r.setRaising(false)
		}
		found := b.count(msgFound)
		a.kill()
		r.killed(a, ev)
		r.settle(45 * time.Second)
		p, atts, err := r.page(ev.PageID)
		if err != nil || p.Status != "acknowledged" {
			t.Fatalf("the page %s held when it was killed at %s: %+v %v", a.name, phase, p, err)
		}
		var made []faketwilio.Request
		for _, q := range r.fake.Requests() {
			if id, _ := attemptOfCallback(q.StatusCallback); id == ev.AttemptID {
				made = append(made, q)
			}
		}
		var held crashAttempt
		for _, at := range atts {
			if at.ID == ev.AttemptID {
				held = at
			}
		}
		switch {
		case len(made) != 1:
			t.Errorf("attempt %d, held by %s when it was killed at %s: the fake accepted %d requests for it, want 1", ev.AttemptID, a.name, phase, len(made))
		case held.ProviderID != made[0].SID:
			t.Errorf("attempt %d, held by %s when it was killed at %s: B stored provider id %q, want %s", ev.AttemptID, a.name, phase, held.ProviderID, made[0].SID)
		default:
			how := "made the call itself"
			if phase == string(pager.PhaseAccepted) {
				how = "found A's call at Twilio"
				if b.count(msgFound) == found {
					t.Errorf("attempt %d: B stored A's call %s without finding it at Twilio", ev.AttemptID, held.ProviderID)
				}
			}
			t.Logf("%s killed at %s holding attempt %d of page %d: B %s and the page was acknowledged by %s via %s",
				a.name, phase, ev.AttemptID, ev.PageID, how, p.AckedByName, p.AckVia)
		}
	}
	select {
	case <-b.exited:
		t.Fatalf("B ended: %v\n%s", b.exitErr, b.tail())
	default:
	}
	r.verify()
	r.gate.close()
	b.stop(t)
	r.killSummary("PostgreSQL, two instances")
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash tests build and kill the real binary for about a minute; not with -short")
	}
}
