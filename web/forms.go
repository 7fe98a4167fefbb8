package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/oncall"
)

// localLayout is what a datetime-local input sends: a wall time in the
// viewer's zone, which the form names beside it.
const localLayout = "2006-01-02T15:04"

// parseLocal reads a datetime-local input; empty is the zero time (the
// service then says the field is required).
func parseLocal(field, v string, zone *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(localLayout, v, zone)
	if err != nil {
		if t, err = time.ParseInLocation(localLayout+":05", v, zone); err != nil {
			return time.Time{}, errs.InvalidField(field, "%q is not a date and time (YYYY-MM-DDTHH:MM)", v)
		}
	}
	return t, nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "", "no such id")
	}
	return id, nil
}

type overrideRow struct {
	oncall.Override
	EngineerName string
	Started      bool // part of the history: it cannot be removed
}

// shiftChoice is a shift offered for a swap: its value names it exactly.
type shiftChoice struct {
	Value string
	Shift oncall.Shift
	Name  string
}

type overridesView struct {
	Overrides []overrideRow
	Engineers []oncall.Engineer
	Shifts    []shiftChoice
}

func shiftValue(sh oncall.Shift) string {
	return fmt.Sprintf("%d|%d|%d|%d|%d", sh.Level, sh.Layer, sh.EngineerID, sh.Start.Unix(), sh.End.Unix())
}

// overrides lists the overrides from now on 90 days, with the forms to add
// one, remove one and swap two shifts (for admins).
func (s *Server) overrides(w http.ResponseWriter, r *http.Request, c *request) error {
	v, err := s.overridesData(r, c)
	if err != nil {
		return err
	}
	return s.render(w, r, c, "overrides", v)
}

func (s *Server) overridesData(r *http.Request, c *request) (overridesView, error) {
	now := s.now()
	var v overridesView
	list, err := s.oncall.Overrides(r.Context(), now, now.Add(oncall.MaxOverrideLength))
	if err != nil {
		return v, err
	}
	snap := s.oncall.Snapshot()
	for _, o := range list {
		v.Overrides = append(v.Overrides, overrideRow{Override: o, EngineerName: snap.Engineers[o.EngineerID].Name, Started: !o.Start.After(now)})
	}
	if c.viewer.Admin() {
		if v.Engineers, err = s.oncall.Engineers(r.Context()); err != nil {
			return v, err
		}
		for _, level := range oncall.Levels {
			for _, sh := range snap.Schedule.Shifts(level, now, now.Add(TimelineDays*24*time.Hour)) {
				if sh.OpenEnded() {
					continue
				}
				v.Shifts = append(v.Shifts, shiftChoice{Value: shiftValue(sh), Shift: sh, Name: snap.Engineers[sh.EngineerID].Name})
			}
		}
	}
	return v, nil
}

// formFailed shows the form's view again with err next to its field, or
// returns err when it is not a field error.
func (s *Server) formFailed(w http.ResponseWriter, r *http.Request, c *request, name string, data any, err error) error {
	field, msg, ok := fieldError(err)
	if !ok {
		return err
	}
	s.log.Info("form refused", zap.String(keyPath, r.URL.Path), zap.String(keyField, field))
	return s.renderForm(w, r, http.StatusBadRequest, c, name, data, map[string]string{field: msg}, r.PostForm)
}

func (s *Server) addOverride(w http.ResponseWriter, r *http.Request, c *request) error {
	if err := needAdmin(c); err != nil {
		return err
	}
	o, err := s.overrideOf(r, c)
	if err == nil {
		_, err = s.oncall.CreateOverride(r.Context(), c.viewer.Actor(), o)
	}
	if err != nil {
		v, verr := s.overridesData(r, c)
		if verr != nil {
			return verr
		}
		return s.formFailed(w, r, c, "overrides", v, err)
	}
	return redirectDone(w, r, "/overrides", "override.added")
}

