package team

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
)

// exported is the fixture's team as Export writes it.
func exported(t *testing.T) (string, State) {
	t.Helper()
	st, now := fixture()
	b, err := Export(st, now, "https://ivr.example.com")
	if err != nil {
		t.Fatal(err)
	}
	return string(b), st
}

// edit replaces the one occurrence of old in doc with new.
func edit(t *testing.T, doc, old, new string) string {
	t.Helper()
	if n := strings.Count(doc, old); n != 1 {
		t.Fatalf("%q occurs %d times in the document, want once:\n%s", old, n, doc)
	}
	return strings.Replace(doc, old, new, 1)
}

// lineOf is the line (from 1) where s first occurs in doc.
func lineOf(t *testing.T, doc, s string) int {
	t.Helper()
	i := strings.Index(doc, s)
	if i < 0 {
		t.Fatalf("%q is not in the document", s)
	}
	return strings.Count(doc[:i], "\n") + 1
}

func plan(t *testing.T, doc string, st State) (Plan, error) {
	t.Helper()
	d, err := Decode([]byte(doc))
	if err != nil {
		return Plan{}, err
	}
	return Compare(d, st, now)
}

// TestRoundTrip: what Export writes imports as no change at all, with its
// header saying what the file is and how to import it, times with their
// zone's offset and each rotation's versions to come.
func TestRoundTrip(t *testing.T) {
	doc, st := exported(t)
	for _, want := range []string{
		"# Exported from https://ivr.example.com at 2026-12-01T15:00:00Z.",
		"ivr schedule import --dry-run team.yaml",
		"What the file leaves out is removed",
		"effective_from: 2026-11-01T18:00:00+03:00 # version 2, in force now",
		"next_versions:",
		"ends_at: 2027-06-19T18:00:00+03:00",
		"start: 2026-12-01T16:00:00+03:00", // an override in its engineer's zone
		"# in progress: it can neither change nor go",
		"- James Miller\n", // participants by name
		`handoff: "09:00"`,
		"low: # answered within 24h\n    - {level: L1, channels: [sms], delay: 1h}",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the export lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "old") || strings.Contains(doc, "id: 1\n    level: L1\n    layer: primary\n    engineer: James") {
		t.Errorf("the export shows an ended rotation or a past override:\n%s", doc)
	}
	p, err := plan(t, doc, st)
	if err != nil {
		t.Fatalf("import of the export: %v", err)
	}
	if !p.Empty() {
		t.Errorf("import of the export changes %+v, want nothing", p.Changes())
	}

	// Later, once the version to come is in force, the same file still
	// agrees with the store: versions in force count as the same.
	later := now.Add(8 * 24 * time.Hour)
	d, _ := Decode([]byte(doc))
	p, err = Compare(d, st, later)
	if err != nil || len(p.Rotations) > 0 {
		t.Errorf("a week later, the file: %v, changes %+v; want no rotation changed", err, p.Changes())
	}
	// Once everything in the file is history (rotation 2 ended as it
	// says, the overrides over), it still agrees.
	p, err = Compare(d, st, now.Add(300*24*time.Hour))
	if err != nil || !p.Empty() {
		t.Errorf("300 days later, the file: %v, changes %+v; want none", err, p.Changes())
	}
}

