package manifest

import (
	"reflect"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	m := &Manifest{Format: "WAV", Files: map[string]Entry{
		"ru/goodbye.wav": {Source: SourceESpeak, Text: "До свидания & <всего>", Voice: "ru", Rate: 145, SHA256: Hash([]byte("x"))},
		"hold.wav":       {Source: SourceRecorded, Note: "studio"},
	}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "До свидания & <всего>") {
		t.Errorf("text escaped in\n%s", b)
	}
	if strings.Index(string(b), "hold.wav") > strings.Index(string(b), "ru/goodbye.wav") {
		t.Errorf("files not in path order:\n%s", b)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("Parse(Marshal(m)) = %+v, want %+v", got, m)
	}
}

func TestParse(t *testing.T) {
	if m, err := Parse([]byte(`{}`)); err != nil || m.Files == nil {
		t.Errorf("Parse({}) = %+v, %v", m, err)
	}
	if _, err := Parse([]byte(`{"files": {"a.wav": {"source": "recorded", "txt": "typo"}}}`)); err == nil {
		t.Error("Parse accepted an unknown field")
	}
}