// overrideOf reads the add form, its fields named as the API's.
func (s *Server) overrideOf(r *http.Request, c *request) (oncall.Override, error) {
	f := r.PostForm
	var o oncall.Override
	if v := f.Get("engineer_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return o, errs.InvalidField("engineer_id", "must be an engineer")
		}
		o.EngineerID = id
	}
	lvl, err := oncall.ParseLevel(f.Get("level"))
	if err != nil {
		return o, errs.InvalidField("level", "must be L1, L2 or L3")
	}
	o.Level = lvl
	if f.Get("layer") == "2" {
		o.Layer = oncall.Secondary
	}
	if o.Start, err = parseLocal("start", f.Get("start"), c.zone); err != nil {
		return o, err
	}
	if o.End, err = parseLocal("end", f.Get("end"), c.zone); err != nil {
		return o, err
	}
	o.Reason = f.Get("reason")
	return o, nil
}

func (s *Server) removeOverride(w http.ResponseWriter, r *http.Request, c *request) error {
	if err := needAdmin(c); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.oncall.DeleteOverride(r.Context(), c.viewer.Actor(), id); err != nil {
		return err
	}
	return redirectDone(w, r, "/overrides", "override.removed")
}

// swapShifts swaps the two shifts chosen, each still as the schedule has
// it now (a choice made stale by another edit is refused).
func (s *Server) swapShifts(w http.ResponseWriter, r *http.Request, c *request) error {
	if err := needAdmin(c); err != nil {
		return err
	}
	a, err := s.chosenShift(r, c, "first")
	var b oncall.Shift
	if err == nil {
		b, err = s.chosenShift(r, c, "second")
	}
	if err == nil {
		_, err = s.oncall.SwapShifts(r.Context(), c.viewer.Actor(), a, b)
	}
	if err != nil {
		v, verr := s.overridesData(r, c)
		if verr != nil {
			return verr
		}
		return s.formFailed(w, r, c, "overrides", v, err)
	}
	return redirectDone(w, r, "/overrides", "swap.done")
}

func (s *Server) chosenShift(r *http.Request, c *request, field string) (oncall.Shift, error) {
	want := r.PostForm.Get(field)
	if want == "" {
		return oncall.Shift{}, errs.InvalidField(field, "%s", translate(c.lang, "swap.none"))
	}
	now := s.now()
	snap := s.oncall.Snapshot()
	for _, level := range oncall.Levels {
		for _, sh := range snap.Schedule.Shifts(level, now, now.Add(TimelineDays*24*time.Hour)) {
			if shiftValue(sh) == want {
				return sh, nil
			}
		}
	}
	return oncall.Shift{}, errs.InvalidField(field, "is no longer a shift of the schedule (it changed meanwhile); choose again")
}

type engineersView struct {
	Engineers []oncall.Engineer
	Rotations []oncall.Rotation // each rotation's latest version, not ended
	Names     map[int64]string
}

// engineers lists the team (an engineer sees only themselves: others'
// numbers are not theirs to see) and, for admins, the rotations.
func (s *Server) engineers(w http.ResponseWriter, r *http.Request, c *request) error {
	all, err := s.oncall.Engineers(r.Context())
	if err != nil {
		return err
	}
	v := engineersView{Names: map[int64]string{}}
	for _, e := range all {
		v.Names[e.ID] = e.Name
		if c.viewer.Admin() || e.ID == c.viewer.Token.EngineerID {
			v.Engineers = append(v.Engineers, e)
		}
	}
	if c.viewer.Admin() {
		rots, err := s.oncall.Rotations(r.Context())
		if err != nil {
			return err
		}
		for i, rot := range rots {
			last := i == len(rots)-1 || rots[i+1].ID != rot.ID
			if last && (rot.EffectiveTo == nil || rot.EffectiveTo.After(s.now())) {
				v.Rotations = append(v.Rotations, rot)
			}
		}
	}
	return s.render(w, r, c, "engineers", v)
}

type contactsView struct {
	Engineer oncall.Engineer
	Rows     []oncall.ContactMethod // the numbers and two empty rows
}

// ownContacts finds the engineer whose contacts r is about, refusing an
// engineer someone else's.
func (s *Server) ownContacts(r *http.Request, c *request) (oncall.Engineer, error) {
	id, err := pathID(r)
	if err != nil {
		return oncall.Engineer{}, err
	}
	if !c.viewer.Admin() && id != c.viewer.Token.EngineerID {
		return oncall.Engineer{}, forbidden(c, "forbidden.other")
	}
	return s.oncall.Engineer(r.Context(), id)
}

