package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// The API reads its input into these plain types and converts them field
// by field, so that every mistake is reported with the field's name (JSON
// decoding alone loses the name when a custom type rejects a value).

type contactInput struct {
	Phone string `json:"phone"`
	SMS   bool   `json:"sms"`
}

type engineerInput struct {
	Name      string         `json:"name"`
	Level     string         `json:"level"`
	Languages []string       `json:"languages"`
	TimeZone  string         `json:"time_zone"`
	Contacts  []contactInput `json:"contacts"`
}

func (in engineerInput) engineer() (oncall.Engineer, error) {
	e := oncall.Engineer{Name: in.Name, TimeZone: in.TimeZone, Contacts: contacts(in.Contacts)}
	var err error
	if e.Level, err = parseLevel("level", in.Level); err != nil {
		return e, err
	}
	for _, l := range in.Languages {
		e.Languages = append(e.Languages, oncall.Language(strings.ToLower(strings.TrimSpace(l))))
	}
	return e, nil
}

func contacts(in []contactInput) []oncall.ContactMethod {
	out := make([]oncall.ContactMethod, len(in))
	for i, c := range in {
		out[i] = oncall.ContactMethod{Phone: c.Phone, SMS: c.SMS}
	}
	return out
}

type shiftLengthInput struct {
	Days  int `json:"days"`
	Hours int `json:"hours"`
}

type restrictionInput struct {
	Weekdays []string `json:"weekdays"`
	Start    string   `json:"start"`
	End      string   `json:"end"`
}

type rotationInput struct {
	Name          string             `json:"name"`
	Level         string             `json:"level"`
	Layer         string             `json:"layer"`
	TimeZone      string             `json:"time_zone"`
	Handoff       string             `json:"handoff"`
	ShiftLength   shiftLengthInput   `json:"shift_length"`
	Start         string             `json:"start"`
	Participants  []int64            `json:"participants"`
	Restrictions  []restrictionInput `json:"restrictions"`
	EffectiveFrom *string            `json:"effective_from"` // nil: not given (now)
}

func (in rotationInput) rotation() (oncall.Rotation, error) {
	r := oncall.Rotation{
		Name:         in.Name,
		TimeZone:     in.TimeZone,
		ShiftLength:  oncall.ShiftLength{Days: in.ShiftLength.Days, Hours: in.ShiftLength.Hours},
		Participants: in.Participants,
	}
	var err error
	if r.Level, err = parseLevel("level", in.Level); err != nil {
		return r, err
	}
	if in.Layer != "" {
		if r.Layer, err = oncall.ParseLayer(in.Layer); err != nil {
			return r, errs.InvalidField("layer", "%s", err)
		}
	}
	if in.Handoff == "" {
		return r, errs.InvalidField("handoff", "is required (HH:MM)")
	}
	if r.Handoff, err = oncall.ParseClockTime(in.Handoff); err != nil {
		return r, errs.InvalidField("handoff", "%s", err)
	}
	if in.Start == "" {
		return r, errs.InvalidField("start", "is required (YYYY-MM-DD)")
	}
	if r.Start, err = oncall.ParseDate(in.Start); err != nil {
		return r, errs.InvalidField("start", "%s", err)
	}
	for i, x := range in.Restrictions {
		f := fmt.Sprintf("restrictions[%d]", i)
		var res oncall.Restriction
		if res.Start, err = oncall.ParseClockTime(x.Start); err != nil {
			return r, errs.InvalidField(f+".start", "%s", err)
		}
		if res.End, err = oncall.ParseClockTime(x.End); err != nil {
			return r, errs.InvalidField(f+".end", "%s", err)
		}
		for j, w := range x.Weekdays {
			var wd oncall.Weekday
			if err := wd.UnmarshalText([]byte(w)); err != nil {
				return r, errs.InvalidField(fmt.Sprintf("%s.weekdays[%d]", f, j), "%s", err)
			}
			res.Weekdays = append(res.Weekdays, wd)
		}
		r.Restrictions = append(r.Restrictions, res)
	}
	if in.EffectiveFrom != nil {
		if r.EffectiveFrom, err = parseTime("effective_from", *in.EffectiveFrom); err != nil {
			return r, err
		}
	}
	return r, nil
}

type overrideInput struct {
	Level      string  `json:"level"`
	Layer      string  `json:"layer"`
	EngineerID int64   `json:"engineer_id"`
	Start      *string `json:"start"`
	End        *string `json:"end"`
	Reason     string  `json:"reason"`
}

