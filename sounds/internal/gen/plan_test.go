package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds/internal/manifest"
)

var testCatalogue = []ivr.PromptText{
	{Name: "greeting", RU: "Здравствуйте! Поддержка 24/7.", EN: "Hello, 24/7 support."},
	{Name: "goodbye", RU: "До свидания.", EN: "Goodbye."},
}

// generated is the state after a clean run: every wanted file rendered and
// on disk with its hash.
func generated() (*manifest.Manifest, map[string]manifest.Entry, map[string]string) {
	want := wanted(testCatalogue)
	m := &manifest.Manifest{Files: map[string]manifest.Entry{}}
	files := map[string]string{}
	for path, e := range want {
		e.SHA256 = "sum-" + path
		m.Files[path] = e
		files[path] = e.SHA256
	}
	return m, want, files
}

func rendered(p plan) []string {
	var paths []string
	for _, j := range p.render {
		paths = append(paths, j.Path)
	}
	return paths
}

func TestWanted(t *testing.T) {
	want := wanted(testCatalogue)
	if len(want) != 5 {
		t.Fatalf("wanted %d files, want 2 prompts × 2 languages + hold", len(want))
	}
	en := want["en/greeting.wav"]
	if en.Text != "Hello, 24/7 support." || en.Spoken != "Hello, twenty-four seven support." || en.Voice != "en-us" || en.Source != manifest.SourceESpeak {
		t.Errorf("en/greeting.wav: %+v", en)
	}
	if ru := want["ru/greeting.wav"]; ru.Text != testCatalogue[0].RU || ru.Spoken != "" || ru.Voice != "ru" {
		t.Errorf("ru/greeting.wav: %+v", ru)
	}
	if h := want[holdPath]; h.Source != manifest.SourceSynth || h.Recipe == "" {
		t.Errorf("hold.wav: %+v", h)
	}
}