func contactRows(cs []oncall.ContactMethod) []oncall.ContactMethod {
	return append(slices.Clone(cs), oncall.ContactMethod{}, oncall.ContactMethod{})
}

func (s *Server) contacts(w http.ResponseWriter, r *http.Request, c *request) error {
	e, err := s.ownContacts(r, c)
	if err != nil {
		return err
	}
	return s.render(w, r, c, "contacts", contactsView{Engineer: e, Rows: contactRows(e.Contacts)})
}

// saveContacts replaces the engineer's numbers with the rows filled in.
func (s *Server) saveContacts(w http.ResponseWriter, r *http.Request, c *request) error {
	e, err := s.ownContacts(r, c)
	if err != nil {
		return err
	}
	var sent []oncall.ContactMethod
	for i := 0; i < 20; i++ {
		phone := strings.TrimSpace(r.PostForm.Get(fmt.Sprintf("contacts[%d].phone", i)))
		if phone == "" {
			continue
		}
		sent = append(sent, oncall.ContactMethod{Phone: phone, SMS: r.PostForm.Get(fmt.Sprintf("contacts[%d].sms", i)) != ""})
	}
	update := s.oncall.UpdateContacts // the engineer's own numbers wait for a code
	if c.viewer.Admin() {
		update = s.oncall.UpdateContactsAsAdmin
	}
	if _, err := update(r.Context(), c.viewer.Actor(), e.ID, sent); err != nil {
		// The rows are numbered as sent, so an error on contacts[i] sits
		// next to the row the viewer filled; empty rows are skipped, so
		// renumber the error onto the row it came from.
		return s.formFailed(w, r, c, "contacts", contactsView{Engineer: e, Rows: contactRows(e.Contacts)}, renumber(err, r))
	}
	return redirectDone(w, r, fmt.Sprintf("/engineers/%d/contacts", e.ID), "saved")
}

// sendCode sends a code to one of the engineer's unverified numbers.
func (s *Server) sendCode(w http.ResponseWriter, r *http.Request, c *request) error {
	e, err := s.ownContacts(r, c)
	if err != nil {
		return err
	}
	phone := r.PostForm.Get("phone")
	if err := s.verifier.Send(r.Context(), c.viewer.Actor(), e.ID, phone); err != nil {
		return s.codeFailed(w, r, c, e, err)
	}
	return redirectDone(w, r, fmt.Sprintf("/engineers/%d/contacts", e.ID), "verify.sent:"+phone)
}

// confirmCode checks the code typed for a number.
func (s *Server) confirmCode(w http.ResponseWriter, r *http.Request, c *request) error {
	e, err := s.ownContacts(r, c)
	if err != nil {
		return err
	}
	phone := r.PostForm.Get("phone")
	if err := s.verifier.Confirm(r.Context(), c.viewer.Actor(), e.ID, phone, r.PostForm.Get("code")); err != nil {
		return s.codeFailed(w, r, c, e, err)
	}
	return redirectDone(w, r, fmt.Sprintf("/engineers/%d/contacts", e.ID), "verify.done:"+phone)
}

// codeFailed shows the contacts again with the error next to the number's
// code field; a refusal that names no field (too soon, already verified)
// goes there too.
func (s *Server) codeFailed(w http.ResponseWriter, r *http.Request, c *request, e oncall.Engineer, err error) error {
	var ee *errs.Error
	if !errors.As(err, &ee) || ee.Code == errs.Internal || ee.Code == errs.Unavailable || ee.Code == errs.Forbidden {
		return err
	}
	key := "code:" + r.PostForm.Get("phone")
	status := errs.HTTPStatus(ee.Code)
	return s.renderForm(w, r, status, c, "contacts", contactsView{Engineer: e, Rows: contactRows(e.Contacts)},
		map[string]string{key: ee.Message}, nil)
}

