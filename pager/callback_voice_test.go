package pager_test

import (
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/pager"
)

// callbackEverything is every list of prompts the menu after the key and
// the dial-in can return, in lang (voiceEverything takes them in).
func callbackEverything(lang oncall.Language) [][]ivr.Prompt {
	var all [][]ivr.Prompt
	for _, listen := range []bool{false, true} {
		for _, call := range []bool{false, true} {
			all = append(all, pager.AckedMenuPrompts(lang, listen, call), pager.MenuPrompts(lang, listen, call))
		}
	}
	all = append(all, pager.MessagePrompts(lang), pager.NoRecordingPrompts(lang), pager.CallingClientPrompts(lang),
		pager.ClientNoAnswerPrompts(lang), pager.CallEndedPrompts(lang), pager.GoodbyePrompts(lang))
	for _, n := range []int{0, 1, 2, 5, 120} {
		all = append(all, pager.DialInPrompts(dialInPages(n), lang, voiceT0, voiceRules))
	}
	switch lang {
	case oncall.English:
		// In both languages whatever is asked: the list is checked by hand.
		all = append(all, pager.NotEngineerPrompts()[:1])
	case oncall.Russian:
		all = append(all, pager.NotEngineerPrompts()[1:])
	}
	return all
}

func dialInPages(n int) []pager.Page {
	out := make([]pager.Page, n)
	for i := range out {
		out[i] = *voicePage()
	}
	return out
}

func TestMenuPrompts(t *testing.T) {
	for _, c := range []struct {
		listen, call bool
		en, ru       string
	}{
		{true, true, "Thank you, you have acknowledged the page. Press 2 to hear the message. Press 3 to call the client back.",
			"Спасибо, вы приняли вызов. Нажмите 2, чтобы прослушать сообщение. Нажмите 3, чтобы перезвонить клиенту."},
		{false, true, "Thank you, you have acknowledged the page. Press 3 to call the client back.",
			"Спасибо, вы приняли вызов. Нажмите 3, чтобы перезвонить клиенту."},
		{true, false, "Thank you, you have acknowledged the page. Press 2 to hear the message.",
			"Спасибо, вы приняли вызов. Нажмите 2, чтобы прослушать сообщение."},
		// Nothing to offer: thanks and goodbye, as before.
		{false, false, "Thank you, you have acknowledged the page. Goodbye.", "Спасибо, вы приняли вызов. До свидания."},
	} {
		if got := voiceSay(pager.AckedMenuPrompts(oncall.English, c.listen, c.call)); got != c.en {
			t.Errorf("listen %v, call %v: %q, want %q", c.listen, c.call, got, c.en)
		}
		if got := voiceSay(pager.AckedMenuPrompts(oncall.Russian, c.listen, c.call)); got != c.ru {
			t.Errorf("listen %v, call %v: %q, want %q", c.listen, c.call, got, c.ru)
		}
	}
}

func TestDialInPrompts(t *testing.T) {
	if got := voiceSay(pager.DialInPrompts(nil, oncall.Russian, voiceT0, voiceRules)); got != "У вас нет открытых вызовов. До свидания." {
		t.Errorf("no pages: %q", got)
	}
	one := voiceSay(pager.DialInPrompts(dialInPages(1), oncall.English, voiceT0, voiceRules))
	want := "This is the support pager. You have one open page. priority critical Ticket one zero four two Line Moscow. " +
		"A client left a voicemail twenty three minutes ago. Press 1 to acknowledge."
	if one != want {
		t.Errorf("one page:\n got %q\nwant %q", one, want)
	}
	older := *voicePage()
	older.RaisedAt = voiceT0.Add(-3 * time.Hour)
	two := voiceSay(pager.DialInPrompts([]pager.Page{*voicePage(), older}, oncall.Russian, voiceT0, voiceRules))
	if !strings.HasPrefix(two, "Вас вызывает дежурная служба поддержки. У вас два открытых вызова. Последний вызов: ") ||
		!strings.Contains(two, "двадцать три минуты назад.") || strings.Count(two, "дежурная служба") != 1 {
		t.Errorf("two pages, the newest announced: %q", two)
	}
	many := pager.DialInPrompts(dialInPages(120), oncall.English, voiceT0, voiceRules)
	if got := voiceSay(many); !strings.Contains(got, "You have ninety nine open pages.") {
		t.Errorf("120 pages: %q, want them counted as 99 (the most the words say)", got)
	}
}

func TestNotEngineerPrompts(t *testing.T) {
	got := voiceSay(pager.NotEngineerPrompts())
	want := "This number takes calls from the support team's engineers only. Goodbye. " +
		"Этот номер принимает звонки только от дежурных инженеров. До свидания."
	if got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
