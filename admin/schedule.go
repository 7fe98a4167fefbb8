package admin

import (
	"net/http"
	"time"

	"github.com/supportdesk/ivr/oncall"
)

// engineerSummary is what a schedule answer says of an engineer.
type engineerSummary struct {
	ID        int64             `json:"id"`
	Name      string            `json:"name"`
	Level     oncall.Level      `json:"level"`
	Languages []oncall.Language `json:"languages"`
	Phones    []string          `json:"phones"` // the numbers pages and calls go to: verified ones only
}

func summarize(e oncall.Engineer) *engineerSummary {
	phones := make([]string, 0, len(e.Contacts))
	for _, c := range e.Contacts {
		if !c.Unverified { // an unverified number is rung by nobody: not a way to reach them
			phones = append(phones, c.Phone)
		}
	}
	return &engineerSummary{ID: e.ID, Name: e.Name, Level: e.Level, Languages: e.Languages, Phones: phones}
}

// onCallEntry is one layer of one level: the engineer on call (null when
// nobody is: a coverage gap) and the shift they are on.
type onCallEntry struct {
	Level      oncall.Level     `json:"level"`
	Layer      oncall.Layer     `json:"layer"`
	Engineer   *engineerSummary `json:"engineer"`
	Start      *time.Time       `json:"start,omitempty"`
	End        *time.Time       `json:"end,omitempty"` // absent when the cover has no end in sight
	RotationID int64            `json:"rotation_id,omitempty"`
	OverrideID int64            `json:"override_id,omitempty"`
}

// getOnCall answers who is on call at ?at= (default now) for ?level= (default
// every level), every layer.
func (s *Server) getOnCall(w http.ResponseWriter, r *http.Request) error {
	at, err := queryTime(r, "at", s.oncall.Now())
	if err != nil {
		return err
	}
	levels, err := queryLevels(r)
	if err != nil {
		return err
	}
	entries := make([]onCallEntry, 0, len(levels)*len(oncall.Layers))
	for _, level := range levels {
		for _, layer := range oncall.Layers {
			e := onCallEntry{Level: level, Layer: layer}
			if a, ok := s.oncall.OnCall(level, layer, at); ok {
				start, end := a.Shift.Start, a.Shift.End
				e.Engineer, e.Start = summarize(a.Engineer), &start
				if !a.Shift.OpenEnded() {
					e.End = &end // absent: on call until further notice
				}
				e.RotationID, e.OverrideID = a.Shift.RotationID, a.Shift.OverrideID
			}
			entries = append(entries, e)
		}
	}
	writeJSON(w, http.StatusOK, struct {
		At     time.Time     `json:"at"`
		OnCall []onCallEntry `json:"oncall"`
	}{at, entries})
	return nil
}

// shiftView is a shift with the engineer's name, for reading.
type shiftView struct {
	oncall.Shift
	EngineerName string `json:"engineer_name"`
}

// listShifts lists the shifts of ?level= (default all) between ?from= and
// ?to= (default now to 7 days ahead).
func (s *Server) listShifts(w http.ResponseWriter, r *http.Request) error {
	levels, from, to, err := s.queryLevelsWindow(r, 7*24*time.Hour)
	if err != nil {
		return err
	}
	snap := s.oncall.Snapshot()
	shifts := []shiftView{}
	for _, level := range levels {
		for _, sh := range snap.Schedule.Shifts(level, from, to) {
			shifts = append(shifts, shiftView{Shift: sh, EngineerName: snap.Engineers[sh.EngineerID].Name})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "shifts": shifts})
	return nil
}

// listGaps reports, between ?from= and ?to= (default the next 28 days), when
// a level has nobody on call and where rotations of one layer collide.
func (s *Server) listGaps(w http.ResponseWriter, r *http.Request) error {
	levels, from, to, err := s.queryLevelsWindow(r, 28*24*time.Hour)
	if err != nil {
		return err
	}
	sched := s.oncall.Snapshot().Schedule
	gaps, overlaps := []oncall.Gap{}, []oncall.Overlap{}
	for _, level := range levels {
		gaps = append(gaps, sched.Gaps(level, from, to)...)
		overlaps = append(overlaps, sched.Overlaps(level, from, to)...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "gaps": gaps, "overlaps": overlaps})
	return nil
}

// queryLevelsWindow reads ?level= and the window ?from=…&to= (default from
// now for length).
func (s *Server) queryLevelsWindow(r *http.Request, length time.Duration) (levels []oncall.Level, from, to time.Time, err error) {
	if from, to, err = queryWindow(r, s.oncall.Now(), 0, length); err != nil {
		return nil, from, to, err
	}
	levels, err = queryLevels(r)
	return levels, from, to, err
}