// renumber maps an error on contacts[i] (i counting filled rows) onto the
// form's row.
func renumber(err error, r *http.Request) error {
	field, msg, ok := fieldError(err)
	if !ok {
		return err
	}
	var i int
	var rest string
	if n, _ := fmt.Sscanf(field, "contacts[%d]", &i); n != 1 {
		return err
	}
	_, rest, _ = strings.Cut(field, "]")
	filled := -1
	for row := 0; row < 20; row++ {
		if strings.TrimSpace(r.PostForm.Get(fmt.Sprintf("contacts[%d].phone", row))) != "" {
			if filled++; filled == i {
				return errs.InvalidField(fmt.Sprintf("contacts[%d]%s", row, rest), "%s", msg)
			}
		}
	}
	return errs.InvalidField("contacts[0].phone", "%s", msg)
}

type rotationView struct {
	Rotation  oncall.Rotation
	Engineers []oncall.Engineer
	Slots     []int64 // participants and empty slots to add more
	From      time.Time
}

func (s *Server) rotationData(r *http.Request) (rotationView, error) {
	id, err := pathID(r)
	if err != nil {
		return rotationView{}, err
	}
	versions, err := s.oncall.Rotation(r.Context(), id)
	if err != nil {
		return rotationView{}, err
	}
	es, err := s.oncall.Engineers(r.Context())
	if err != nil {
		return rotationView{}, err
	}
	rot := versions[len(versions)-1]
	return rotationView{Rotation: rot, Engineers: es, Slots: append(slices.Clone(rot.Participants), 0, 0), From: s.now()}, nil
}

func (s *Server) rotation(w http.ResponseWriter, r *http.Request, c *request) error {
	if err := needAdmin(c); err != nil {
		return err
	}
	v, err := s.rotationData(r)
	if err != nil {
		return err
	}
	return s.render(w, r, c, "rotation", v)
}

// saveRotation adds a version of the rotation in force from the time
// given (default now); earlier shifts stay as they were.
func (s *Server) saveRotation(w http.ResponseWriter, r *http.Request, c *request) error {
	if err := needAdmin(c); err != nil {
		return err
	}
	v, err := s.rotationData(r)
	if err != nil {
		return err
	}
	rot, err := rotationOf(r, c, v.Rotation)
	if err == nil {
		rot, err = s.oncall.UpdateRotation(r.Context(), c.viewer.Actor(), rot)
	}
	if err != nil {
		return s.formFailed(w, r, c, "rotation", v, err)
	}
	return redirectDone(w, r, fmt.Sprintf("/rotations/%d", rot.ID), fmt.Sprintf("rotation.saved:%d", rot.Version))
}

// rotationOf reads the rotation form over the latest version, its fields
// named as the API's.
func rotationOf(r *http.Request, c *request, rot oncall.Rotation) (oncall.Rotation, error) {
	f := r.PostForm
	rot.Name = f.Get("name")
	rot.TimeZone = strings.TrimSpace(f.Get("time_zone"))
	h, err := oncall.ParseClockTime(f.Get("handoff"))
	if err != nil {
		return rot, errs.InvalidField("handoff", "%s", err)
	}
	rot.Handoff = h
	n, err := strconv.Atoi(strings.TrimSpace(f.Get("shift_length")))
	if err != nil {
		return rot, errs.InvalidField("shift_length", "must be a whole number")
	}
	rot.ShiftLength = oncall.ShiftLength{Days: n}
	if f.Get("shift_unit") == "hours" {
		rot.ShiftLength = oncall.ShiftLength{Hours: n}
	}
	if rot.Start, err = oncall.ParseDate(f.Get("start")); err != nil {
		return rot, errs.InvalidField("start", "%s", err)
	}
	rot.Participants = nil
	for i := 0; i < 1000; i++ {
		v, ok := f[fmt.Sprintf("participants[%d]", i)]
		if !ok {
			break
		}
		if v[0] == "" {
			continue
		}
		id, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil {
			return rot, errs.InvalidField(fmt.Sprintf("participants[%d]", i), "must be an engineer id")
		}
		rot.Participants = append(rot.Participants, id)
	}
	if rot.EffectiveFrom, err = parseLocal("effective_from", f.Get("effective_from"), c.zone); err != nil {
		return rot, err
	}
	return rot, nil
}
