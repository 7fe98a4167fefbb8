package faketwilio_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/supportdesk/ivr/faketwilio"
)

// Queues persist at Twilio after their members leave, as Twilio's Queue
// resource documents; only an empty queue can be deleted, and a deleted
// one is gone.
func TestQueuesPersistAndOnlyEmptyOnesAreDeleted(t *testing.T) {
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Enqueue action="/left" waitUrl="/wait">q-test</Enqueue></Response>`)
	a.twiml("/wait", `<Response><Say>Please hold</Say></Response>`)
	a.twiml("/left", `<Response/>`)
	s := start(t, a, faketwilio.Options{ServiceNumber: ourLine})
	rc := faketwilio.RESTClient(s).Api
	in := s.Phone(customerPhone).Dial("")
	in.Answer()
	a.expectHit(t, "/voice", nil)
	wait := a.expectHit(t, "/wait", nil)

	list := func() []api.ApiV2010Queue {
		t.Helper()
		qs, err := rc.ListQueue(&api.ListQueueParams{})
		if err != nil {
			t.Fatalf("ListQueue: %v", err)
		}
		return qs
	}
	qs := list()
	if len(qs) != 1 || qs[0].FriendlyName == nil || *qs[0].FriendlyName != "q-test" || qs[0].CurrentSize != 1 {
		t.Fatalf("queues while the caller waits: %+v, want q-test with one member", qs)
	}
	sid := *qs[0].Sid
	if got := wait.Form.Get("QueueSid"); got != sid {
		t.Errorf("wait URL's QueueSid %q, want the listed queue's %s", got, sid)
	}
	if q, err := rc.FetchQueue(sid, &api.FetchQueueParams{}); err != nil || *q.FriendlyName != "q-test" {
		t.Fatalf("FetchQueue(%s) = %+v, %v", sid, q, err)
	}
	var re *client.TwilioRestError
	if err := rc.DeleteQueue(sid, &api.DeleteQueueParams{}); !errors.As(err, &re) || re.Status != http.StatusBadRequest {
		t.Fatalf("DeleteQueue of a queue with a member = %v, want 400", err)
	}
	if len(list()) != 1 {
		t.Fatal("a refused delete removed the queue")
	}

	in.Hangup()
	a.expectHit(t, "/left", map[string]string{"QueueResult": "hangup", "QueueSid": sid})
	if qs := list(); len(qs) != 1 || qs[0].CurrentSize != 0 {
		t.Fatalf("queues after the caller left: %+v, want q-test kept, empty", qs)
	}
	if err := rc.DeleteQueue(sid, &api.DeleteQueueParams{}); err != nil {
		t.Fatalf("DeleteQueue of the empty queue: %v", err)
	}
	if qs := list(); len(qs) != 0 {
		t.Fatalf("queues after the delete: %+v, want none", qs)
	}
	if _, err := rc.FetchQueue(sid, &api.FetchQueueParams{}); !errors.As(err, &re) || re.Status != http.StatusNotFound {
		t.Fatalf("FetchQueue of a deleted queue = %v, want 404", err)
	}
	if err := rc.DeleteQueue(sid, &api.DeleteQueueParams{}); !errors.As(err, &re) || re.Status != http.StatusNotFound {
		t.Fatalf("DeleteQueue of a deleted queue = %v, want 404", err)
	}
}
