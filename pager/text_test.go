package pager

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/supportdesk/ivr/oncall"
)

func TestAgo(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		ru, en string
	}{
		{-time.Minute, "только что", "just now"},
		{0, "только что", "just now"},
		{59 * time.Second, "только что", "just now"},
		{time.Minute, "1 минуту назад", "1 min ago"},
		{2 * time.Minute, "2 минуты назад", "2 min ago"},
		{4*time.Minute + 59*time.Second, "4 минуты назад", "4 min ago"},
		{5 * time.Minute, "5 минут назад", "5 min ago"},
		{11 * time.Minute, "11 минут назад", "11 min ago"},
		{12 * time.Minute, "12 минут назад", "12 min ago"},
		{21 * time.Minute, "21 минуту назад", "21 min ago"},
		{22 * time.Minute, "22 минуты назад", "22 min ago"},
		{59 * time.Minute, "59 минут назад", "59 min ago"},
		{time.Hour, "1 час назад", "1 h ago"},
		{time.Hour + 59*time.Minute, "1 час назад", "1 h ago"},
		{3 * time.Hour, "3 часа назад", "3 h ago"},
		{11 * time.Hour, "11 часов назад", "11 h ago"},
		{21 * time.Hour, "21 час назад", "21 h ago"},
		{22 * time.Hour, "22 часа назад", "22 h ago"},
		{25 * time.Hour, "25 часов назад", "25 h ago"},
	} {
		if got := Ago(ru, c.d); got != c.ru {
			t.Errorf("Ago(ru, %s) = %q, want %q", c.d, got, c.ru)
		}
		if got := Ago(en, c.d); got != c.en {
			t.Errorf("Ago(en, %s) = %q, want %q", c.d, got, c.en)
		}
	}
}

func TestRussianPlural(t *testing.T) {
	for n, want := range map[int]string{
		0: "many", 1: "one", 2: "few", 3: "few", 4: "few", 5: "many", 10: "many", 11: "many", 12: "many", 14: "many",
		15: "many", 20: "many", 21: "one", 22: "few", 24: "few", 25: "many", 100: "many", 101: "one", 102: "few",
		111: "many", 112: "many", 114: "many", 121: "one", 122: "few", 1001: "one", -1: "one", -2: "few", -5: "many",
	} {
		if got := RussianPlural(n, "one", "few", "many"); got != want {
			t.Errorf("RussianPlural(%d) = %s, want %s", n, got, want)
		}
	}
}

func voicemailPage() *Page {
	p := testPage(t0)
	return &p
}