// TestDecodeErrors: a broken document is refused with the field's path and
// the line in the message, before anything is planned.
func TestDecodeErrors(t *testing.T) {
	doc, st := exported(t)
	for _, tc := range []struct {
		name   string
		edit   func(string) string
		field  string
		lineOf string // the line is where this text is in the broken document
		msg    string
	}{
		{"UnknownEngineer", func(d string) string {
			return edit(t, d, "      - James Miller\n      - Anna", "      - Jim Miller\n      - Anna")
		},
			"rotations[0].participants[0]", "- Jim Miller", `there is no engineer named "Jim Miller" in this file's engineers`},
		{"UnknownOverrideEngineer", func(d string) string { return edit(t, d, "engineer: Olga Petrova", "engineer: Olga") },
			"overrides[1].engineer", "engineer: Olga", `there is no engineer named "Olga"`},
		{"BadZone", func(d string) string { return edit(t, d, "time_zone: America/New_York", "time_zone: Mars/Olympus") },
			"engineers[1].time_zone", "Mars/Olympus", `"Mars/Olympus" is not a known IANA time zone`},
		{"BadRotationZone", func(d string) string {
			return edit(t, d, "layer: secondary\n    time_zone: Europe/Moscow", "layer: secondary\n    time_zone: Europe/Atlantis")
		}, "rotations[1].time_zone", "Europe/Atlantis", "is not a known IANA time zone"},
		{"OverlappingOverride", func(d string) string {
			return edit(t, d, "policies:", "  - level: L2\n    layer: secondary\n    engineer: Olga Petrova\n    start: 2026-12-04T05:00:00+03:00\n    end: 2026-12-04T09:00:00+03:00\n"+
				"# policies\npolicies:")
		}, "overrides[2].start", "start: 2026-12-04T05:00", "overlaps overrides[1] (line "},
		{"OverlapInProgress", func(d string) string {
			return edit(t, d, "policies:", "  - level: L1\n    engineer: James Miller\n    start: 2026-12-01T23:00:00+03:00\n    end: 2026-12-02T09:00:00+03:00\n"+
				"# policies\npolicies:")
		}, "overrides[2].start", "start: 2026-12-01T23:00", "overlaps overrides[0]"},
		{"UnknownField", func(d string) string {
			return edit(t, d, "    level: L2\n    languages", "    level: L2\n    shoe_size: 9\n    languages")
		},
			"engineers[2].shoe_size", "shoe_size", `"shoe_size" is not a known field`},
		{"DuplicateName", func(d string) string { return edit(t, d, "name: Olga Petrova", "name: Anna Smirnova") },
			"engineers[2].name", "name: Anna Smirnova\n    level: L2", "names must be unique"},
		{"BadPhone", func(d string) string { return edit(t, d, `"+79161234567"`, `"+7 916"`) },
			"engineers[2].contacts[0].phone", `"+7 916"`, "is not a possible phone number"},
		{"BadLevel", func(d string) string { return edit(t, d, "level: L2\n    languages", "level: L7\n    languages") },
			"engineers[2].level", "level: L7", "is not a support level"},
		{"NotYAML", func(d string) string { return edit(t, d, "name: James Miller", "name: James: Miller") },
			"", "name: James: Miller", "not valid YAML: line "},
		{"MissingSection", func(d string) string { return strings.Replace(d, "overrides:", "overridez:", 1) },
			"overridez", "overridez:", `"overridez" is not a known field`},
		{"Alias", func(d string) string {
			return edit(t, d, "    languages: [en]\n", "    languages: &langs [en]\n    time_zone: *langs\n")
		}, "", "time_zone: *langs", "aliases (*langs) are not read"},
		{"UnknownEngineerID", func(d string) string { return edit(t, d, "  - id: 4\n", "  - id: 9\n") },
			"engineers[2].id", "id: 9", "there is no engineer 9"},
		{"EndedRotation", func(d string) string {
			return edit(t, d, "  - id: 2\n    effective_from", "  - id: 3\n    effective_from")
		},
			"rotations[1].id", "id: 3\n    effective_from", "rotation 3 ended at"},
		{"PastVersionToCome", func(d string) string {
			return edit(t, d, "effective_from: 2026-12-08T18:00:00+03:00", "effective_from: 2026-11-08T18:00:00+03:00")
		}, "rotations[0].next_versions[0].effective_from", "2026-11-08T18", "is in the past"},
		{"InProgressChanged", func(d string) string { return edit(t, d, "reason: swap with James", "reason: swapped") },
			"overrides[0].id", "id: 2\n    level: L1", "override 2 started at"},
		{"InProgressRemoved", func(d string) string {
			return edit(t, d, "  - id: 2\n    level: L1\n    layer: primary\n    engineer: Anna Smirnova\n    start: 2026-12-01T16:00:00+03:00\n    end: 2026-12-02T00:00:00+03:00\n    reason: swap with James\n", "")
		}, "overrides", "overrides:", "override 2 (L1 primary, Anna Smirnova"},
		{"BadPolicy", func(d string) string { return edit(t, d, "channels: [sms], delay: 1h", "channels: [sms], delay: 1m") },
			"policies.low[0].delay", "delay: 1m", "must be at least 5m0s"},
		{"PolicyTooSlow", func(d string) string { return edit(t, d, "channels: [sms], delay: 1h", "channels: [sms], delay: 30h") },
			"policies.low", "delay: 30h", "longer than the 24h0m0s guaranteed"},
		{"EngineerLeftOutStillNamed", func(d string) string {
			return edit(t, d, "  - id: 4\n    name: Olga Petrova\n    level: L2\n    languages: [ru]\n    time_zone: Europe/Moscow\n    contacts:\n      - {phone: \"+79161234567\", sms: true}\n", "")
		}, "rotations[1].participants[0]", "- Olga Petrova", `no engineer named "Olga Petrova"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := tc.edit(doc)
			_, err := plan(t, broken, st)
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.Invalid {
				t.Fatalf("error %v, want Invalid", err)
			}
			line := lineOf(t, broken, tc.lineOf)
			wantPrefix := "line " + strconv.Itoa(line) + ": "
			if e.Field != tc.field || !strings.Contains(e.Message, tc.msg) ||
				!strings.HasPrefix(strings.TrimPrefix(e.Message, "not valid YAML: "), wantPrefix) {
				t.Errorf("error field %q message %q; want field %q, message starting %q and holding %q", e.Field, e.Message, tc.field, wantPrefix, tc.msg)
			}
		})
	}
}

// change is what a test expects of one Change.
type change struct{ entity, id, action, summary string }

func checkChanges(t *testing.T, got []Change, want ...change) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d changes %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i, w := range want {
		g := got[i]
		if g.Entity != w.entity || g.ID != w.id || g.Action != w.action || !strings.Contains(g.Summary, w.summary) {
			t.Errorf("change %d: %s %s %s %q; want %s %s %s holding %q", i, g.Entity, g.ID, g.Action, g.Summary, w.entity, w.id, w.action, w.summary)
		}
	}
}

// TestCompareChanges: each edit a reviewer makes shows as the change it
// is, with what it was and what it becomes.
func TestCompareChanges(t *testing.T) {
	doc, st := exported(t)

	t.Run("Contacts", func(t *testing.T) {
		p, err := plan(t, edit(t, doc, `{phone: "+12025550104", sms: false}`, `{phone: "+1 202 555 0199", sms: true}`), st)
		if err != nil {
			t.Fatal(err)
		}
		checkChanges(t, p.Changes(), change{"engineer", "2", Update,
			"contacts: +12025550104, +12025550105 (sms) (unverified) → +12025550199 (sms), +12025550105 (sms) (unverified)"})
		if p.Engineers[0].After.CreatedAt != st.Engineers[1].CreatedAt {
			t.Errorf("an update loses the engineer's creation time")
		}
	})

	t.Run("TrustANumber", func(t *testing.T) {
		// The export marks the number James added and has not confirmed;
		// an admin who takes the mark out trusts it.
		p, err := plan(t, edit(t, doc, `{phone: "+12025550105", sms: true, verified: false}`, `{phone: "+12025550105", sms: true}`), st)
		if err != nil {
			t.Fatal(err)
		}
		checkChanges(t, p.Changes(), change{"engineer", "2", Update, "+12025550105 (sms) (unverified) → +12025550104, +12025550105 (sms)"})
	})

	t.Run("NewEngineerInRotation", func(t *testing.T) {
		d := edit(t, doc, "rotations:\n", "  - name: Ivan Petrov\n    level: L1\n    languages: [ru]\n    time_zone: Europe/Moscow\n    contacts:\n      - {phone: \"+79161234568\"}\nrotations:\n")
		d = edit(t, d, "      - James Miller\n      - Anna Smirnova\n", "      - James Miller\n      - Ivan Petrov\n      - Anna Smirnova\n")
		p, err := plan(t, d, st)
		if err != nil {
			t.Fatal(err)
		}
		checkChanges(t, p.Changes(),
			change{"engineer", "", Create, "L1, ru, Europe/Moscow, +79161234568"},
			change{"rotation", "1", Update, "version from 2026-12-01T15:00:00Z: participants: James Miller, Anna Smirnova → James Miller, Ivan Petrov, Anna Smirnova"})
		r := p.Rotations[0]
		if r.KeepVersion != 2 || len(r.Add) != 2 || !slices.Equal(r.Add[0].Participants, []int64{2, -1, 1}) || !r.Add[0].EffectiveFrom.Equal(now) {
			t.Errorf("rotation change %+v: want version 2 kept, a version from now naming the new engineer -1, then the version to come", r)
		}
	})

	t.Run("LeaveOut", func(t *testing.T) {
		// Olga, her rotation (not started) and her override to come go.
		d := edit(t, doc, "  - id: 4\n    name: Olga Petrova\n    level: L2\n    languages: [ru]\n    time_zone: Europe/Moscow\n    contacts:\n      - {phone: \"+79161234567\", sms: true}\n", "")
		i, j := strings.Index(d, "  # L2 weekly"), strings.Index(d, "# Overrides that end")
		d = d[:i] + d[j:]
		i, j = strings.Index(d, "  - id: 3\n    level: L2"), strings.Index(d, "# The escalation")
		d = d[:i] + d[j:]
		d = edit(t, d, "    - {level: L1, channels: [sms], delay: 1h}\n", "    - {level: L1, channels: [sms, voice], delay: 2h}\n")
		p, err := plan(t, d, st)
		if err != nil {
			t.Fatal(err)
		}
		checkChanges(t, p.Changes(),
			change{"policy", "low", Update, "steps: L1 sms 1h0m0s → L1 sms+voice 2h0m0s"},
			change{"override", "3", Delete, "2026-12-03T15:00:00Z to 2026-12-04T03:00:00Z"},
			change{"rotation", "2", Delete, "removed: it has not started"},
			change{"engineer", "4", Delete, "deleted"})
	})

	t.Run("EndRotationInForce", func(t *testing.T) {
		i, j := strings.Index(doc, "  # L1 Moscow day"), strings.Index(doc, "  # L2 weekly")
		p, err := plan(t, doc[:i]+doc[j:], st)
		if err != nil {
			t.Fatal(err)
		}
		checkChanges(t, p.Changes(), change{"rotation", "1", Delete, "ends at 2026-12-01T15:00:00Z"})
		if r := p.Rotations[0]; r.KeepVersion != 2 || r.End == nil || !r.End.Equal(now) {
			t.Errorf("rotation change %+v: want version 2 kept (history), version 3 dropped, the end now", r)
		}
	})

	t.Run("MoveOverrideAndEnds", func(t *testing.T) {
		d := edit(t, doc, "end: 2026-12-04T06:00:00+03:00", "end: 2026-12-04T09:00:00+03:00")
		d = edit(t, d, "    ends_at: 2027-06-19T18:00:00+03:00 # the rotation ends here\n", "")
		p, err := plan(t, d, st)
		if err != nil {
			t.Fatal(err)
		}
		checkChanges(t, p.Changes(),
			change{"override", "3", Update, "end: 2026-12-04T03:00:00Z → 2026-12-04T06:00:00Z"},
			change{"rotation", "2", Update, "no longer ends"})
		before, after := p.Audit()
		if len(before) != 2 || before[0].Value == nil || after[1].Value == nil || before[1].Entity != "rotation" {
			t.Errorf("audit before %+v after %+v: want each change's before and after", before, after)
		}
	})

	t.Run("WithoutIDs", func(t *testing.T) {
		// A file kept without ids (in a repository, applied on every
		// merge) matches the stored team by names and times.
		d := regexp.MustCompile(`(?m)^  - id: \d+\n    `).ReplaceAllString(doc, "  - ")
		if regexp.MustCompile(`(?m)^ +(- )?id:`).MatchString(d) {
			t.Fatalf("ids left:\n%s", d)
		}
		p, err := plan(t, d, st)
		if err != nil || !p.Empty() {
			t.Fatalf("the export without ids: %v, changes %+v; want none", err, p.Changes())
		}
	})

	t.Run("NewRotation", func(t *testing.T) {
		d := edit(t, doc, "# Overrides that end", "  - name: L3 weekly\n    level: L3\n    time_zone: UTC\n    handoff: \"10:00\"\n    shift_length: {days: 7}\n"+
			"    start: 2026-12-07\n    participants: [Olga Petrova]\n# Overrides that end")
		p, err := plan(t, d, st)
		if err != nil {
			t.Fatal(err)
		}
		checkChanges(t, p.Changes(), change{"rotation", "", Create, "from 2026-12-01T15:00:00Z: L3 primary, L3 weekly, hand-off 10:00 UTC, every 7 days from 2026-12-07, participants Olga Petrova"})
	})
}
