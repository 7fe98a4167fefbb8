package pager

import (
	"fmt"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// Event is something that happened to a page: Opened, Due, AttemptEnded,
// Acknowledge or Resolve.
type Event interface{ isEvent() }

// Opened starts a new page's escalation under Policy, the escalation policy
// of its priority at this instant.
type Opened struct{ Policy oncall.Policy }

// Due is the page's timer: DueAt has come. A Due before DueAt, or for a
// closed page, changes nothing, so that a late or repeated timer is
// harmless.
type Due struct{}

// AttemptEnded reports how one of the page's attempts ended. An attempt
// that has ended already is left as it is: callbacks may come twice.
type AttemptEnded struct {
	AttemptID int64
	Outcome   Outcome
	Detail    string
}

// Acknowledge is an engineer (or an admin) taking the page.
type Acknowledge struct {
	EngineerID int64  // 0 for someone who is not an engineer (an admin's token)
	Name       string // who, for people
	Via        Via
}

// Resolve closes the page.
type Resolve struct{ By string }

func (Opened) isEvent()       {}
func (Due) isEvent()          {}
func (AttemptEnded) isEvent() {}
func (Acknowledge) isEvent()  {}
func (Resolve) isEvent()      {}

// Rules are the pager's settings that shape every page.
type Rules struct {
	// OverdueWait is each rung's wait once a page is past its deadline
	// (and the wait of the repeats after the last rung). Default 5 min.
	OverdueWait time.Duration
	// LastResort is texted (E.164) when a rung finds nobody on call; ""
	// for nobody.
	LastResort         string
	LastResortLanguage oncall.Language
	// LineNames names the support lines (E.164 → the line's name, as
	// ivr.Line names it), for the texts.
	LineNames map[string]string
	// Quiet is when pages of a priority go by text only: outside the
	// waking hours of the engineer's time zone. Nil: voice at any hour.
	Quiet map[oncall.Priority]WakingHours
}

// WakingHours is the part of the day, in the engineer's own time zone, when
// a page may ring their phone: from Start to End (hours and minutes of the
// day; End before Start spans midnight).
type WakingHours struct {
	Start, End time.Duration
}

// Contains reports whether t, in zone loc, falls within the waking hours.
func (w WakingHours) Contains(t time.Time, loc *time.Location) bool {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	of := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute
	if w.Start <= w.End {
		return of >= w.Start && of < w.End
	}
	return of >= w.Start || of < w.End
}

func (r *Rules) overdueWait() time.Duration {
	if r.OverdueWait <= 0 {
		return 5 * time.Minute
	}
	return r.OverdueWait
}

// Env is what Apply reads besides the page and its attempts: the time, who
// is on call, and the rules.
type Env struct {
	Now time.Time
	// OnCall returns the engineer on call at level and layer at t; false
	// when nobody is.
	OnCall func(level oncall.Level, layer oncall.Layer, t time.Time) (Target, bool)
	Rules  Rules
	// Zone loads an engineer's time zone for the quiet hours; nil: UTC.
	Zone func(name string) *time.Location
}

// Ended finishes one attempt: set Outcome, unless it has ended already
// (or, for Canceled, unless it has left the outbox since).
type Ended struct {
	AttemptID int64
	Outcome   Outcome
	Detail    string
}

// Changes are what Apply wants done besides the change to the page itself,
// in the same transaction: attempts to add to the outbox, attempts to end.
type Changes struct {
	Add []Attempt
	End []Ended
}

// Empty reports whether there is nothing to do.
func (c Changes) Empty() bool { return len(c.Add) == 0 && len(c.End) == 0 }

// Apply moves page p on by event ev. atts are the page's attempts as
// stored. It changes p in place and returns what else to write. It is pure:
// the same page, attempts, event and env give the same result.
func Apply(p *Page, atts []Attempt, ev Event, env Env) Changes {
	m := &machine{p: p, atts: atts, env: env}
	p.Seq++
	switch ev := ev.(type) {
	case Opened:
		m.open(ev.Policy)
	case Due:
		m.due()
	case AttemptEnded:
		m.attemptEnded(ev)
	case Acknowledge:
		m.ack(ev)
	case Resolve:
		m.resolve(ev)
	}
	return m.out
}

type machine struct {
	p    *Page
	atts []Attempt
	env  Env
	out  Changes
}

func (m *machine) now() time.Time { return m.env.Now }

func (m *machine) log(what, format string, args ...any) {
	m.p.Log = append(m.p.Log, Entry{At: m.now(), What: what, Detail: fmt.Sprintf(format, args...)})
}

// open plans the escalation and pages the first rung.
func (m *machine) open(policy oncall.Policy) {
	p := m.p
	if p.Status != "" && p.Status != Open || len(p.Plan) > 0 {
		return // opened already
	}
	p.Status = Open
	if !p.Level.Valid() {
		p.Level = oncall.L1
	}
	if p.Deadline.IsZero() {
		p.Deadline = p.RaisedAt.Add(p.Priority.ResponseTime())
	}
	if p.Source == FromUpgrade && !m.now().Before(p.Deadline) {
		p.Status = Expired
		m.log("expired", "recorded before the pager existed and past its %s response window: not sent", p.Priority.ResponseTime())
		return
	}
	p.Plan, p.Compressed = PlanFor(policy, p.Level, m.now(), p.Deadline, m.env.Rules.overdueWait())
	m.log("opened", "%s, from %s; respond by %s", p.Priority, p.Level, p.Deadline.Format(time.RFC3339))
	if p.Compressed {
		m.log("compressed", "less time is left than the policy needs: every rung waits %s", p.Plan[0].Wait)
	}
	m.checkOverdue()
	m.startRung(0)
}

// checkOverdue marks the page overdue once its deadline has passed.
func (m *machine) checkOverdue() {
	if !m.p.Overdue && !m.now().Before(m.p.Deadline) {
		m.p.Overdue = true
		m.log("overdue", "the %s response time has passed", m.p.Priority.ResponseTime())
	}
}

// startRung pages rung i, or the first rung after it with somebody on call.
// When no rung of a whole round has anybody, the page waits OverdueWait
// and tries again from there.
func (m *machine) startRung(i int) {
	p := m.p
	repeatLen := 0
	for _, r := range p.Plan {
		if r.Level == p.Plan[len(p.Plan)-1].Level {
			repeatLen++
		}
	}
	for tries := 0; tries < len(p.Plan)+repeatLen; tries, i = tries+1, i+1 {
		r, repeat := rungAt(p.Plan, i, m.env.Rules.overdueWait())
		p.Current = Current{Rung: i, Started: m.now()}
		t, ok := m.env.OnCall(r.Level, r.Layer, m.now())
		if !ok {
			m.log("nobody on call", "%s %s", r.Level, r.Layer)
			m.lastResort(r)
			continue
		}
		p.Current.Target = t
		p.DueAt = m.now().Add(r.Wait)
		if repeat {
			m.log("rung", "%s %s again (not acknowledged after the last level): %s; waits %s", r.Level, r.Layer, t.Name, r.Wait)
		} else {
			m.log("rung", "%s %s: %s; waits %s", r.Level, r.Layer, t.Name, r.Wait)
		}
		m.addPaged(t)
		m.sendFrom(0)
		return
	}
	p.Current = Current{Rung: i - 1, Started: m.now()}
	p.DueAt = m.now().Add(m.env.Rules.overdueWait())
	m.log("nobody on call", "no level has anybody on call; trying again at %s", p.DueAt.Format(time.RFC3339))
}

func (m *machine) addPaged(t Target) {
	for _, x := range m.p.Paged {
		if x.EngineerID == t.EngineerID {
			return
		}
	}
	m.p.Paged = append(m.p.Paged, t)
}

// sendFrom pages the current rung's engineer on its channel c, or the next
// one that can reach them. With none left, the rung is exhausted; an
// engineer whom nothing reached is passed over at once.
func (m *machine) sendFrom(c int) {
	p := m.p
	r, _ := rungAt(p.Plan, p.Current.Rung, m.env.Rules.overdueWait())
	t := p.Current.Target
	for ; c < len(r.Channels); c++ {
		p.Current.Channel = c
		switch r.Channels[c] {
		case oncall.Voice:
			switch {
			case t.Phone == "":
				m.log("skipped", "voice: %s has no phone number", t.Name)
				continue
			case m.quiet(t):
				m.log("skipped", "voice: outside %s's waking hours for %s pages; text only", t.Name, p.Priority)
				continue
			}
			m.add(Attempt{Kind: KindVoice, Purpose: PurposePage, EngineerID: t.EngineerID, To: t.Phone, Language: t.Language})
			return
		case oncall.SMS:
			if t.SMSPhone == "" {
				m.log("skipped", "sms: %s has no number that takes texts", t.Name)
				continue
			}
			m.add(Attempt{Kind: KindSMS, Purpose: PurposePage, EngineerID: t.EngineerID, To: t.SMSPhone, Language: t.Language,
				Body: PageText(p, t.Language, m.now(), m.env.Rules)})
			return
		}
	}
	p.Current.Channel = len(r.Channels)
	p.Current.Exhausted = true
	if !m.reachedThisRung() {
		m.log("unreachable", "nothing reached %s; escalating now", t.Name)
		m.escalate()
	}
}

// reachedThisRung reports whether any page attempt of the current rung got
// to the engineer, or at least rang.
func (m *machine) reachedThisRung() bool {
	for _, a := range m.atts {
		if a.PageID == m.p.ID && a.Rung == m.p.Current.Rung && a.Purpose == PurposePage && !a.Open() {
			switch a.Outcome {
			case Acked, NoKey, Delivered, Accepted, NoAnswer, Busy, Machine:
				return true
			}
		}
	}
	return false
}

func (m *machine) quiet(t Target) bool {
	w, ok := m.env.Rules.Quiet[m.p.Priority]
	if !ok {
		return false
	}
	var loc *time.Location
	if m.env.Zone != nil {
		loc = m.env.Zone(t.TimeZone)
	}
	return !w.Contains(m.now(), loc)
}

// add puts an attempt in the outbox, keyed by the event that wants it.
func (m *machine) add(a Attempt) {
	a.PageID = m.p.ID
	if a.Purpose == PurposePage || a.Purpose == PurposeLastResort {
		a.Rung = m.p.Current.Rung
	} else {
		a.Rung = -1
	}
	a.Key = fmt.Sprintf("%d/%s/%s/%d", m.p.Seq, a.Purpose, a.Kind, len(m.out.Add))
	a.Status = Intended
	m.out.Add = append(m.out.Add, a)
	// The attempt is the page's too from now on, for the rest of this
	// event (reachedThisRung, cancelOpen).
	m.atts = append(m.atts, a)
}

func (m *machine) lastResort(r Rung) {
	rules := m.env.Rules
	if rules.LastResort == "" {
		return
	}
	lang := rules.LastResortLanguage
	if !lang.Valid() {
		lang = oncall.English
	}
	m.add(Attempt{Kind: KindSMS, Purpose: PurposeLastResort, To: rules.LastResort, Language: lang,
		Body: LastResortText(m.p, lang, r.Level, r.Layer, rules)})
}

// due escalates a page whose rung has waited long enough.
func (m *machine) due() {
	p := m.p
	if p.Status != Open || p.DueAt.IsZero() || m.now().Before(p.DueAt) {
		return
	}
	m.checkOverdue()
	m.log("not acknowledged", "%s did not acknowledge in time", nameOr(p.Current.Target))
	m.escalate()
}

// escalate moves to the next rung and tells the engineers paged before.
func (m *machine) escalate() {
	p := m.p
	before := append([]Target(nil), p.Paged...)
	m.cancelOpen(func(a Attempt) bool { return a.Purpose == PurposePage })
	m.startRung(p.Current.Rung + 1)
	r, _ := rungAt(p.Plan, p.Current.Rung, m.env.Rules.overdueWait())
	next := p.Current.Target
	for _, t := range before {
		if t.EngineerID == next.EngineerID || t.SMSPhone == "" {
			continue
		}
		m.add(Attempt{Kind: KindSMS, Purpose: PurposeNotice, EngineerID: t.EngineerID, To: t.SMSPhone, Language: t.Language,
			Body: EscalatedText(p, t.Language, r.Level, next, m.env.Rules)})
	}
}

// cancelOpen ends, as canceled, the page's attempts still waiting to be
// sent that match keep.
func (m *machine) cancelOpen(match func(Attempt) bool) {
	for _, a := range m.atts {
		if a.ID != 0 && a.Status == Intended && match(a) {
			m.out.End = append(m.out.End, Ended{AttemptID: a.ID, Outcome: Canceled, Detail: "not needed any more"})
		}
	}
	// Attempts added by this very event are simply not added.
	kept := m.out.Add[:0]
	for _, a := range m.out.Add {
		if !match(a) {
			kept = append(kept, a)
		}
	}
	m.out.Add = kept
}

func (m *machine) attempt(id int64) (Attempt, bool) {
	for _, a := range m.atts {
		if a.ID == id {
			return a, true
		}
	}
	return Attempt{}, false
}

func (m *machine) attemptEnded(ev AttemptEnded) {
	p := m.p
	a, ok := m.attempt(ev.AttemptID)
	if !ok || !a.Open() {
		return
	}
	m.out.End = append(m.out.End, Ended(ev))
	who := a.To
	if a.EngineerID != 0 {
		for _, t := range p.Paged {
			if t.EngineerID == a.EngineerID {
				who = t.Name
			}
		}
	}
	if ev.Detail != "" {
		m.log(string(a.Kind), "%s to %s: %s (%s)", a.Purpose, who, ev.Outcome, ev.Detail)
	} else {
		m.log(string(a.Kind), "%s to %s: %s", a.Purpose, who, ev.Outcome)
	}
	// The attempt reads as ended for the rest of this event.
	for i := range m.atts {
		if m.atts[i].ID == a.ID {
			m.atts[i].Status, m.atts[i].Outcome = Done, ev.Outcome
		}
	}
	switch {
	case p.Status != Open:
	case ev.Outcome == Acked:
		m.ack(Acknowledge{EngineerID: a.EngineerID, Name: who, Via: ViaVoice})
	case a.Purpose == PurposePage && a.Rung == p.Current.Rung && a.EngineerID == p.Current.Target.EngineerID &&
		!p.Current.Exhausted && fallsBack(ev.Outcome):
		m.sendFrom(p.Current.Channel + 1)
	}
}

// fallsBack reports whether an attempt that ended so calls for the
// rung's next channel.
func fallsBack(o Outcome) bool {
	switch o {
	case NoAnswer, Busy, NoKey, Machine, Failed, Rejected, OptedOut, Undelivered:
		return true
	}
	return false
}

func (m *machine) ack(ev Acknowledge) {
	p := m.p
	if p.Status != Open {
		m.log("acknowledge ignored", "%s (%s): the page is %s already", ev.Name, ev.Via, p.Status)
		return
	}
	p.Status = Acknowledged
	p.AckedBy, p.AckedByName, p.AckVia, p.AckedAt = ev.EngineerID, ev.Name, ev.Via, m.now()
	p.DueAt = time.Time{}
	m.log("acknowledged", "by %s (%s)", ev.Name, ev.Via)
	m.cancelOpen(func(a Attempt) bool { return a.Purpose == PurposePage })
	m.tellPaged(ev.EngineerID, func(lang oncall.Language) string { return AckedText(p, lang, ev.Name) })
	if p.TicketID != "" {
		m.add(Attempt{Kind: KindNote, Purpose: PurposeNote, To: p.TicketID, Body: AckNote(p, ev.Name, ev.Via)})
	}
}

func (m *machine) resolve(ev Resolve) {
	p := m.p
	if p.Status == Resolved || p.Status == Expired {
		return
	}
	wasOpen := p.Status == Open
	p.Status, p.ResolvedAt, p.ResolvedBy, p.DueAt = Resolved, m.now(), ev.By, time.Time{}
	m.log("resolved", "by %s", ev.By)
	m.cancelOpen(func(a Attempt) bool { return a.Purpose == PurposePage })
	if wasOpen {
		m.tellPaged(0, func(lang oncall.Language) string { return ResolvedText(p, lang, ev.By) })
	}
}

// tellPaged texts every engineer paged so far but except.
func (m *machine) tellPaged(except int64, text func(oncall.Language) string) {
	for _, t := range m.p.Paged {
		if t.EngineerID == except || t.SMSPhone == "" {
			continue
		}
		m.add(Attempt{Kind: KindSMS, Purpose: PurposeNotice, EngineerID: t.EngineerID, To: t.SMSPhone, Language: t.Language,
			Body: text(t.Language)})
	}
}

func nameOr(t Target) string {
	if t.Name == "" {
		return "nobody"
	}
	return t.Name
}
