package pager

import (
	"fmt"
	"slices"
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
	// AckLink returns the signed link with which engineerID acknowledges
	// page pageID, valid until a while after the page's deadline; it
	// ends the page's text. Nil, or "": texts carry no link.
	AckLink func(pageID, engineerID int64, deadline time.Time) string
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
	// SMSOptedOut reports whether phone opted out of texts (replied STOP),
	// for engineers found on call before it did; nil: none has.
	SMSOptedOut func(phone string) bool
	// Line says whether a page call to phone is in flight and how many
	// wait for it (read before the event); nil: none ever is.
	Line func(phone string) VoiceLine
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
// the same page, attempts, event and env give the same result, and atts is
// left as it was.
func Apply(p *Page, atts []Attempt, ev Event, env Env) Changes {
	m := &machine{p: p, atts: slices.Clone(atts), env: env}
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
	case CalledBack:
		m.calledBack(ev)
	case Resolve:
		m.resolve(ev)
	case Announced:
		m.announced(ev)
	case FoldedInto:
		m.foldedInto(ev)
	}
	return m.out
}

type machine struct {
	p    *Page
	atts []Attempt // the page's attempts, as this event leaves them
	env  Env
	out  Changes
	n    int // attempts added by this event so far, for their keys
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
	if policy.Priority == "" {
		policy.Priority = p.Priority
	}
	if p.Source == FromUpgrade && !m.now().Before(p.Deadline) {
		p.Status, p.DueAt = Expired, time.Time{}
		m.log("expired", "recorded before the pager existed and past its %s response window: not sent", p.Priority.ResponseTime())
		return
	}
	p.Plan, p.Compressed = PlanFor(policy, p.Level, m.now(), p.Deadline, m.env.Rules.overdueWait())
	m.log("opened", "%s, from %s; respond by %s", p.Priority, p.Level, p.Deadline.Format(time.RFC3339))
	switch {
	case !m.now().Before(p.Deadline):
		m.log("compressed", "past its deadline already: every rung waits %s", m.env.Rules.overdueWait())
	case p.Compressed:
		m.log("compressed", "%s left of the %s response time, less than the policy needs: the first rung waits %s",
			p.Deadline.Sub(m.now()).Round(time.Second), p.Priority.ResponseTime(), p.Plan[0].Wait)
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

// startRung pages rung from, or the first rung after it with somebody on
// call whom a channel can reach, and reports whether it found one. The
// rungs it passes over cost no time. When none has anybody (the rest of the
// plan and one round of its repeats: every level and layer left), the page
// stays at from, with nobody paged, and tries again from there after
// OverdueWait. The last-resort contact hears, in one text, of the rungs
// that had nobody on call, and of a search that paged nobody at all.
func (m *machine) startRung(from int) bool {
	p := m.p
	wait := m.env.Rules.overdueWait()
	var gaps []Rung
	for i := from; i < max(len(p.Plan), from+repeatLen(p.Plan)); i++ {
		r, repeat := rungAt(p.Plan, i, wait)
		p.Current = Current{Rung: i, Started: m.now()}
		t, ok := m.env.OnCall(r.Level, r.Layer, m.now())
		if !ok {
			m.log("nobody on call", "%s %s", r.Level, r.Layer)
			if !slices.ContainsFunc(gaps, func(g Rung) bool { return g.Level == r.Level && g.Layer == r.Layer }) {
				gaps = append(gaps, r)
			}
			continue
		}
		p.Current.Target = t
		if repeat {
			m.log("rung", "%s %s again (not acknowledged after the last level): %s; waits %s", r.Level, r.Layer, t.Name, r.Wait)
		} else {
			m.log("rung", "%s %s: %s; waits %s", r.Level, r.Layer, t.Name, r.Wait)
		}
		if t.SMSOptedOut {
			m.log("texts off", "%s's number %s opted out of texts (replied STOP): no texts until they text START", t.Name, t.SMSPhone)
		}
		if !m.sendFrom(0) {
			m.log("unreachable", "no channel can reach %s; next rung", t.Name)
			continue
		}
		p.DueAt = m.now().Add(r.Wait)
		m.lastResort(gaps, false)
		return true
	}
	p.Current = Current{Rung: from, Started: m.now()}
	p.DueAt = m.now().Add(wait)
	m.log("nobody on call", "nobody to page from here on; trying again at %s", p.DueAt.Format(time.RFC3339))
	m.lastResort(gaps, true)
	return false
}

// repeatLen is how many rungs the repeats after the plan go round: those of
// its last level.
func repeatLen(plan []Rung) int {
	n := 0
	for i := len(plan) - 1; i >= 0 && plan[i].Level == plan[len(plan)-1].Level; i-- {
		n++
	}
	return n
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
// one that can reach them, and reports whether it did. With none left, the
// rung is exhausted.
func (m *machine) sendFrom(c int) bool {
	p := m.p
	r, _ := rungAt(p.Plan, p.Current.Rung, m.env.Rules.overdueWait())
	t := p.Current.Target
	for ; c < len(r.Channels); c++ {
		p.Current.Channel = c
		switch r.Channels[c] {
		case oncall.Voice:
			switch {
			case t.Phone == "":
				m.log("skipped", "voice: %s has no verified phone number", t.Name)
				continue
			case m.quiet(t):
				m.log("skipped", "voice: outside %s's waking hours for %s pages; text only", t.Name, p.Priority)
				continue
			}
			m.add(Attempt{Kind: KindVoice, Purpose: PurposePage, EngineerID: t.EngineerID, To: t.Phone, Language: t.Language})
			m.addPaged(t)
			m.textWhileBusy(r, c)
			return true
		case oncall.SMS:
			switch {
			case p.Current.TextedEarly:
				// Texted when the call had to wait for the line: the
				// text stands for this channel.
				return true
			case t.SMSPhone == "":
				m.log("skipped", "sms: %s has no verified number that takes texts", t.Name)
				continue
			case m.textsOff(t):
				m.log("skipped", "sms: %s opted out of texts", t.Name)
				continue
			}
			m.add(Attempt{Kind: KindSMS, Purpose: PurposePage, EngineerID: t.EngineerID, To: t.SMSPhone, Language: t.Language,
				Body: PageText(p, t.Language, m.now(), m.env.Rules)})
			m.addPaged(t)
			return true
		}
	}
	p.Current.Channel = len(r.Channels)
	p.Current.Exhausted = true
	return false
}

// reachedThisRung reports whether any page attempt of the current rung got
// to the engineer, or at least rang.
func (m *machine) reachedThisRung() bool {
	for _, a := range m.atts {
		if a.Rung == m.p.Current.Rung && a.Purpose == PurposePage && a.Status == Done && rang(a.Outcome) {
			return true
		}
	}
	return false
}

// rang reports whether an attempt that ended so put the page in front of
// the engineer or at least rang their phone.
func rang(o Outcome) bool { return o.Reached() || o == NoAnswer || o == Busy || o == Machine }

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
	// The count of attempts this event made, not len(m.out.Add): that
	// shrinks when cancelOpen drops one, and a key would come round again.
	a.Key = fmt.Sprintf("%d/%s/%s/%d", m.p.Seq, a.Purpose, a.Kind, m.n)
	m.n++
	a.Status = Intended
	m.out.Add = append(m.out.Add, a)
	// The attempt is the page's too from now on, for the rest of this
	// event (reachedThisRung, cancelOpen).
	m.atts = append(m.atts, a)
}

// lastResort texts the last-resort contact, once for all the gaps one
// search for somebody to page came across; nobody says the search paged
// nobody at all (every rung a gap, or its engineer out of reach), which
// the contact hears of even when no rung was a gap.
func (m *machine) lastResort(gaps []Rung, nobody bool) {
	rules := m.env.Rules
	if rules.LastResort == "" || len(gaps) == 0 && !nobody {
		return
	}
	lang := rules.LastResortLanguage
	if !lang.Valid() {
		lang = oncall.English
	}
	m.add(Attempt{Kind: KindSMS, Purpose: PurposeLastResort, To: rules.LastResort, Language: lang,
		Body: lastResortText(m.p, lang, gaps, nobody)})
}

// due escalates a page whose rung has waited long enough.
func (m *machine) due() {
	p := m.p
	if p.Status != Open || p.DueAt.IsZero() || m.now().Before(p.DueAt) {
		return
	}
	m.checkOverdue()
	if p.Current.Target == (Target{}) {
		// Nobody was on call: look again from the same rung.
		m.log("trying again", "for somebody on call from %s on", rungName(p, p.Current.Rung, m.env.Rules))
		m.escalate(p.Current.Rung, true)
		return
	}
	m.log("not acknowledged", "%s did not acknowledge in time", p.Current.Target.Name)
	m.escalate(p.Current.Rung+1, false)
}

func rungName(p *Page, i int, rules Rules) string {
	r, _ := rungAt(p.Plan, i, rules.overdueWait())
	return fmt.Sprintf("%s %s", r.Level, r.Layer)
}

// escalate moves to rung next (or the first after it with somebody to
// page) and tells the engineers paged before where the page went: once,
// when it went to a rung of the plan (the repeats after it go to engineers
// they have heard of already), or when it found nobody (unless it had found
// nobody before, retry).
func (m *machine) escalate(next int, retry bool) {
	p := m.p
	before := slices.Clone(p.Paged)
	m.cancelOpen(func(a Attempt) bool { return a.Purpose == PurposePage })
	m.checkOverdue()
	found := m.startRung(next)
	if !found && retry || p.Current.Rung >= len(p.Plan) {
		return
	}
	r, _ := rungAt(p.Plan, p.Current.Rung, m.env.Rules.overdueWait())
	to := p.Current.Target
	for _, t := range before {
		if t.EngineerID == to.EngineerID || !m.mayTell(t) {
			continue
		}
		m.add(Attempt{Kind: KindSMS, Purpose: PurposeNotice, EngineerID: t.EngineerID, To: t.SMSPhone, Language: t.Language,
			Body: EscalatedText(p, t.Language, r.Level, to, m.env.Rules)})
	}
}

// textsOff reports whether engineer t takes no texts: every number of
// theirs had opted out when they were found on call, or the one they are
// texted at has since.
func (m *machine) textsOff(t Target) bool {
	return t.SMSOptedOut || m.env.SMSOptedOut != nil && m.env.SMSOptedOut(t.SMSPhone)
}

// mayTell reports whether engineer t, paged before, is told by text what
// became of the page: a page reached them or rang (or may still: it is
// under way), and they take texts on a number that has not opted out, nor
// had a text of this page refused for good (an invalid number, a
// landline, no permission for its region). A page that never got to them
// (canceled before it went, refused by the provider, undelivered) leaves
// nothing for a notice to follow up on.
func (m *machine) mayTell(t Target) bool {
	if t.SMSPhone == "" || m.textsOff(t) {
		return false
	}
	paged := false
	for _, a := range m.atts {
		switch {
		case a.Kind == KindSMS && a.To == t.SMSPhone && (a.Outcome == OptedOut || a.Outcome == Rejected):
			return false
		case a.Purpose != PurposePage || a.EngineerID != t.EngineerID:
		case a.Status == Sending || a.Status == Sent || a.Status == InDoubt:
			paged = true
		case a.Status == Done && rang(a.Outcome):
			paged = true
		}
	}
	return paged
}

// cancelOpen ends, as canceled, the page's attempts still waiting to be
// sent that match.
func (m *machine) cancelOpen(match func(Attempt) bool) {
	for i, a := range m.atts {
		if a.ID != 0 && a.Status == Intended && match(a) {
			m.out.End = append(m.out.End, Ended{AttemptID: a.ID, Outcome: Canceled, Detail: "not needed any more"})
			m.atts[i].Status, m.atts[i].Outcome = Done, Canceled
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
	m.atts = slices.DeleteFunc(m.atts, func(a Attempt) bool { return a.ID == 0 && match(a) })
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
	if !ok {
		return
	}
	who := a.To
	if a.EngineerID != 0 {
		for _, t := range p.Paged {
			if t.EngineerID == a.EngineerID {
				who = t.Name
			}
		}
	}
	if !a.Open() {
		// A keypress acknowledges even on a call whose attempt was ended
		// already (a timeout covering a callback thought lost, while the
		// engineer was still on the line); anything else said twice is
		// left as it is.
		if ev.Outcome == Acked && a.Kind == KindVoice && a.Purpose == PurposePage && p.Status == Open {
			m.log(string(a.Kind), "%s to %s: %s, after it had ended as %s", a.Purpose, who, ev.Outcome, a.Outcome)
			m.ack(Acknowledge{EngineerID: a.EngineerID, Name: who, Via: ViaVoice})
		}
		return
	}
	m.out.End = append(m.out.End, Ended(ev))
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
		if !m.sendFrom(p.Current.Channel+1) && !m.reachedThisRung() {
			m.log("unreachable", "nothing reached %s; escalating now", p.Current.Target.Name)
			m.escalate(p.Current.Rung+1, false)
		}
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

// ack closes an open page as taken by ev's engineer. Pages waiting to go
// out are canceled, and so are notices that it escalated (stale now: the
// engineer who took it must not hear afterwards that it went on without
// them); the others paged hear who took it, and the ticket gets a note.
func (m *machine) ack(ev Acknowledge) {
	p := m.p
	if p.Status != Open {
		m.log("acknowledge ignored", "%s (%s): the page is %s already", ev.Name, ev.Via, p.Status)
		return
	}
	m.checkOverdue()
	p.Status = Acknowledged
	p.AckedBy, p.AckedByName, p.AckVia, p.AckedAt = ev.EngineerID, ev.Name, ev.Via, m.now()
	p.DueAt = time.Time{}
	m.log("acknowledged", "by %s (%s)", ev.Name, ev.Via)
	m.cancelOpen(func(a Attempt) bool { return a.Purpose == PurposePage || a.Purpose == PurposeNotice })
	m.tellPaged(ev.EngineerID, func(lang oncall.Language) string { return AckedText(p, lang, ev.Name) })
	if p.TicketID != "" {
		m.add(Attempt{Kind: KindNote, Purpose: PurposeNote, To: p.TicketID, Body: AckNote(p, ev.Name, ev.Via)})
	}
}

// resolve closes the page. An open one's pending pages and escalation
// notices are canceled and the engineers paged hear that it was closed;
// an acknowledged one's engineers have heard who took it already.
func (m *machine) resolve(ev Resolve) {
	p := m.p
	if p.Status == Resolved || p.Status == Expired {
		return
	}
	wasOpen := p.Status == Open
	if wasOpen {
		m.checkOverdue()
	}
	p.Status, p.ResolvedAt, p.ResolvedBy, p.DueAt = Resolved, m.now(), ev.By, time.Time{}
	m.log("resolved", "by %s", ev.By)
	if !wasOpen {
		m.cancelOpen(func(a Attempt) bool { return a.Purpose == PurposePage })
		return
	}
	m.cancelOpen(func(a Attempt) bool { return a.Purpose == PurposePage || a.Purpose == PurposeNotice })
	m.tellPaged(0, func(lang oncall.Language) string { return ResolvedText(p, lang, ev.By) })
}

// tellPaged texts every engineer paged so far but except.
func (m *machine) tellPaged(except int64, text func(oncall.Language) string) {
	for _, t := range m.p.Paged {
		if t.EngineerID == except || !m.mayTell(t) {
			continue
		}
		m.add(Attempt{Kind: KindSMS, Purpose: PurposeNotice, EngineerID: t.EngineerID, To: t.SMSPhone, Language: t.Language,
			Body: text(t.Language)})
	}
}
