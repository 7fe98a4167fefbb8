package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/supportdesk/ivr/faketwilio"
	"github.com/supportdesk/ivr/tickethooks"
)

const testTicketSecret = "ticket-webhook-secret-0123456789abcdef"

// startTicketRig is startPagerRig with the ticket system's webhook set
// up: the shared secret, and any other variables in extra.
func startTicketRig(t *testing.T, extra map[string]string) *pagerRig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	fake := faketwilio.Start(t, faketwilio.Options{SMSWebhookURL: "http://" + addr + "/webhooks/twilio/sms"})
	clock := newTestClock()
	vars := map[string]string{"IVR_DB": filepath.Join(t.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken,
		"IVR_TWILIO_API_URL": fake.URL(), "TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"IVR_PAGER_TEXT_ONLY_AT_NIGHT": "none", "IVR_TICKETS_WEBHOOK_SECRET": testTicketSecret}
	for k, v := range extra {
		vars[k] = v
	}
	env, _, errOut := testEnv(vars)
	env.clock = clock
	base := startWithEnv(t, env, errOut, "--demo", "--addr", addr)
	return &pagerRig{t: t, base: base, fake: fake, clock: clock}
}

// ticketEvent posts a ticket event as the ticket system does, signed now
// with secret, and returns the status and the answer.
func (r *pagerRig) ticketEvent(secret string, event map[string]any) (int, map[string]any) {
	r.t.Helper()
	body, _ := json.Marshal(event)
	req, _ := http.NewRequest(http.MethodPost, r.base+tickethooks.Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tickethooks.Header, tickethooks.Sign(secret, time.Now(), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("POST %s: %v", tickethooks.Path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		r.t.Fatalf("POST %s: %d, decode: %v", tickethooks.Path, res.StatusCode, err)
	}
	return res.StatusCode, out
}

// TestTicketWebhookPages: a critical ticket event from the ticket system
// rings the L1 engineer on call, its deadline counting from the event's
// own time; the same event delivered again raises no second page; a
// normal ticket pages nobody; a request signed with another secret is
// refused.
func TestTicketWebhookPages(t *testing.T) {
	r := startTicketRig(t, nil)
	name, phone := r.onCall("L1", "primary")
	at := r.clock.Now().Add(-2 * time.Minute).UTC().Truncate(time.Second)
	event := map[string]any{"event_id": "evt-1", "ticket_id": "1001", "priority": "critical", "event": "opened",
		"subject": "Payments fail for every card", "at": at.Format(time.RFC3339)}

	code, out := r.ticketEvent(testTicketSecret, event)
	if code != http.StatusCreated || out["paged"] != true {
		t.Fatalf("the event: %d %v, want 201 paged", code, out)
	}
	id := int64(out["page_id"].(float64))
	var got struct {
		Page struct {
			Source   string    `json:"source"`
			TicketID string    `json:"ticket_id"`
			Summary  string    `json:"summary"`
			Deadline time.Time `json:"deadline"`
		} `json:"page"`
	}
	if code := get(t, fmt.Sprintf("%s/api/v1/pages/%d", r.base, id), testAdminToken, &got); code != http.StatusOK {
		t.Fatalf("GET page %d: %d", id, code)
	}
	if p := got.Page; p.Source != "tickets" || p.TicketID != "1001" || p.Summary != "Payments fail for every card" || !p.Deadline.Equal(at.Add(time.Hour)) {
		t.Errorf("page %+v, want from the tickets, ticket 1001, deadline an hour after %s", p, at)
	}

	// The ticket system did not hear the answer and sends the event again.
	code, out = r.ticketEvent(testTicketSecret, event)
	if code != http.StatusOK || int64(out["page_id"].(float64)) != id {
		t.Errorf("the event again: %d %v, want 200 with page %d", code, out, id)
	}
	code, out = r.ticketEvent(testTicketSecret, map[string]any{"event_id": "evt-2", "ticket_id": "1002", "priority": "normal",
		"event": "opened", "at": at.Format(time.RFC3339)})
	if code != http.StatusAccepted || out["paged"] != false {
		t.Errorf("a normal ticket: %d %v, want 202, paged false", code, out)
	}
	event["event_id"] = "evt-3"
	if code, out = r.ticketEvent("another-secret-0123456789abcdef-0123", event); code != http.StatusUnauthorized {
		t.Errorf("signed with another secret: %d %v, want 401", code, out)
	}

	// One call, for the one page; the engineer takes it.
	call := r.fake.Phone(phone).ExpectCall()
	call.Answer()
	call.Press("1")
	call.Hangup()
	if p := r.page(id); p.Status != "acknowledged" || p.AckedByName != name {
		t.Errorf("page after 1: %+v, want acknowledged by %s", p, name)
	}
	r.fake.Phone(phone).ExpectNothing()
}

// TestTicketWebhookNoSecret: without IVR_TICKETS_WEBHOOK_SECRET the
// webhook says what to set.
func TestTicketWebhookNoSecret(t *testing.T) {
	r := startTicketRig(t, map[string]string{"IVR_TICKETS_WEBHOOK_SECRET": ""})
	code, out := r.ticketEvent(testTicketSecret, map[string]any{"event_id": "e", "ticket_id": "1", "priority": "critical",
		"event": "opened", "at": time.Now().UTC().Format(time.RFC3339)})
	if e, _ := out["error"].(map[string]any); code != http.StatusServiceUnavailable || e == nil ||
		!bytes.Contains([]byte(fmt.Sprint(e["message"])), []byte("IVR_TICKETS_WEBHOOK_SECRET")) {
		t.Errorf("no secret: %d %v, want 503 naming IVR_TICKETS_WEBHOOK_SECRET", code, out)
	}
}
