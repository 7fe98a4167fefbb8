package pager_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
	"github.com/supportdesk/ivr/sounds"
)

var voiceLangs = []oncall.Language{oncall.Russian, oncall.English}

// voiceSay is what prompts say, joined as the call plays them.
func voiceSay(ps []ivr.Prompt) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = ivr.Text(p)
	}
	return strings.Join(parts, " ")
}

var voiceT0 = time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)

var voiceRules = pager.Rules{LineNames: map[string]string{
	"+74996383867": "Moscow", "+12025952118": "washington", "+442071234567": "London",
}}

// voicePage is a page raised by a voicemail on the Moscow line 23 minutes
// before voiceT0, due an hour after it was raised.
func voicePage() *pager.Page {
	return &pager.Page{ID: 17, Source: pager.FromCall, TicketID: "T-1042", Priority: oncall.Critical,
		Line: "+74996383867", Recording: "https://rec.example/1", RecordingSeconds: 42,
		RaisedAt: voiceT0.Add(-23 * time.Minute), Deadline: voiceT0.Add(37 * time.Minute)}
}

// voiceEverything is every list of prompts the voice functions can return,
// as far as their inputs make a difference, in lang.
func voiceEverything(lang oncall.Language) [][]ivr.Prompt {
	var all [][]ivr.Prompt
	for d := -time.Minute; d <= 120*time.Hour; d += time.Minute {
		all = append(all, pager.AgoPrompts(lang, d))
	}
	for n := -1; n <= 120; n++ {
		all = append(all, pager.NumberPrompts(lang, n, false), pager.NumberPrompts(lang, n, true))
		all = append(all, pager.OpenPagesPrompts(lang, n))
	}
	all = append(all, pager.AckedPrompts(lang), pager.ClosedPrompts(lang), pager.TakenPrompts(lang), pager.NoKeyPrompts(lang))
	all = append(all, callbackEverything(lang)...)
	sources := []pager.Source{pager.FromCall, pager.FromFallback, pager.FromUpgrade, pager.FromTickets, pager.FromAPI, "future"}
	for _, src := range sources {
		for _, rec := range []string{"", "https://rec.example/1"} {
			for _, ticket := range []string{"", "1042", "T-1"} {
				for _, line := range []string{"", "+74996383867", "+12025952118", "+442071234567", "+10000000000"} {
					for _, prio := range append(oncall.Priorities[:], "bogus") {
						p := voicePage()
						p.Source, p.Recording, p.TicketID, p.Line, p.Priority = src, rec, ticket, line, prio
						for _, now := range []time.Time{voiceT0, p.Deadline, voiceT0.Add(200 * time.Hour)} {
							all = append(all, pager.PageCallPrompts(p, lang, now, voiceRules))
						}
					}
				}
			}
		}
	}
	return all
}

// voiceLater are page-call prompts no function plays yet.
var voiceLater []string