func TestSpell(t *testing.T) {
	for _, c := range []struct {
		spell    func(string) string
		in, want string
	}{
		{spellRussian, "К сожалению, инженер не может.", "Ксожалению, инженер не может."},
		{spellRussian, "Переходим к оплате (к счёту).", "Переходим коплате (ксчёту)."},
		{spellRussian, "Как к вам обращаться? Кнопка к.", "Как квам обращаться? Кнопка к."},
		{spellRussian, "Звонок в поддержку", "Звонок в поддержку"},
		{spellRussian, "сорок", "сорокь"},
		{spellRussian, "Сорок минут назад.", "Сорокь минут назад."},
		{spellRussian, "Сорока, сороковой, сорокалетний.", "Сорока, сороковой, сорокалетний."},
		{spellEnglish, "Hello, 24/7 support.", "Hello, twenty-four seven support."},
		{spellEnglish, "Press 2 for 24 hours, 7 days.", "Press 2 for 24 hours, 7 days."},
	} {
		if got := c.spell(c.in); got != c.want {
			t.Errorf("spell(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMakePlan(t *testing.T) {
	t.Run("FirstRun", func(t *testing.T) {
		_, want, _ := generated()
		p := makePlan(&manifest.Manifest{Files: map[string]manifest.Entry{}}, want, map[string]string{}, false)
		if len(p.render) != len(want) || len(p.problems) != 0 || len(p.remove) != 0 {
			t.Errorf("plan: render %v, problems %v, remove %v", rendered(p), p.problems, p.remove)
		}
	})

	t.Run("UpToDate", func(t *testing.T) {
		m, want, files := generated()
		p := makePlan(m, want, files, false)
		if len(p.render) != 0 || len(p.problems) != 0 || !reflect.DeepEqual(p.keep, m.Files) {
			t.Errorf("plan: render %v, problems %v", rendered(p), p.problems)
		}
	})

	t.Run("Force", func(t *testing.T) {
		m, want, files := generated()
		if p := makePlan(m, want, files, true); len(p.render) != len(want) {
			t.Errorf("plan renders %v, want everything", rendered(p))
		}
	})

	t.Run("TextChanged", func(t *testing.T) {
		m, want, files := generated()
		e := want["en/goodbye.wav"]
		e.Text = "Goodbye, and thank you."
		want["en/goodbye.wav"] = e
		p := makePlan(m, want, files, false)
		if got := rendered(p); !reflect.DeepEqual(got, []string{"en/goodbye.wav"}) || len(p.problems) != 0 {
			t.Errorf("plan: render %v, problems %v", got, p.problems)
		}
		if p.render[0].Entry.Text != "Goodbye, and thank you." {
			t.Errorf("renders from %+v", p.render[0].Entry)
		}
	})

	t.Run("RateChanged", func(t *testing.T) {
		m, want, files := generated()
		e := m.Files["ru/goodbye.wav"]
		e.Rate++
		m.Files["ru/goodbye.wav"] = e
		if got := rendered(makePlan(m, want, files, false)); !reflect.DeepEqual(got, []string{"ru/goodbye.wav"}) {
			t.Errorf("plan renders %v", got)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		m, want, files := generated()
		delete(files, holdPath)
		if got := rendered(makePlan(m, want, files, false)); !reflect.DeepEqual(got, []string{holdPath}) {
			t.Errorf("plan renders %v", got)
		}
	})

	t.Run("Recorded", func(t *testing.T) {
		m, want, files := generated()
		rec := manifest.Entry{Source: manifest.SourceRecorded, Text: "Goodbye.", Note: "studio, 2025"}
		m.Files["en/goodbye.wav"] = rec
		files["en/goodbye.wav"] = "studio"
		p := makePlan(m, want, files, true) // not even -force touches it
		for _, j := range p.render {
			if j.Path == "en/goodbye.wav" {
				t.Fatal("plan renders over a recording")
			}
		}
		if p.keep["en/goodbye.wav"] != rec || len(p.problems) != 0 {
			t.Errorf("plan keeps %+v, problems %v", p.keep["en/goodbye.wav"], p.problems)
		}
	})

	t.Run("ErrRecordingStale", func(t *testing.T) {
		m, want, files := generated()
		m.Files["ru/goodbye.wav"] = manifest.Entry{Source: manifest.SourceRecorded, Text: "Всего доброго."}
		p := makePlan(m, want, files, false)
		if len(p.render) != 0 || len(p.problems) != 1 || !strings.Contains(p.problems[0], "re-record") {
			t.Errorf("plan: render %v, problems %v", rendered(p), p.problems)
		}
		if p.keep["ru/goodbye.wav"].Source != manifest.SourceRecorded {
			t.Error("plan drops the recording's entry")
		}
	})

	t.Run("ErrRecordingMissing", func(t *testing.T) {
		m, want, files := generated()
		m.Files["ru/goodbye.wav"] = manifest.Entry{Source: manifest.SourceRecorded, Text: "До свидания."}
		delete(files, "ru/goodbye.wav")
		if p := makePlan(m, want, files, false); len(p.render) != 0 || len(p.problems) != 1 {
			t.Errorf("plan: render %v, problems %v", rendered(p), p.problems)
		}
	})

	t.Run("ErrChangedByHand", func(t *testing.T) {
		m, want, files := generated()
		files["en/goodbye.wav"] = "dropped in from the studio"
		p := makePlan(m, want, files, false)
		if len(p.render) != 0 || len(p.problems) != 1 || !strings.Contains(p.problems[0], `"recorded"`) {
			t.Errorf("plan: render %v, problems %v", rendered(p), p.problems)
		}
		if p := makePlan(m, want, files, true); len(p.render) != len(want) {
			t.Errorf("with -force the plan renders %v", rendered(p))
		}
	})

	t.Run("ErrUnknownFile", func(t *testing.T) {
		m, want, files := generated()
		delete(m.Files, "en/goodbye.wav")
		p := makePlan(m, want, files, false)
		if len(p.render) != 0 || len(p.problems) != 1 || !strings.Contains(p.problems[0], "not in the manifest") {
			t.Errorf("plan: render %v, problems %v", rendered(p), p.problems)
		}
	})

	t.Run("Orphans", func(t *testing.T) {
		m, want, files := generated()
		m.Files["en/old_prompt.wav"] = manifest.Entry{Source: manifest.SourceESpeak, Text: "Old."}
		files["en/old_prompt.wav"] = "x"
		files["ru/stray.wav"] = "y"
		m.Files["en/gone.wav"] = manifest.Entry{Source: manifest.SourceESpeak, Text: "Gone."} // file already deleted
		rec := manifest.Entry{Source: manifest.SourceRecorded, Text: "Old recording."}
		m.Files["ru/old_recording.wav"] = rec
		files["ru/old_recording.wav"] = "z"
		p := makePlan(m, want, files, false)
		if !reflect.DeepEqual(p.remove, []string{"en/old_prompt.wav", "ru/stray.wav"}) {
			t.Errorf("plan removes %v", p.remove)
		}
		if _, ok := p.keep["en/gone.wav"]; ok {
			t.Error("plan keeps the entry of a removed prompt")
		}
		if p.keep["ru/old_recording.wav"] != rec || len(p.problems) != 1 || !strings.Contains(p.problems[0], "no longer in the catalogue") {
			t.Errorf("plan keeps %+v, problems %v", p.keep["ru/old_recording.wav"], p.problems)
		}
	})
}

func TestHoldNotes(t *testing.T) {
	notes := holdNotes()
	if len(notes) == 0 {
		t.Fatal("no notes")
	}
	for _, n := range notes {
		if hz := hz(n.midi); hz < 250 || hz > 1000 {
			t.Errorf("note %d at %.0f Hz, outside the phone band this music keeps to", n.midi, hz)
		}
		if n.start < 0 || n.start >= 2*holdLength() {
			t.Errorf("note at %gs, outside the two passes", n.start)
		}
	}
	if l := holdLength(); l < 20 || l > 30 {
		t.Errorf("loop of %gs, want 20–30s", l)
	}
}
