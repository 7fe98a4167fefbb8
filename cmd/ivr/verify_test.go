package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The numbers the tests' engineer adds for themselves; none is the demo
// team's or a line's.
const (
	ownMobile = "+12025550177" // takes texts
	ownDesk   = "+12025550188" // takes no texts
)

// call sends method path with body as token and decodes the answer into
// out (when given); it returns the status.
func (r *pagerRig) call(method, path, token string, body, out any) int {
	r.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, r.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			r.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return res.StatusCode
}

type ownContact struct {
	Phone    string `json:"phone"`
	SMS      bool   `json:"sms"`
	Verified bool   `json:"verified"`
}

type ownEngineer struct {
	ID       int64        `json:"id"`
	Name     string       `json:"name"`
	Contacts []ownContact `json:"contacts"`
}

type codeError struct {
	Error struct {
		Code, Field, Message string
	} `json:"error"`
}

// onCallEngineer is the engineer on call at L1 primary now, with an
// engineer token of their own.
func (r *pagerRig) onCallEngineer() (ownEngineer, string) {
	r.t.Helper()
	var out struct {
		OnCall []struct {
			Level, Layer string
			Engineer     *struct {
				ID int64 `json:"id"`
			} `json:"engineer"`
		} `json:"oncall"`
	}
	at := r.clock.Now().UTC().Format(time.RFC3339)
	if code := get(r.t, r.base+"/api/v1/oncall?level=L1&at="+at, testAdminToken, &out); code != http.StatusOK {
		r.t.Fatalf("GET /api/v1/oncall: %d", code)
	}
	var id int64
	for _, e := range out.OnCall {
		if e.Layer == "primary" && e.Engineer != nil {
			id = e.Engineer.ID
		}
	}
	var e ownEngineer
	if code := get(r.t, fmt.Sprintf("%s/api/v1/engineers/%d", r.base, id), testAdminToken, &e); code != http.StatusOK || id == 0 {
		r.t.Fatalf("GET engineer %d: %d", id, code)
	}
	var tok struct {
		Secret string `json:"secret"`
	}
	if code := r.call("POST", "/api/v1/tokens", testAdminToken, map[string]any{"name": e.Name + "'s phone", "role": "engineer", "engineer_id": id}, &tok); code != http.StatusCreated {
		r.t.Fatalf("POST /api/v1/tokens: %d", code)
	}
	return e, tok.Secret
}

// addOwn puts phone first among engineer e's numbers with e's own token
// and returns the engineer as the API answers.
func (r *pagerRig) addOwn(e ownEngineer, token, phone string, sms bool) ownEngineer {
	r.t.Helper()
	contacts := []map[string]any{{"phone": phone, "sms": sms}}
	for _, c := range e.Contacts {
		contacts = append(contacts, map[string]any{"phone": c.Phone, "sms": c.SMS})
	}
	var out ownEngineer
	if code := r.call("PUT", fmt.Sprintf("/api/v1/engineers/%d/contacts", e.ID), token, map[string]any{"contacts": contacts}, &out); code != http.StatusOK {
		r.t.Fatalf("PUT contacts as the engineer: %d", code)
	}
	return out
}

func contactOf(e ownEngineer, phone string) ownContact {
	for _, c := range e.Contacts {
		if c.Phone == phone {
			return c
		}
	}
	return ownContact{}
}

// ackCall answers a page call on phone and presses 1.
func (r *pagerRig) ackCall(phone string) {
	r.t.Helper()
	call := r.fake.Phone(phone).ExpectCall()
	call.Answer()
	call.Press("1")
	call.Hangup()
}

var (
	sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)
	digitPlay = regexp.MustCompile(`/digit_([0-9])\.wav(\?|$)`) // a <Play> of one digit
)