// voicePageCallPrompt reports whether the catalogue entry name belongs to
// the page calls ("Page calls to engineers" in ivr/prompts.go).
func voicePageCallPrompt(name string) bool {
	for _, prefix := range []string{"page_", "num_", "unit_", "ago_"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return name == "word_ago"
}

// TestVoicePromptsExist checks that every prompt the page call can play is
// in the catalogue, in the language asked for, and has audio: the driver
// plays only recordings (no text-to-speech), so a missing one would be
// silence. Number and unit words, strung together, are as short as the
// digits.
func TestVoicePromptsExist(t *testing.T) {
	used := map[string]bool{}
	for _, lang := range append(voiceLangs, "", "de") {
		want := lang
		if !want.Valid() {
			want = oncall.English
		}
		for _, ps := range voiceEverything(lang) {
			for _, p := range ps {
				used[p.Name] = true
				switch {
				case p.Lang != want:
					t.Errorf("asked for %q, got %v", lang, p)
				case ivr.Text(p) == "":
					t.Errorf("%v is not in the catalogue (ivr/prompts.go)", p)
				case sounds.Duration(string(p.Lang), p.Name) == 0:
					t.Errorf("%v has no audio; run go generate ./sounds/", p)
				}
				if strings.HasPrefix(p.Name, "num_") || strings.HasPrefix(p.Name, "unit_") || strings.HasPrefix(p.Name, "digit_") {
					if d := sounds.Duration(string(p.Lang), p.Name); d > 1500*time.Millisecond {
						t.Errorf("%v plays %v: a word strung into a number should take at most 1.5s", p, d)
					}
				}
			}
		}
	}
	for _, name := range voiceLater {
		if used[name] {
			t.Errorf("%s is played now; take it off voiceLater", name)
		}
		used[name] = true
		for _, lang := range voiceLangs {
			if ivr.Text(ivr.Prompt{Name: name, Lang: lang}) == "" {
				t.Errorf("%s is not in the catalogue in %s", name, lang)
			}
		}
	}
	// And the other way round: the page-call section holds nothing that no
	// page call says (the call flow's tests check theirs).
	for _, p := range ivr.Catalogue() {
		if voicePageCallPrompt(p.Name) && !used[p.Name] {
			t.Errorf("%s: in the page-call prompts, but no page call says it", p.Name)
		}
	}
}

func TestAgoPrompts(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		ru, en string
	}{
		{-5 * time.Second, "только что.", "just now."},
		{0, "только что.", "just now."},
		{59 * time.Second, "только что.", "just now."},
		{time.Minute, "одну минуту назад.", "one minute ago."},
		{time.Minute + 59*time.Second, "одну минуту назад.", "one minute ago."},
		{2 * time.Minute, "две минуты назад.", "two minutes ago."},
		{4 * time.Minute, "четыре минуты назад.", "four minutes ago."},
		{5 * time.Minute, "пять минут назад.", "five minutes ago."},
		{11 * time.Minute, "одиннадцать минут назад.", "eleven minutes ago."},
		{12 * time.Minute, "двенадцать минут назад.", "twelve minutes ago."},
		{20 * time.Minute, "двадцать минут назад.", "twenty minutes ago."},
		{21 * time.Minute, "двадцать одну минуту назад.", "twenty one minutes ago."},
		{22 * time.Minute, "двадцать две минуты назад.", "twenty two minutes ago."},
		{23 * time.Minute, "двадцать три минуты назад.", "twenty three minutes ago."},
		{40 * time.Minute, "сорок минут назад.", "forty minutes ago."},
		{45 * time.Minute, "сорок пять минут назад.", "forty five minutes ago."},
		{59*time.Minute + 59*time.Second, "пятьдесят девять минут назад.", "fifty nine minutes ago."},
		{time.Hour, "один час назад.", "one hour ago."},
		{time.Hour + 59*time.Minute, "один час назад.", "one hour ago."},
		{2 * time.Hour, "два часа назад.", "two hours ago."},
		{3 * time.Hour, "три часа назад.", "three hours ago."},
		{5 * time.Hour, "пять часов назад.", "five hours ago."},
		{11 * time.Hour, "одиннадцать часов назад.", "eleven hours ago."},
		{21 * time.Hour, "двадцать один час назад.", "twenty one hours ago."},
		{24 * time.Hour, "двадцать четыре часа назад.", "twenty four hours ago."},
		{99*time.Hour + 59*time.Minute, "девяносто девять часов назад.", "ninety nine hours ago."},
		{100 * time.Hour, "больше четырёх дней назад.", "more than four days ago."},
		{30 * 24 * time.Hour, "больше четырёх дней назад.", "more than four days ago."},
	} {
		if got := voiceSay(pager.AgoPrompts(oncall.Russian, c.d)); got != c.ru {
			t.Errorf("AgoPrompts(ru, %v) says %q, want %q", c.d, got, c.ru)
		}
		if got := voiceSay(pager.AgoPrompts(oncall.English, c.d)); got != c.en {
			t.Errorf("AgoPrompts(en, %v) says %q, want %q", c.d, got, c.en)
		}
	}
}