func TestPageText(t *testing.T) {
	rules := testRules()
	now := t0.Add(5 * time.Minute)
	for _, c := range []struct {
		name string
		page func(p *Page)
		lang oncall.Language
		want string
	}{
		{name: "voicemail, Russian", lang: ru,
			want: "КРИТИЧЕСКИЙ вызов 42, заявка 1001: голосовое сообщение 1:05, московская линия, от +74951112233, 5 минут назад. Ответьте 42, чтобы подтвердить."},
		{name: "voicemail, English", lang: en,
			want: "CRITICAL page 42, ticket 1001: voicemail 1:05, Moscow line from +74951112233, 5 min ago. Reply 42 to acknowledge."},
		{name: "missed call, caller withheld, unnamed line", lang: en,
			page: func(p *Page) { p.Recording, p.RecordingSeconds, p.Caller, p.Line = "", 0, "", "+12025550100" },
			want: "CRITICAL page 42, ticket 1001: missed call, line +12025550100, 5 min ago. Reply 42 to acknowledge."},
		{name: "missed call, Russian, a line named in the rules only", lang: ru,
			page: func(p *Page) { p.Recording, p.Line, p.Priority = "", "+78120000000", oncall.Urgent },
			want: "СРОЧНЫЙ вызов 42, заявка 1001: звонок без ответа, линия spb, от +74951112233, 5 минут назад. Ответьте 42, чтобы подтвердить."},
		{name: "ticket system, short summary", lang: en,
			page: func(p *Page) {
				p.Source, p.Recording, p.Line, p.Caller, p.Summary, p.Priority = FromTickets, "", "", "", "Database cluster down", oncall.Urgent
			},
			want: "URGENT page 42, ticket 1001: Database cluster down, 5 min ago. Reply 42 to acknowledge."},
		{name: "API, no ticket, no summary", lang: ru,
			page: func(p *Page) {
				p.Source, p.TicketID, p.Recording, p.Line, p.Caller, p.Priority = FromAPI, "", "", "", "", oncall.Low
			},
			want: "низкий вызов 42, 5 минут назад. Ответьте 42, чтобы подтвердить."},
		{name: "overdue", lang: en,
			page: func(p *Page) { p.RaisedAt, p.Deadline = t0.Add(-3*time.Hour), t0.Add(-2*time.Hour) },
			want: "OVERDUE! CRITICAL page 42, ticket 1001: voicemail 1:05, Moscow line from +74951112233, 3 h ago. Reply 42 to acknowledge."},
		{name: "overdue, Russian", lang: ru,
			page: func(p *Page) { p.RaisedAt, p.Deadline = t0.Add(-3*time.Hour), t0.Add(-2*time.Hour) },
			want: "ПРОСРОЧЕН! КРИТИЧЕСКИЙ вызов 42, заявка 1001: голосовое сообщение 1:05, московская линия, от +74951112233, 3 часа назад. Ответьте 42, чтобы подтвердить."},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := voicemailPage()
			if c.page != nil {
				c.page(p)
			}
			r := rules
			r.LineNames = map[string]string{supportLine: "moscow", "+78120000000": "spb"}
			got := PageText(p, c.lang, now, r)
			if got != c.want {
				t.Errorf("PageText\n got %q\nwant %q", got, c.want)
			}
			if c.lang == en && (len(got) > 160 || !isASCII(got)) {
				t.Errorf("%d characters (or not plain ASCII): more than one SMS segment", len(got))
			}
			// With a link maker, the same text ends with the engineer's
			// link, made for this page, engineer and deadline.
			p.Current.Target = vera
			r.AckLink = func(page, engineer int64, deadline time.Time) string {
				return fmt.Sprintf("https://ivr.example.com/a/%d-%d.%d", page, engineer, deadline.Unix())
			}
			link := fmt.Sprintf(" https://ivr.example.com/a/42-%d.%d", vera.EngineerID, p.Deadline.Unix())
			if got := PageText(p, c.lang, now, r); got != c.want+link {
				t.Errorf("PageText with a link\n got %q\nwant %q", got, c.want+link)
			}
		})
	}
}