func (in overrideInput) override() (oncall.Override, error) {
	o := oncall.Override{EngineerID: in.EngineerID, Reason: in.Reason}
	var err error
	if o.Level, err = parseLevel("level", in.Level); err != nil {
		return o, err
	}
	if in.Layer != "" {
		if o.Layer, err = oncall.ParseLayer(in.Layer); err != nil {
			return o, errs.InvalidField("layer", "%s", err)
		}
	}
	if in.Start == nil {
		return o, errs.InvalidField("start", "is required (RFC 3339)")
	}
	if o.Start, err = parseTime("start", *in.Start); err != nil {
		return o, err
	}
	if in.End == nil {
		return o, errs.InvalidField("end", "is required (RFC 3339)")
	}
	if o.End, err = parseTime("end", *in.End); err != nil {
		return o, err
	}
	return o, nil
}

type stepInput struct {
	Level    string   `json:"level"`
	Channels []string `json:"channels"`
	Delay    string   `json:"delay"`
}

type policyInput struct {
	Steps []stepInput `json:"steps"`
}

func (in policyInput) policy(p oncall.Priority) (oncall.Policy, error) {
	pol := oncall.Policy{Priority: p}
	for i, st := range in.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		lvl, err := parseLevel(f+".level", st.Level)
		if err != nil {
			return pol, err
		}
		var d oncall.Duration
		if err := d.UnmarshalText([]byte(st.Delay)); err != nil {
			return pol, errs.InvalidField(f+".delay", "%s", err)
		}
		step := oncall.Step{Level: lvl, Delay: d}
		for _, c := range st.Channels {
			step.Channels = append(step.Channels, oncall.Channel(strings.ToLower(strings.TrimSpace(c))))
		}
		pol.Steps = append(pol.Steps, step)
	}
	return pol, nil
}

func parseLevel(field, s string) (oncall.Level, error) {
	if s == "" {
		return 0, errs.InvalidField(field, "is required (L1, L2 or L3)")
	}
	l, err := oncall.ParseLevel(s)
	if err != nil {
		return 0, errs.InvalidField(field, "%s", err)
	}
	return l, nil
}

// The times the API takes lie in [minTime, maxTime): no schedule, call or
// page has one outside, and the zero instant, 0001-01-01T00:00:00Z, is how
// a time.Time says "not given" to the domain, which reads it as "now" or
// "missing". A time that was given is refused there, never taken for one
// that was not.
var (
	minTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseTime reads a given RFC 3339 time (an empty one is not a time).
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, errs.InvalidField(field, "%q is not an RFC 3339 time such as 2026-03-08T09:00:00+03:00", s)
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, errs.InvalidField(field, "%s is not between %d and %d, the years the service keeps times for",
			strings.TrimSpace(s), minTime.Year(), maxTime.Year()-1)
	}
	return t, nil
}

// pathID reads the {id} path variable.
func pathID(r *http.Request) (int64, error) {
	s := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.InvalidField("id", "%q is not an id", s)
	}
	return id, nil
}

// queryLimit reads the limit query parameter of a list: 1 to 1000, 0 (the
// store's default) when absent.
func queryLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 1000 {
		return 0, errs.InvalidField("limit", "must be a whole number from 1 to 1000")
	}
	return n, nil
}

// queryTime reads an RFC 3339 query parameter, def when absent. Given, it
// is read as given: "?at=" is not a time, and no given time comes back as
// the zero time.Time (see minTime).
func queryTime(r *http.Request, name string, def time.Time) (time.Time, error) {
	q := r.URL.Query()
	if !q.Has(name) {
		return def, nil
	}
	return parseTime(name, q.Get(name))
}

// queryLevels reads the level query parameter: one level, or all when
// absent.
func queryLevels(r *http.Request) ([]oncall.Level, error) {
	s := r.URL.Query().Get("level")
	if s == "" {
		return oncall.Levels[:], nil
	}
	l, err := parseLevel("level", s)
	if err != nil {
		return nil, err
	}
	return []oncall.Level{l}, nil
}

// maxWindow bounds the listing endpoints' time windows.
const maxWindow = 400 * 24 * time.Hour

// queryWindow reads from and to, defaulting to [now+defFrom, now+defTo).
func queryWindow(r *http.Request, now time.Time, defFrom, defTo time.Duration) (from, to time.Time, err error) {
	if from, err = queryTime(r, "from", now.Add(defFrom)); err != nil {
		return
	}
	if to, err = queryTime(r, "to", from.Add(defTo-defFrom)); err != nil {
		return
	}
	if !to.After(from) {
		err = errs.InvalidField("to", "must be after from")
	} else if to.Sub(from) > maxWindow {
		err = errs.InvalidField("to", "the window is longer than 400 days")
	}
	return
}
