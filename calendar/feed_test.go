package calendar_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
	goical "github.com/emersion/go-ical"
	"go.uber.org/zap/zaptest"

	"github.com/supportdesk/ivr/calendar"
	"github.com/supportdesk/ivr/internal/pgtest"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	actor = "test"
	host  = "ivr.example.com"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// team is a schedule in a real store: L2 primary hands over daily at 09:00
// New York time between Anna and Boris (so the shift from 7 March 2026,
// across the US change to summer time, lasts 23 hours); L1 primary weekly
// at 10:00 Moscow time between Chen and Anna.
type team struct {
	t                  *testing.T
	db                 *store.DB
	svc                *oncall.Service
	clock              *clock
	anna, boris, chen  oncall.Engineer
	l2                 oncall.Rotation
	handler            http.Handler
	srv                *httptest.Server
	annaToken, l2Token string
}

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTeam(t *testing.T) *team {
	t.Helper()
	ctx := t.Context()
	db := storetest.OpenSQLite(t)
	c := &clock{now: now}
	db.Now = c.Now
	log := zaptest.NewLogger(t)
	svc := oncall.NewService(db, log, oncall.ServiceOptions{Now: c.Now, History: 400 * 24 * time.Hour})
	if err := svc.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	tm := &team{t: t, db: db, svc: svc, clock: c}
	engineer := func(name string) oncall.Engineer {
		e, err := svc.CreateEngineer(ctx, actor, oncall.Engineer{Name: name, Level: oncall.L2,
			Languages: []oncall.Language{oncall.English}, TimeZone: "America/New_York",
			Contacts: []oncall.ContactMethod{{Phone: "+1202555014" + strconv.Itoa(len(name)%10)}}})
		if err != nil {
			t.Fatalf("create engineer %s: %v", name, err)
		}
		return e
	}
	tm.anna, tm.boris, tm.chen = engineer("Anna Smirnova"), engineer("Boris Ivanov"), engineer("Chen Li")
	var err error
	tm.l2, err = svc.CreateRotation(ctx, actor, oncall.Rotation{Name: "L2 days", Level: oncall.L2, Layer: oncall.Primary,
		TimeZone: "America/New_York", Handoff: 9 * 60, ShiftLength: oncall.ShiftLength{Days: 1},
		Start: oncall.Date{Year: 2026, Month: time.January, Day: 2}, Participants: []int64{tm.anna.ID, tm.boris.ID},
		EffectiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRotation(ctx, actor, oncall.Rotation{Name: "L1 weeks", Level: oncall.L1, Layer: oncall.Primary,
		TimeZone: "Europe/Moscow", Handoff: 10 * 60, ShiftLength: oncall.ShiftLength{Days: 7},
		Start: oncall.Date{Year: 2026, Month: time.February, Day: 2}, Participants: []int64{tm.chen.ID, tm.anna.ID},
		EffectiveFrom: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	_, tm.annaToken, err = calendar.Issue(ctx, db, actor, "engineer", tm.anna.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	_, tm.l2Token, err = calendar.Issue(ctx, db, actor, "level", 0, "L2")
	if err != nil {
		t.Fatal(err)
	}
	tm.handler = &calendar.Handler{Feeds: db, Schedule: svc, Host: host, Log: log}
	tm.srv = httptest.NewServer(tm.handler)
	t.Cleanup(tm.srv.Close)
	return tm
}

// fetch gets path from the feed server.
func (tm *team) fetch(path string) (int, http.Header, []byte) {
	tm.t.Helper()
	resp, err := tm.srv.Client().Get(tm.srv.URL + path)
	if err != nil {
		tm.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tm.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// feed fetches the feed with token and parses it with both parsers.
func (tm *team) feed(token string) ([]event, []byte) {
	tm.t.Helper()
	status, header, body := tm.fetch(calendar.Path(token))
	if status != http.StatusOK {
		tm.t.Fatalf("GET feed: status %d: %s", status, body)
	}
	if ct := header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		tm.t.Errorf("Content-Type %q", ct)
	}
	return parseBoth(tm.t, body), body
}

// event is what a calendar shows of a VEVENT.
type event struct {
	UID, Summary, Description string
	Start, End, Stamp         time.Time
	Sequence                  int
}

// parseBoth parses body with golang-ical and with go-ical, checks that they
// read the same events, each with a UID and a DTSTAMP, and returns them by
// start.
func parseBoth(t *testing.T, body []byte) []event {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("golang-ical: %v", err)
	}
	var a []event
	for _, e := range cal.Events() {
		var ev event
		ev.UID = e.Id()
		prop := func(p ics.ComponentProperty) string {
			if v := e.GetProperty(p); v != nil {
				return v.Value
			}
			return ""
		}
		stamp := prop(ics.ComponentPropertyDtstamp)
		if ev.UID == "" || stamp == "" {
			t.Fatalf("golang-ical: event %q without UID or DTSTAMP", ev.UID)
		}
		if ev.Stamp, err = time.Parse("20060102T150405Z", stamp); err != nil {
			t.Fatalf("DTSTAMP %q: %v", stamp, err)
		}
		if ev.Start, err = e.GetStartAt(); err != nil {
			t.Fatal(err)
		}
		if ev.End, err = e.GetEndAt(); err != nil {
			t.Fatal(err)
		}
		ev.Start, ev.End = ev.Start.UTC(), ev.End.UTC()
		ev.Summary = prop(ics.ComponentPropertySummary)
		ev.Description = prop(ics.ComponentPropertyDescription)
		if ev.Sequence, err = strconv.Atoi(prop(ics.ComponentPropertySequence)); err != nil {
			t.Fatalf("SEQUENCE of %s: %v", ev.UID, err)
		}
		a = append(a, ev)
	}

	gcal, err := goical.NewDecoder(bytes.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("go-ical: %v", err)
	}
	var b []event
	for _, e := range gcal.Events() {
		var ev event
		text := func(name string) string {
			s, err := e.Props.Text(name)
			if err != nil {
				t.Fatalf("go-ical %s: %v", name, err)
			}
			return s
		}
		ev.UID = text(goical.PropUID)
		if ev.Stamp, err = e.Props.DateTime(goical.PropDateTimeStamp, time.UTC); err != nil || ev.Stamp.IsZero() || ev.UID == "" {
			t.Fatalf("go-ical: event %q without UID or DTSTAMP (%v)", ev.UID, err)
		}
		if ev.Start, err = e.DateTimeStart(time.UTC); err != nil {
			t.Fatal(err)
		}
		if ev.End, err = e.DateTimeEnd(time.UTC); err != nil {
			t.Fatal(err)
		}
		ev.Start, ev.End, ev.Stamp = ev.Start.UTC(), ev.End.UTC(), ev.Stamp.UTC()
		ev.Summary, ev.Description = text(goical.PropSummary), text(goical.PropDescription)
		if ev.Sequence, err = e.Props.Get(goical.PropSequence).Int(); err != nil {
			t.Fatal(err)
		}
		b = append(b, ev)
	}
	if !slices.Equal(a, b) {
		t.Fatalf("the parsers disagree:\ngolang-ical %+v\ngo-ical     %+v", a, b)
	}
	if len(a) == 0 {
		t.Fatal("the feed has no events")
	}
	return a
}

func byStart(evs []event, start time.Time) (event, bool) {
	for _, e := range evs {
		if e.Start.Equal(start) {
			return e, true
		}
	}
	return event{}, false
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestLevelFeed(t *testing.T) {
	tm := newTeam(t)
	evs, body := tm.feed(tm.l2Token)

	want := tm.svc.Snapshot().Schedule.Shifts(oncall.L2, now.Add(-calendar.Past), now.Add(calendar.Ahead))
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d shifts", len(evs), len(want))
	}
	for i, s := range want {
		e := evs[i]
		name := map[int64]string{tm.anna.ID: "Anna Smirnova", tm.boris.ID: "Boris Ivanov"}[s.EngineerID]
		if !e.Start.Equal(s.Start) || !e.End.Equal(s.End) || e.Summary != "L2 primary: "+name || !e.Stamp.Equal(now) || e.Sequence != 1 {
			t.Fatalf("event %d %+v, want shift %+v (DTSTAMP %s, SEQUENCE 1)", i, e, s, now)
		}
	}
	// The window: from 30 days back to 180 days ahead.
	if first, last := evs[0], evs[len(evs)-1]; first.End.Before(now.Add(-calendar.Past)) || !first.Start.Before(now.Add(-calendar.Past)) ||
		last.Start.After(now.Add(calendar.Ahead)) || !last.End.After(now.Add(calendar.Ahead)) {
		t.Errorf("first %s–%s, last %s–%s: not the window %s–%s", first.Start, first.End, last.Start, last.End,
			now.Add(-calendar.Past), now.Add(calendar.Ahead))
	}

	// Saturday 7 March 2026, 09:00 EST, to Sunday 8 March, 09:00 EDT: 23 hours.
	dst, ok := byStart(evs, utc("2026-03-07T14:00:00Z"))
	if !ok || !dst.End.Equal(utc("2026-03-08T13:00:00Z")) || dst.Summary != "L2 primary: Anna Smirnova" {
		t.Fatalf("the shift across the DST change: %+v, %v", dst, ok)
	}
	if !bytes.Contains(body, []byte("DTSTART:20260307T140000Z\r\n")) || !bytes.Contains(body, []byte("DTEND:20260308T130000Z\r\n")) {
		t.Errorf("the DST shift is not written in UTC with Z")
	}
	if bytes.Contains(body, []byte("TZID")) {
		t.Errorf("the feed names a TZID")
	}
	wantUID := "L2-primary-rotation-" + strconv.FormatInt(tm.l2.ID, 10) + "-" + strconv.FormatInt(dst.Start.Unix(), 10) + "-" +
		strconv.FormatInt(dst.End.Unix(), 10) + "@" + host
	if dst.UID != wantUID {
		t.Errorf("UID %q, want %q", dst.UID, wantUID)
	}
}

// checkLines checks the raw feed: every line ends CRLF, is at most 75
// octets, and folding splits no UTF-8 character.
func checkLines(t *testing.T, body []byte) (folded int) {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Fatal("the feed does not end with CRLF")
	}
	lines := bytes.Split(body[:len(body)-2], []byte("\r\n"))
	for i, l := range lines {
		if bytes.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d %q has a bare CR or LF", i+1, l)
		}
		if len(l) > 75 {
			t.Fatalf("line %d is %d octets: %q", i+1, len(l), l)
		}
		if !utf8.Valid(l) {
			t.Fatalf("line %d splits a UTF-8 character: %q", i+1, l)
		}
		if len(l) > 0 && l[0] == ' ' {
			folded++
		}
	}
	return folded
}

func TestFeedLinesAreCRLFAndFoldedAt75Octets(t *testing.T) {
	tm := newTeam(t)
	ctx := t.Context()
	if _, err := tm.svc.CreateOverride(ctx, actor, oncall.Override{Level: oncall.L2, Layer: oncall.Primary, EngineerID: tm.boris.ID,
		Start: utc("2026-03-10T13:00:00Z"), End: utc("2026-03-11T13:00:00Z"),
		Reason: "Подмена: Анна в отпуске, Борис берёт её смену целиком, с утра вторника до утра среды"}); err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{tm.l2Token, tm.annaToken} {
		_, body := tm.feed(token)
		checkLines(t, body)
	}
	evs, body := tm.feed(tm.l2Token)
	if checkLines(t, body) == 0 {
		t.Fatal("no line was folded; the test shows nothing")
	}
	o, ok := byStart(evs, utc("2026-03-10T13:00:00Z"))
	if !ok || !strings.Contains(o.Description, "Борис берёт её смену целиком, с утра вторника до утра среды") ||
		o.Summary != "L2 primary: Boris Ivanov (override)" {
		t.Fatalf("the override read back: %+v", o)
	}
}

func TestEngineerFeed(t *testing.T) {
	tm := newTeam(t)
	evs, _ := tm.feed(tm.annaToken)
	levels := map[string]int{}
	snap := tm.svc.Snapshot()
	var want int
	for _, level := range oncall.Levels {
		for _, s := range snap.Schedule.Shifts(level, now.Add(-calendar.Past), now.Add(calendar.Ahead)) {
			if s.EngineerID == tm.anna.ID {
				want++
			}
		}
	}
	for _, e := range evs {
		levels[e.Summary]++
		if !strings.Contains(e.Description, "Anna Smirnova") {
			t.Errorf("event %+v is not Anna's", e)
		}
	}
	if len(evs) != want || levels["On call L1 primary"] == 0 || levels["On call L2 primary"] == 0 || len(levels) != 2 {
		t.Fatalf("Anna's feed: %d events %v, want %d across L1 and L2", len(evs), levels, want)
	}
	if _, ok := byStart(evs, utc("2026-03-07T14:00:00Z")); !ok {
		t.Fatal("Anna's feed lacks her shift across the DST change")
	}
}

func TestSwappedShiftMovesBetweenEngineersFeeds(t *testing.T) {
	tm := newTeam(t)
	ctx := t.Context()
	_, borisToken, err := calendar.Issue(ctx, tm.db, actor, "engineer", tm.boris.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	start, end := utc("2026-03-07T14:00:00Z"), utc("2026-03-08T13:00:00Z") // Anna's by the rotation
	anna, _ := tm.feed(tm.annaToken)
	boris, _ := tm.feed(borisToken)
	if _, ok := byStart(anna, start); !ok {
		t.Fatal("before the swap Anna's feed lacks the shift")
	}
	if _, ok := byStart(boris, start); ok {
		t.Fatal("before the swap Boris's feed has Anna's shift")
	}

	o, err := tm.svc.CreateOverride(ctx, actor, oncall.Override{Level: oncall.L2, Layer: oncall.Primary,
		EngineerID: tm.boris.ID, Start: start, End: end, Reason: "swap"})
	if err != nil {
		t.Fatal(err)
	}
	anna, _ = tm.feed(tm.annaToken)
	boris, _ = tm.feed(borisToken)
	for _, e := range anna {
		if e.Start.Before(end) && e.End.After(start) && strings.HasPrefix(e.Summary, "On call L2") {
			t.Fatalf("after the swap Anna's feed still has %+v", e)
		}
	}
	got, ok := byStart(boris, start)
	wantUID := "L2-primary-override-" + strconv.FormatInt(o.ID, 10) + "-" + strconv.FormatInt(start.Unix(), 10) + "@" + host
	if !ok || !got.End.Equal(end) || got.Summary != "On call L2 primary (override)" || got.UID != wantUID ||
		!strings.Contains(got.Description, "Override") {
		t.Fatalf("after the swap Boris's feed has %+v (%v), want the override %s", got, ok, wantUID)
	}
}

func uids(evs []event) map[string]event {
	m := map[string]event{}
	for _, e := range evs {
		e.Stamp = time.Time{}
		m[e.UID] = e
	}
	return m
}

func TestUIDsStableAcrossAnUnrelatedEdit(t *testing.T) {
	tm := newTeam(t)
	ctx := t.Context()
	before, _ := tm.feed(tm.l2Token)
	// Another level's override, and time moving on an hour.
	if _, err := tm.svc.CreateOverride(ctx, actor, oncall.Override{Level: oncall.L1, Layer: oncall.Primary,
		EngineerID: tm.boris.ID, Start: utc("2026-03-05T07:00:00Z"), End: utc("2026-03-06T07:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	tm.clock.mu.Lock()
	tm.clock.now = now.Add(time.Hour)
	tm.clock.mu.Unlock()
	after, _ := tm.feed(tm.l2Token)
	b, a := uids(before), uids(after)
	if len(b) != len(before) {
		t.Fatalf("UIDs are not unique: %d events, %d UIDs", len(before), len(b))
	}
	for uid, e := range b {
		if a[uid] != e {
			t.Errorf("event %s changed: %+v → %+v", uid, e, a[uid])
		}
	}
	if len(a) != len(b) {
		t.Errorf("%d events before, %d after", len(b), len(a))
	}
}

func TestSequenceRisesOnAChangedShift(t *testing.T) {
	tm := newTeam(t)
	ctx := t.Context()
	before, _ := tm.feed(tm.l2Token)
	dst, _ := byStart(before, utc("2026-03-07T14:00:00Z"))
	r := tm.l2
	r.Participants = []int64{tm.boris.ID, tm.anna.ID} // the same hand-offs, the other engineer
	r.EffectiveFrom = time.Time{}
	if _, err := tm.svc.UpdateRotation(ctx, actor, r); err != nil {
		t.Fatal(err)
	}
	after, _ := tm.feed(tm.l2Token)
	changed, ok := uids(after)[dst.UID]
	if !ok {
		t.Fatalf("the shift %s is gone after the edit", dst.UID)
	}
	if changed.Summary != "L2 primary: Boris Ivanov" || changed.Sequence <= dst.Sequence || !changed.Start.Equal(dst.Start) {
		t.Fatalf("after the edit %+v, before %+v: want Boris with a higher SEQUENCE", changed, dst)
	}
	// A shift before the edit keeps its engineer and SEQUENCE.
	past := before[0]
	if got := uids(after)[past.UID]; got.Summary != past.Summary || got.Sequence != past.Sequence {
		t.Errorf("a past shift changed: %+v → %+v", past, got)
	}
}

func TestFeedTokenIsRequiredAndRevocable(t *testing.T) {
	tm := newTeam(t)
	ctx := context.Background()
	for _, path := range []string{"/calendar/.ics", "/calendar/cal_wrong.ics", "/calendar/" + tm.l2Token, "/calendar/" + tm.l2Token + ".ics/x",
		"/calendar/" + strings.TrimPrefix(tm.l2Token, calendar.TokenPrefix) + ".ics"} {
		if status, _, _ := tm.fetch(path); status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, status)
		}
	}
	if status, _, _ := tm.fetch(calendar.Path(tm.l2Token)); status != http.StatusOK {
		t.Fatalf("the feed: status %d", status)
	}
	feeds, err := tm.db.CalendarFeeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var l2 calendar.Feed
	for _, f := range feeds {
		if f.Kind == calendar.LevelFeed {
			l2 = f
		}
	}
	if err := tm.db.RevokeCalendarFeed(ctx, actor, l2.ID, now); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := tm.fetch(calendar.Path(tm.l2Token)); status != http.StatusNotFound {
		t.Errorf("a revoked feed: status %d, want 404", status)
	}
	if status, _, _ := tm.fetch(calendar.Path(tm.annaToken)); status != http.StatusOK {
		t.Errorf("another feed after the revocation: status %d", status)
	}
}