// TestPageTextNoLink: a link maker that has no link for the engineer
// leaves the text as it is.
func TestPageTextNoLink(t *testing.T) {
	r := testRules()
	r.AckLink = func(int64, int64, time.Time) string { return "" }
	if with, without := PageText(voicemailPage(), en, t0, r), PageText(voicemailPage(), en, t0, testRules()); with != without {
		t.Errorf("empty link: %q, want %q", with, without)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// TestPageTextLongSummary: a summary of up to MaxSummary bytes is cut so
// that the page stays one segment in English (three in Russian), and the
// reply code, at the end, is never lost.
func TestPageTextLongSummary(t *testing.T) {
	p := voicemailPage()
	p.Source, p.Recording, p.Line, p.Caller = FromTickets, "", "", ""
	p.Summary = strings.Repeat("Payments fail for every card since the deploy; ", 12)[:MaxSummary]
	en1 := PageText(p, en, t0, testRules())
	if len(en1) > 160 || !strings.HasSuffix(en1, "just now. Reply 42 to acknowledge.") || !strings.Contains(en1, ": Payments fail for every card") ||
		!strings.Contains(en1, "...,") {
		t.Errorf("English, %d characters: %q", len(en1), en1)
	}
	// The link is extra: the text before it keeps the budget, and the
	// summary is cut no shorter for it.
	const link = " https://ivr.example.com/a/42-7.mq2x1c.AAAAAAAAAAAAAAAAAAAAAA"
	linked := testRules()
	linked.AckLink = func(int64, int64, time.Time) string { return link[1:] }
	if got := PageText(p, en, t0, linked); got != en1+link {
		t.Errorf("English with a link:\n got %q\nwant %q", got, en1+link)
	}
	p.Summary = strings.Repeat("Не проходят платежи по картам после выкладки. ", 20)
	p.Summary = p.Summary[:strings.LastIndex(p.Summary[:MaxSummary], " ")]
	ru1 := PageText(p, ru, t0, testRules())
	if got := PageText(p, ru, t0, linked); got != ru1+link {
		t.Errorf("Russian with a link:\n got %q\nwant %q", got, ru1+link)
	}
	if n := utf8.RuneCountInString(ru1); n > 3*67 || !strings.HasSuffix(ru1, "только что. Ответьте 42, чтобы подтвердить.") || !strings.Contains(ru1, "Не проходят платежи") {
		t.Errorf("Russian, %d characters: %q", n, ru1)
	}
	if !utf8.ValidString(ru1) {
		t.Errorf("cut inside a character: %q", ru1)
	}
}

func TestNotices(t *testing.T) {
	p := voicemailPage()
	noTicket := voicemailPage()
	noTicket.TicketID = ""
	overdue := voicemailPage()
	overdue.Overdue = true
	for _, c := range []struct{ got, want string }{
		{EscalatedText(p, ru, oncall.L2, vera, testRules()), "Вызов 42 (заявка 1001, критический) не подтверждён и передан на L2: Вера."},
		{EscalatedText(p, en, oncall.L2, vera, testRules()), "Page 42 (ticket 1001, critical) was not acknowledged and went to L2: Вера."},
		{EscalatedText(noTicket, en, oncall.L3, Target{}, testRules()), "Page 42 (critical) was not acknowledged and went to L3: nobody is on call."},
		{EscalatedText(overdue, ru, oncall.L3, eve, testRules()), "ПРОСРОЧЕН! Вызов 42 (заявка 1001, критический) не подтверждён и передан на L3: Eve."},
		{EscalatedText(overdue, en, oncall.L3, eve, testRules()), "OVERDUE! Page 42 (ticket 1001, critical) was not acknowledged and went to L3: Eve."},
		{AckedText(p, ru, "Bob"), "Вызов 42 (заявка 1001, критический) принят: Bob."},
		{AckedText(noTicket, en, "Анна"), "Page 42 (critical) was acknowledged by Анна."},
		{ResolvedText(p, ru, "admin"), "Вызов 42 (заявка 1001, критический) закрыт: admin."},
		{ResolvedText(p, en, "admin"), "Page 42 (ticket 1001, critical) was resolved by admin."},
		{LastResortText(p, ru, oncall.L1, oncall.Secondary, testRules()), "Вызов 42 (заявка 1001, критический): на L1 (резервный) никто не дежурит."},
		{LastResortText(p, en, oncall.L2, oncall.Primary, testRules()), "Page 42 (ticket 1001, critical): nobody is on call at L2 primary."},
		{lastResortText(overdue, en, []Rung{{Level: oncall.L1, Layer: oncall.Primary}, {Level: oncall.L1, Layer: oncall.Secondary}}, true),
			"OVERDUE! Page 42 (ticket 1001, critical): nobody is on call at L1 primary, L1 secondary. Nobody could be paged."},
		{lastResortText(noTicket, ru, nil, true), "Вызов 42 (критический): ни до кого из дежурных не дозвониться, вызов не получил никто."},
		{lastResortText(p, ru, []Rung{{Level: oncall.L3, Layer: oncall.Primary}}, true),
			"Вызов 42 (заявка 1001, критический): на L3 (основной) никто не дежурит. Вызов не получил никто."},
	} {
		if c.got != c.want {
			t.Errorf("\n got %q\nwant %q", c.got, c.want)
		}
	}
}

func TestAckNote(t *testing.T) {
	p := voicemailPage()
	p.AckedAt = time.Date(2026, 12, 2, 12, 7, 0, 0, time.FixedZone("MSK", 3*3600))
	for _, c := range []struct {
		lang oncall.Language
		via  Via
		want string
	}{
		{ru, ViaVoice, "Дежурный инженер Анна принял вызов по телефону (2026-12-02 09:07 UTC)."},
		{ru, ViaSMS, "Дежурный инженер Анна принял вызов по SMS (2026-12-02 09:07 UTC)."},
		{"", ViaLink, "On-call engineer Анна acknowledged the page by link (2026-12-02 09:07 UTC)."},
		{en, ViaAPI, "On-call engineer Анна acknowledged the page in the system (2026-12-02 09:07 UTC)."},
	} {
		p.Language = c.lang
		if got := AckNote(p, "Анна", c.via); got != c.want {
			t.Errorf("AckNote(%s, %s)\n got %q\nwant %q", c.lang, c.via, got, c.want)
		}
	}
}

// TestLineNameAnyCase: a line named as --lines names it ("Moscow") reads as
// the line's own name in either language.
func TestLineNameAnyCase(t *testing.T) {
	p := &Page{Line: "+74996383867"}
	rules := Rules{LineNames: map[string]string{"+74996383867": "Moscow"}}
	if got := lineName(oncall.Russian, p, rules); got != "московская линия" {
		t.Errorf("ru: %q, want «московская линия»", got)
	}
	if got := lineName(oncall.English, p, rules); got != "Moscow line" {
		t.Errorf("en: %q, want Moscow line", got)
	}
}