// TestOwnNumberVerifiedBySMS: an engineer adds a mobile for themselves; it
// shows unverified, does not count as theirs on the paging number, and
// their next page rings the number an admin gave instead. They ask for a code, which comes to the mobile by text; a wrong
// code counts down, the right one verifies it, and the next page rings the
// mobile. An admin's number is verified at once.
func TestOwnNumberVerifiedBySMS(t *testing.T) {
	r := startPagerRig(t)
	eng, token := r.onCallEngineer()
	admins := eng.Contacts[0].Phone
	if !eng.Contacts[0].Verified {
		t.Fatalf("the demo's number %s is not verified: %+v", admins, eng.Contacts)
	}
	eng = r.addOwn(eng, token, ownMobile, true)
	if c := contactOf(eng, ownMobile); c.Phone == "" || c.Verified {
		t.Fatalf("the engineer's own number shows %+v, want it unverified", eng.Contacts)
	}
	// Until it is confirmed it may be a stranger's: it does not speak for
	// the engineer on the paging number.
	who := r.dialPager(ownMobile)
	if doc := who.Answer(); !plays(doc, "page_not_engineer") || !doc.HangsUp() {
		t.Errorf("the unverified number calling the pager: %s, want engineers only", doc)
	}
	who.Hangup()

	p := r.raise("critical", "disk full on the mail server")
	r.ackCall(admins)
	r.fake.Phone(ownMobile).ExpectNothing()
	if got := r.page(p.ID); got.Status != "acknowledged" {
		t.Fatalf("page %d: %s", p.ID, got.Status)
	}

	verification := fmt.Sprintf("/api/v1/engineers/%d/contacts/verification", eng.ID)
	if code := r.call("POST", verification, token, map[string]any{"phone": ownMobile}, nil); code != http.StatusAccepted {
		t.Fatalf("ask for a code: %d", code)
	}
	sms := r.fake.Phone(ownMobile).ExpectSMS()
	code := sixDigits.FindString(sms.Body())
	if code == "" {
		t.Fatalf("no code in the text %q", sms.Body())
	}
	var tooSoon codeError
	if st := r.call("POST", verification, token, map[string]any{"phone": ownMobile}, &tooSoon); st != http.StatusTooManyRequests || tooSoon.Error.Field != "phone" {
		t.Errorf("a second code at once: %d %+v, want 429 on phone", st, tooSoon)
	}

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	var bad codeError
	if st := r.call("POST", verification+"/confirm", token, map[string]any{"phone": ownMobile, "code": wrong}, &bad); st != http.StatusBadRequest ||
		bad.Error.Field != "code" || !strings.Contains(bad.Error.Message, "4 tries left") {
		t.Fatalf("a wrong code: %d %+v, want 400 on code with 4 tries left", st, bad)
	}
	var confirmed ownEngineer
	if st := r.call("POST", verification+"/confirm", token, map[string]any{"phone": ownMobile, "code": code}, &confirmed); st != http.StatusOK ||
		!contactOf(confirmed, ownMobile).Verified {
		t.Fatalf("the right code: %d %+v, want the number verified", st, confirmed)
	}

	p = r.raise("critical", "disk full again")
	r.ackCall(ownMobile)
	r.fake.Phone(admins).ExpectNothing()

	// An admin's number is trusted as it is entered.
	contacts := []map[string]any{{"phone": "+12025550199", "sms": false}, {"phone": ownMobile, "sms": true}}
	var byAdmin ownEngineer
	if st := r.call("PUT", fmt.Sprintf("/api/v1/engineers/%d/contacts", eng.ID), testAdminToken, map[string]any{"contacts": contacts}, &byAdmin); st != http.StatusOK ||
		!contactOf(byAdmin, "+12025550199").Verified {
		t.Fatalf("an admin's number: %d %+v, want it verified", st, byAdmin)
	}
}

// TestOwnNumberVerifiedByVoice: a number that takes no texts gets its code
// by a call that reads it twice in the recorded voice; five wrong codes void
// it, and a new one confirms the number.
func TestOwnNumberVerifiedByVoice(t *testing.T) {
	r := startPagerRig(t)
	eng, token := r.onCallEngineer()
	r.addOwn(eng, token, ownDesk, false)
	verification := fmt.Sprintf("/api/v1/engineers/%d/contacts/verification", eng.ID)

	codeByCall := func() string {
		t.Helper()
		if st := r.call("POST", verification, token, map[string]any{"phone": ownDesk}, nil); st != http.StatusAccepted {
			t.Fatalf("ask for a code: %d", st)
		}
		call := r.fake.Phone(ownDesk).ExpectCall()
		doc := call.Answer()
		var digits []string
		for _, u := range doc.Plays() {
			if m := digitPlay.FindStringSubmatch(u); m != nil {
				digits = append(digits, m[1])
			}
		}
		plays := strings.Join(doc.Plays(), " ")
		if len(digits) != 12 || strings.Join(digits[:6], "") != strings.Join(digits[6:], "") ||
			!strings.Contains(plays, "code_intro") || !strings.Contains(plays, "code_again") || !doc.HangsUp() {
			t.Fatalf("the call says %s, want the code twice and goodbye", plays)
		}
		if call.Status() == "in-progress" {
			call.Hangup()
		}
		return strings.Join(digits[:6], "")
	}

	code := codeByCall()
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for left := 4; left >= 0; left-- {
		var bad codeError
		if st := r.call("POST", verification+"/confirm", token, map[string]any{"phone": ownDesk, "code": wrong}, &bad); st != http.StatusBadRequest || bad.Error.Field != "code" {
			t.Fatalf("wrong code with %d tries left: %d %+v", left, st, bad)
		}
	}
	var void codeError
	if st := r.call("POST", verification+"/confirm", token, map[string]any{"phone": ownDesk, "code": code}, &void); st != http.StatusBadRequest || void.Error.Field != "code" {
		t.Fatalf("the right code after five wrong ones: %d %+v, want 400: the code is void", st, void)
	}

	r.clock.Advance(time.Minute)
	code = codeByCall()
	var confirmed ownEngineer
	if st := r.call("POST", verification+"/confirm", token, map[string]any{"phone": ownDesk, "code": code}, &confirmed); st != http.StatusOK ||
		!contactOf(confirmed, ownDesk).Verified {
		t.Fatalf("the new code: %d %+v, want the number verified", st, confirmed)
	}
	var audit struct {
		Entries []struct {
			Action, Entity string
			Before, After  json.RawMessage
		} `json:"entries"`
	}
	if st := get(t, r.base+"/api/v1/audit?entity=engineer&limit=1", testAdminToken, &audit); st != http.StatusOK || len(audit.Entries) != 1 ||
		audit.Entries[0].Action != "update" || !strings.Contains(string(audit.Entries[0].After), `"phone":"`+ownDesk+`","sms":false,"verified":true`) {
		t.Fatalf("the audit log's last engineer change: %d %+v", st, audit)
	}
}