// TestAgoRussianPlurals goes through every minute and hour: the noun's
// form is the one its number takes.
func TestAgoRussianPlurals(t *testing.T) {
	check := func(d time.Duration, n int, one, few, many string) {
		t.Helper()
		words := strings.Fields(voiceSay(pager.AgoPrompts(oncall.Russian, d)))
		if len(words) < 3 {
			t.Fatalf("AgoPrompts(ru, %v) says %q", d, words)
		}
		want := pager.RussianPlural(n, one, few, many)
		if got := words[len(words)-2]; got != want {
			t.Errorf("AgoPrompts(ru, %v) says %q: %q, want %q", d, strings.Join(words, " "), got, want)
		}
		last := words[len(words)-3]
		switch n % 10 {
		case 1:
			if n != 11 && last != map[string]string{"минуту": "одну", "час": "один"}[one] {
				t.Errorf("AgoPrompts(ru, %v) says %q", d, strings.Join(words, " "))
			}
		case 2:
			if n != 12 && last != map[string]string{"минуту": "две", "час": "два"}[one] {
				t.Errorf("AgoPrompts(ru, %v) says %q", d, strings.Join(words, " "))
			}
		}
	}
	for n := 1; n < 60; n++ {
		check(time.Duration(n)*time.Minute, n, "минуту", "минуты", "минут")
	}
	for n := 1; n < 100; n++ {
		check(time.Duration(n)*time.Hour, n, "час", "часа", "часов")
	}
}

func TestNumberPrompts(t *testing.T) {
	for _, c := range []struct {
		n        int
		feminine bool
		ru, en   string
	}{
		{1, false, "один", "one"},
		{1, true, "одну", "one"},
		{2, false, "два", "two"},
		{2, true, "две", "two"},
		{3, true, "три", "three"},
		{10, false, "десять", "ten"},
		{11, true, "одиннадцать", "eleven"},
		{12, true, "двенадцать", "twelve"},
		{19, false, "девятнадцать", "nineteen"},
		{20, false, "двадцать", "twenty"},
		{21, false, "двадцать один", "twenty one"},
		{21, true, "двадцать одну", "twenty one"},
		{32, false, "тридцать два", "thirty two"},
		{32, true, "тридцать две", "thirty two"},
		{40, false, "сорок", "forty"},
		{57, false, "пятьдесят семь", "fifty seven"},
		{68, false, "шестьдесят восемь", "sixty eight"},
		{70, false, "семьдесят", "seventy"},
		{83, false, "восемьдесят три", "eighty three"},
		{99, true, "девяносто девять", "ninety nine"},
		// No words: digit by digit.
		{0, false, "ноль", "zero"},
		{100, false, "один ноль ноль", "one zero zero"},
		{-3, false, "три", "three"},
	} {
		if got := voiceSay(pager.NumberPrompts(oncall.Russian, c.n, c.feminine)); got != c.ru {
			t.Errorf("NumberPrompts(ru, %d, %v) says %q, want %q", c.n, c.feminine, got, c.ru)
		}
		if got := voiceSay(pager.NumberPrompts(oncall.English, c.n, c.feminine)); got != c.en {
			t.Errorf("NumberPrompts(en, %d, %v) says %q, want %q", c.n, c.feminine, got, c.en)
		}
	}
	// One word up to 20 and for the tens, a ten and a unit otherwise.
	for n := 1; n < 100; n++ {
		want := 2
		if n <= 20 || n%10 == 0 {
			want = 1
		}
		if got := len(pager.NumberPrompts(oncall.Russian, n, false)); got != want {
			t.Errorf("NumberPrompts(ru, %d) is %d words, want %d", n, got, want)
		}
	}
}

