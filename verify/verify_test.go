package verify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/verify"
)

const (
	adminActor = "token:1 (admin)"
	annActor   = "token:2 (ann's phone)"
	annsOwn    = "+79161234567" // a landline Ann gave the admin: verified
	annsNew    = "+12025550177" // the mobile Ann adds herself: takes texts
	annsDesk   = "+12025550188" // a desk phone Ann adds herself: no texts
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is the test's time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) After(time.Duration) <-chan time.Time {
	return make(chan time.Time) // the test drives the engine with RunOnce
}
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// phone is the pager's voice and text channel: what reached each number.
type phone struct {
	mu   sync.Mutex
	sent []pager.Attempt
}

func (p *phone) Send(_ context.Context, a pager.Attempt) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, a)
	return fmt.Sprintf("XX%d", a.ID), nil
}

func (p *phone) Find(context.Context, pager.Attempt) (string, error) { return "", nil }

func (p *phone) last(t *testing.T) pager.Attempt {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sent) == 0 {
		t.Fatal("nothing reached the phone")
	}
	return p.sent[len(p.sent)-1]
}

type rig struct {
	svc    *verify.Service
	oncall *oncall.Service
	pages  *pager.Engine
	phone  *phone
	clock  *clock
	logs   *observer.ObservedLogs
	ann    oncall.Engineer
	// restart is a new engine over the same store and key, as an
	// instance started after a crash has, sending to the same phone.
	restart func() *pager.Engine
	db      *store.DB
}

type roster struct{ svc *oncall.Service }

func (r roster) OnCall(level oncall.Level, layer oncall.Layer, t time.Time) (oncall.Engineer, bool) {
	a, ok := r.svc.OnCall(level, layer, t)
	return a.Engineer, ok
}

