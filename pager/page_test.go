package pager

import (
	"strings"
	"testing"

	"github.com/supportdesk/ivr/oncall"
)

// TestTargetOfPrintableName: a name stored before names were checked, with
// control characters in it, reaches texts and ticket notes cleaned, so a
// ticket system never refuses the acknowledgement's note for it.
func TestTargetOfPrintableName(t *testing.T) {
	e := oncall.Engineer{ID: 7, Name: "Anna\x00 Smir\x1bnova\n", Languages: []oncall.Language{oncall.Russian},
		Contacts: []oncall.ContactMethod{{Phone: "+12025550101", SMS: true}}}
	tg := TargetOf(e)
	if tg.Name != "Anna Smir nova" {
		t.Errorf("name %q, want the control characters gone", tg.Name)
	}
	p := &Page{ID: 3, Priority: oncall.Urgent, TicketID: "1001"}
	if note := AckNote(p, tg.Name, ViaVoice); strings.ContainsFunc(note, oncall.Unprintable) {
		t.Errorf("note %q has control characters", note)
	}
	if got := TargetOf(oncall.Engineer{ID: 9, Name: "\x00\x01"}).Name; got != "#9" {
		t.Errorf("a name of nothing printable: %q, want #9", got)
	}
}