func TestOpenPagesPrompts(t *testing.T) {
	for _, c := range []struct {
		n      int
		ru, en string
	}{
		{1, "У вас один открытый вызов.", "You have one open page."},
		{2, "У вас два открытых вызова.", "You have two open pages."},
		{5, "У вас пять открытых вызовов.", "You have five open pages."},
		{11, "У вас одиннадцать открытых вызовов.", "You have eleven open pages."},
		{21, "У вас двадцать один открытый вызов.", "You have twenty one open pages."},
		{24, "У вас двадцать четыре открытых вызова.", "You have twenty four open pages."},
	} {
		if got := voiceSay(pager.OpenPagesPrompts(oncall.Russian, c.n)); got != c.ru {
			t.Errorf("OpenPagesPrompts(ru, %d) says %q, want %q", c.n, got, c.ru)
		}
		if got := voiceSay(pager.OpenPagesPrompts(oncall.English, c.n)); got != c.en {
			t.Errorf("OpenPagesPrompts(en, %d) says %q, want %q", c.n, got, c.en)
		}
	}
	if ps := pager.OpenPagesPrompts(oncall.English, 0); ps != nil {
		t.Errorf("OpenPagesPrompts(en, 0) = %v", ps)
	}
}

func TestPageCallPrompts(t *testing.T) {
	t.Run("Voicemail", func(t *testing.T) {
		p := voicePage()
		for _, c := range []struct {
			lang oncall.Language
			want string
		}{
			{oncall.English, "This is the support pager. priority critical Ticket one zero four two Line Moscow. " +
				"A client left a voicemail twenty three minutes ago. Press 1 to acknowledge."},
			{oncall.Russian, "Вас вызывает дежурная служба поддержки. приоритет критический Заявка номер один ноль четыре два Линия Москва. " +
				"Клиент оставил голосовое сообщение двадцать три минуты назад. Нажмите 1, чтобы принять вызов."},
		} {
			if got := voiceSay(pager.PageCallPrompts(p, c.lang, voiceT0, voiceRules)); got != c.want {
				t.Errorf("%s:\n got %q\nwant %q", c.lang, got, c.want)
			}
		}
	})

	t.Run("Overdue", func(t *testing.T) {
		p := voicePage()
		for _, c := range []struct {
			now     time.Time
			overdue bool
		}{
			{p.Deadline.Add(-time.Second), false},
			{p.Deadline, true}, // the deadline itself is past the guarantee
			{p.Deadline.Add(time.Hour), true},
		} {
			ps := pager.PageCallPrompts(p, oncall.English, c.now, voiceRules)
			if got := len(ps) > 1 && ps[1].Name == "page_overdue"; got != c.overdue {
				t.Errorf("at %v (deadline %v): overdue %v, want %v: %q", c.now, p.Deadline, got, c.overdue, voiceSay(ps))
			}
		}
		ps := pager.PageCallPrompts(p, oncall.Russian, p.Deadline.Add(10*time.Hour), voiceRules)
		if got := voiceSay(ps); !strings.HasPrefix(got, "Вас вызывает дежурная служба поддержки. Вызов просрочен: гарантированное время ответа истекло. приоритет критический") ||
			!strings.Contains(got, "одиннадцать часов назад.") {
			t.Errorf("overdue by 10h: %q", got)
		}
	})

	t.Run("Source", func(t *testing.T) {
		for _, c := range []struct {
			src       pager.Source
			recording string
			want      string
		}{
			{pager.FromCall, "https://rec.example/1", "A client left a voicemail twenty three minutes ago."},
			{pager.FromCall, "", "Nobody answered a client's call twenty three minutes ago."},
			{pager.FromFallback, "https://rec.example/1", "A client left a voicemail twenty three minutes ago."},
			{pager.FromFallback, "", "Nobody answered a client's call twenty three minutes ago."},
			{pager.FromUpgrade, "https://rec.example/1", "A client left a voicemail twenty three minutes ago."},
			{pager.FromUpgrade, "", "Nobody answered a client's call twenty three minutes ago."},
			{pager.FromTickets, "", "The ticket system paged you twenty three minutes ago."},
			{pager.FromAPI, "", "The support team paged you twenty three minutes ago."},
		} {
			p := voicePage()
			p.Source, p.Recording = c.src, c.recording
			if got := voiceSay(pager.PageCallPrompts(p, oncall.English, voiceT0, voiceRules)); !strings.HasSuffix(got, " "+c.want+" Press 1 to acknowledge.") {
				t.Errorf("%s, recording %q: %q, want it to end %q", c.src, c.recording, got, c.want)
			}
		}
	})

	t.Run("NoTicketNoLine", func(t *testing.T) {
		p := &pager.Page{Source: pager.FromAPI, Priority: oncall.Low, RaisedAt: voiceT0, Deadline: voiceT0.Add(24 * time.Hour)}
		want := "Вас вызывает дежурная служба поддержки. приоритет низкий Вас вызвала команда поддержки только что. Нажмите 1, чтобы принять вызов."
		if got := voiceSay(pager.PageCallPrompts(p, oncall.Russian, voiceT0.Add(30*time.Second), pager.Rules{})); got != want {
			t.Errorf("\n got %q\nwant %q", got, want)
		}
	})

	t.Run("Lines", func(t *testing.T) {
		for _, c := range []struct{ line, want string }{
			{"+74996383867", "Line Moscow."},     // named "Moscow", as ivr.Line names it
			{"+12025952118", "Line Washington."}, // named in lower case
			{"+442071234567", ""},                // named, but no recorded name
			{"+10000000000", ""},                 // not a line the rules name
			{"", ""},                             // not an IVR page
		} {
			p := voicePage()
			p.Line = c.line
			got := voiceSay(pager.PageCallPrompts(p, oncall.English, voiceT0, voiceRules))
			has := strings.Contains(got, "Line ")
			if c.want == "" && has || c.want != "" && !strings.Contains(got, "two "+c.want+" A client") {
				t.Errorf("line %q: %q, want %q", c.line, got, c.want)
			}
		}
	})

	t.Run("Language", func(t *testing.T) {
		for _, lang := range []oncall.Language{"", "de"} {
			for _, p := range pager.PageCallPrompts(voicePage(), lang, voiceT0, voiceRules) {
				if p.Lang != oncall.English {
					t.Errorf("%q: %v, want English", lang, p)
				}
			}
		}
	})
}