// newRig is the service over a real store and pager, with Ann, whose
// landline an admin entered and who added two numbers herself.
func newRig(t *testing.T, cfg verify.Config) *rig {
	t.Helper()
	ctx := t.Context()
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	db := storetest.OpenSQLite(t)
	clk := &clock{now: t0}
	db.Now = clk.Now
	on := oncall.NewService(db, log, oncall.ServiceOptions{Now: clk.Now})
	if err := on.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ann, err := on.CreateEngineer(ctx, adminActor, oncall.Engineer{Name: "Ann", Level: oncall.L1, Languages: []oncall.Language{oncall.Russian},
		TimeZone: "Europe/Moscow", Contacts: []oncall.ContactMethod{{Phone: annsOwn}}})
	if err != nil {
		t.Fatal(err)
	}
	ann, err = on.UpdateContacts(ctx, annActor, ann.ID, []oncall.ContactMethod{{Phone: annsOwn}, {Phone: annsNew, SMS: true}, {Phone: annsDesk}})
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{1}, pager.SealKeySize)
	sealer, err := pager.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	ph := &phone{}
	pages, err := pager.New(pager.Config{Store: db, Roster: roster{on}, Policies: on, Clock: clk, Log: log, Sealer: sealer,
		Channels: map[pager.Kind]pager.Channel{pager.KindVoice: ph, pager.KindSMS: ph}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Engineers, cfg.Outbox, cfg.Sealer, cfg.HashKey, cfg.Now, cfg.Log = db, on, pages, sealer, key, clk.Now, log
	cfg.OptOuts = db
	svc, err := verify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	restart := func() *pager.Engine {
		again, err := pager.New(pager.Config{Store: db, Roster: roster{on}, Policies: on, Clock: clk, Log: log, Sealer: sealer,
			Channels: map[pager.Kind]pager.Channel{pager.KindVoice: ph, pager.KindSMS: ph}})
		if err != nil {
			t.Fatal(err)
		}
		return again
	}
	return &rig{svc: svc, oncall: on, pages: pages, phone: ph, clock: clk, logs: logs, ann: ann, restart: restart, db: db}
}

// send asks for a code to phone and returns what reached it.
func (r *rig) send(t *testing.T, phone string) pager.Attempt {
	t.Helper()
	if err := r.svc.Send(t.Context(), annActor, r.ann.ID, phone); err != nil {
		t.Fatalf("Send %s: %v", phone, err)
	}
	r.pages.RunOnce(t.Context())
	a := r.phone.last(t)
	if a.To != phone {
		t.Fatalf("the last message went to %s, not %s", a.To, phone)
	}
	return a
}

// codeIn is the six digits in a text.
func codeIn(t *testing.T, text string) string {
	t.Helper()
	for i := 0; i+6 <= len(text); i++ {
		if s := text[i : i+6]; strings.Trim(s, "0123456789") == "" && (i+6 == len(text) || text[i+6] < '0' || text[i+6] > '9') {
			return s
		}
	}
	t.Fatalf("no code in %q", text)
	return ""
}

func wantErr(t *testing.T, err error, code errs.Code, field, says string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != code || e.Field != field || !strings.Contains(e.Message, says) {
		t.Fatalf("error %v, want %s on %q saying %q", err, code, field, says)
	}
}

func (r *rig) reachable(t *testing.T, phone string) bool {
	t.Helper()
	e, err := r.oncall.Engineer(t.Context(), r.ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.Reachable() {
		if c.Phone == phone {
			return true
		}
	}
	return false
}

func (r *rig) noCodeLogged(t *testing.T, code string) {
	t.Helper()
	for _, e := range r.logs.All() {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += fmt.Sprintf(" %s=%v", k, v)
		}
		if strings.Contains(line, code) {
			t.Fatalf("the code %s is in the log: %s", code, line)
		}
	}
}

func TestSendConfirm(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		r := newRig(t, verify.Config{Texts: true, Calls: true})
		if !r.reachable(t, annsOwn) || r.reachable(t, annsNew) {
			t.Fatal("the admin's number must be reachable and Ann's own addition not")
		}
		a := r.send(t, annsNew)
		if a.Kind != pager.KindSMS || !strings.Contains(a.Body, "код подтверждения") {
			t.Fatalf("code went as %s %q; want a text in Russian", a.Kind, a.Body)
		}
		code := codeIn(t, a.Body)
		// The store holds the code's hash and its message sealed, never the
		// code itself.
		open, err := r.db.OpenCode(t.Context(), r.ann.ID, annsNew)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := r.db.Attempt(t.Context(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(open.Hash, code) || strings.Contains(stored.Body, code) || stored.Body == "" {
			t.Fatalf("the store keeps the code %s in clear: hash %q, message %q", code, open.Hash, stored.Body)
		}
		if err := r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, code); err != nil {
			t.Fatal(err)
		}
		if !r.reachable(t, annsNew) {
			t.Fatal("a confirmed number is not reachable")
		}
		// The schedule's snapshot, which the pager and the IVR read, has it.
		if e := r.oncall.Snapshot().Engineers[r.ann.ID]; len(e.Reachable()) != 2 {
			t.Fatalf("snapshot after the confirmation: %+v", e.Contacts)
		}
		wantErr(t, r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, code), errs.Conflict, "phone", "verified already")
		wantErr(t, r.svc.Send(t.Context(), annActor, r.ann.ID, annsNew), errs.Conflict, "phone", "verified already")
		r.noCodeLogged(t, code)
	})

	t.Run("SurvivesACrash", func(t *testing.T) {
		// The code is in the outbox once Send returns; the instance that
		// wrote it stops before sending it, and the next one sends it.
		r := newRig(t, verify.Config{Texts: true, Calls: true})
		if err := r.svc.Send(t.Context(), annActor, r.ann.ID, annsNew); err != nil {
			t.Fatal(err)
		}
		r.restart().RunOnce(t.Context())
		a := r.phone.last(t)
		if a.To != annsNew {
			t.Fatalf("after the restart the code went to %s", a.To)
		}
		if err := r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, codeIn(t, a.Body)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ByVoiceWithoutTexts", func(t *testing.T) {
		r := newRig(t, verify.Config{Texts: true, Calls: true})
		a := r.send(t, annsDesk)
		if a.Kind != pager.KindVoice || len(a.Body) != verify.CodeDigits {
			t.Fatalf("code to a number without texts went as %s %q; want a call with the digits", a.Kind, a.Body)
		}
		ps := pager.CodeCallPrompts(a.Language, a.Body)
		if len(ps) != 2+6+1+6+1 || ps[0].Lang != oncall.Russian || ps[2].Name != "digit_"+a.Body[:1] || ps[9].Name != "digit_"+a.Body[:1] {
			t.Fatalf("the call says %+v", ps)
		}
		if err := r.svc.Confirm(t.Context(), annActor, r.ann.ID, "+1 (202) 555-0188", a.Body); err != nil {
			t.Fatal(err)
		}
		r.noCodeLogged(t, a.Body)
	})

	t.Run("ByVoiceAfterSTOP", func(t *testing.T) {
		r := newRig(t, verify.Config{Texts: true, Calls: true})
		if err := r.db.SetSMSOptOut(t.Context(), annsNew, true, t0); err != nil {
			t.Fatal(err)
		}
		if a := r.send(t, annsNew); a.Kind != pager.KindVoice {
			t.Fatalf("code to a number that texted STOP went as %s; want a call", a.Kind)
		}
	})

	t.Run("ByVoiceWhenThePagerCannotText", func(t *testing.T) {
		r := newRig(t, verify.Config{Calls: true})
		if a := r.send(t, annsNew); a.Kind != pager.KindVoice {
			t.Fatalf("code went as %s; want a call", a.Kind)
		}
	})

	t.Run("ErrNoChannel", func(t *testing.T) {
		r := newRig(t, verify.Config{})
		wantErr(t, r.svc.Send(t.Context(), annActor, r.ann.ID, annsDesk), errs.Unavailable, "", "neither text nor call")
	})

	t.Run("WrongCodesCountDownAndVoid", func(t *testing.T) {
		r := newRig(t, verify.Config{Texts: true, Calls: true})
		code := codeIn(t, r.send(t, annsNew).Body)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for left := 4; left >= 1; left-- {
			wantErr(t, r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, wrong), errs.Invalid, "code", fmt.Sprintf("wrong code; %d tr", left))
		}
		wantErr(t, r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, wrong), errs.Invalid, "code", "the code is void")
		wantErr(t, r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, code), errs.Invalid, "code", "ask for one")
		if r.reachable(t, annsNew) {
			t.Fatal("a void code verified the number")
		}
		wantErr(t, r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, "12345"), errs.Invalid, "code", "6 digits")
	})

	t.Run("Expires", func(t *testing.T) {
		r := newRig(t, verify.Config{Texts: true, Calls: true})
		code := codeIn(t, r.send(t, annsNew).Body)
		r.clock.add(10 * time.Minute)
		wantErr(t, r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, code), errs.Invalid, "code", "expired")
	})

	t.Run("NewCodeReplacesOld", func(t *testing.T) {
		r := newRig(t, verify.Config{Texts: true, Calls: true})
		old := codeIn(t, r.send(t, annsNew).Body)
		r.clock.add(time.Minute)
		code := codeIn(t, r.send(t, annsNew).Body)
		if old != code {
			wantErr(t, r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, old), errs.Invalid, "code", "wrong code")
		}
		if err := r.svc.Confirm(t.Context(), annActor, r.ann.ID, annsNew, code); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ResendsLimited", func(t *testing.T) {
		r := newRig(t, verify.Config{Texts: true, Calls: true})
		r.send(t, annsNew)
		r.clock.add(30 * time.Second)
		wantErr(t, r.svc.Send(t.Context(), annActor, r.ann.ID, annsNew), errs.TooMany, "phone", "ask for another in 30s")
		// Another number has a limit of its own.
		r.send(t, annsDesk)
		for range 4 {
			r.clock.add(time.Minute)
			r.send(t, annsNew)
		}
		r.clock.add(time.Minute)
		wantErr(t, r.svc.Send(t.Context(), annActor, r.ann.ID, annsNew), errs.TooMany, "phone", "5 codes in the last hour")
		r.clock.add(56 * time.Minute)
		r.send(t, annsNew)
	})

	t.Run("EngineerLimited", func(t *testing.T) {
		r := newRig(t, verify.Config{Texts: true, Calls: true, EngineerPerHour: 3})
		r.send(t, annsNew)
		r.clock.add(time.Minute)
		r.send(t, annsDesk)
		r.clock.add(time.Minute)
		r.send(t, annsNew)
		r.clock.add(time.Minute)
		wantErr(t, r.svc.Send(t.Context(), annActor, r.ann.ID, annsDesk), errs.TooMany, "phone",
			"3 codes were sent to this engineer's numbers in the last hour; ask for another in 57m0s")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		r := newRig(t, verify.Config{Texts: true, Calls: true})
		wantErr(t, r.svc.Send(t.Context(), annActor, 999, annsNew), errs.NotFound, "", "")
		wantErr(t, r.svc.Send(t.Context(), annActor, r.ann.ID, "+12025550199"), errs.NotFound, "phone", "has no number")
		wantErr(t, r.svc.Confirm(t.Context(), annActor, r.ann.ID, "+12025550199", "123456"), errs.NotFound, "phone", "has no number")
		wantErr(t, r.svc.Send(t.Context(), annActor, r.ann.ID, "8 800 555"), errs.Invalid, "phone", "international form")
		wantErr(t, r.svc.Send(t.Context(), annActor, r.ann.ID, annsOwn), errs.Conflict, "phone", "verified already")
	})
}

// TestOwnEditKeepsVerified: an engineer who edits their numbers keeps the
// verified ones verified, and gets every new one unverified whatever they
// send; an admin's edit trusts every number.
func TestOwnEditKeepsVerified(t *testing.T) {
	r := newRig(t, verify.Config{Texts: true, Calls: true})
	ctx := t.Context()
	e, err := r.oncall.UpdateContacts(ctx, annActor, r.ann.ID, []oncall.ContactMethod{
		{Phone: "+1 202 555 0199", SMS: true}, {Phone: annsOwn, SMS: true}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Contacts[0].Verified() || !e.Contacts[1].Verified() {
		t.Fatalf("after Ann's own edit: %+v; want the new number unverified, the admin's still verified", e.Contacts)
	}
	if e, err = r.oncall.UpdateContactsAsAdmin(ctx, adminActor, r.ann.ID, e.Contacts); err != nil {
		t.Fatal(err)
	}
	if len(e.Reachable()) != 2 {
		t.Fatalf("after an admin's edit: %+v; want every number verified", e.Contacts)
	}
}