func TestEndPrompts(t *testing.T) {
	for _, c := range []struct {
		name   string
		ps     func(oncall.Language) []ivr.Prompt
		ru, en string
	}{
		{"Acked", pager.AckedPrompts, "Спасибо, вы приняли вызов. До свидания.", "Thank you, you have acknowledged the page. Goodbye."},
		{"Closed", pager.ClosedPrompts, "Этот вызов уже принят или закрыт. До свидания.", "This page has already been acknowledged or closed. Goodbye."},
		{"Taken", pager.TakenPrompts, "Этот вызов уже принял другой инженер. До свидания.", "This page has already been acknowledged by another engineer. Goodbye."},
		{"NoKey", pager.NoKeyPrompts, "Мы отправим вам текстовое сообщение. До свидания.", "We will send you a text message. Goodbye."},
	} {
		if got := voiceSay(c.ps(oncall.Russian)); got != c.ru {
			t.Errorf("%s(ru) says %q, want %q", c.name, got, c.ru)
		}
		if got := voiceSay(c.ps(oncall.English)); got != c.en {
			t.Errorf("%s(en) says %q, want %q", c.name, got, c.en)
		}
	}
}

func ExamplePageCallPrompts() {
	p := &pager.Page{Source: pager.FromCall, TicketID: "1042", Priority: oncall.Urgent, Line: "+12025952118",
		RaisedAt: voiceT0.Add(-3 * time.Hour), Deadline: voiceT0.Add(-time.Hour)}
	rules := pager.Rules{LineNames: map[string]string{"+12025952118": "Washington"}}
	var names []string
	for _, pr := range pager.PageCallPrompts(p, oncall.English, voiceT0, rules) {
		names = append(names, pr.Name)
	}
	fmt.Println(strings.Join(names, " "))
	fmt.Println(voiceSay(pager.PageCallPrompts(p, oncall.English, voiceT0, rules)))
	// Output:
	// page_intro page_overdue word_priority priority_urgent word_ticket digit_1 digit_0 digit_4 digit_2 page_line line_washington page_from_missed_call num_3 unit_hour_many word_ago page_press_ack
	// This is the support pager. This page is overdue: the guaranteed response time has passed. priority urgent Ticket one zero four two Line Washington. Nobody answered a client's call three hours ago. Press 1 to acknowledge.
}
