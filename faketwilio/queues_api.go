package faketwilio

import (
	"fmt"
	"net/http"
	"sort"
	"time"

	"go.uber.org/zap"
)

// The Queues API (FetchQueue, ListQueue, DeleteQueue). As at Twilio, a
// queue is created by the first <Enqueue> of its name and persists after
// its members leave ("inactive Queues should be deleted", the Queue
// resource's documentation says); only an empty queue can be deleted, and
// a deleted queue is gone: the next <Enqueue> of its name makes a new one.

// queueRec is a queue of the account. Guarded by Server.mu.
type queueRec struct {
	sid, name string
	created   time.Time
}

// queueMaxSize is what the fake reports as a queue's MaxSize, as in the
// parameters of queue requests (queueParams).
const queueMaxSize = 100

// queueLocked returns the queue called name, made now if the account has
// none. s.mu is held.
func (s *Server) queueLocked(name string) *queueRec {
	for _, q := range s.queues {
		if q.name == name {
			return q
		}
	}
	if s.queues == nil {
		s.queues = map[string]*queueRec{}
	}
	q := &queueRec{sid: newSID("QU"), name: name, created: s.now()}
	s.queues[q.sid] = q
	return q
}

// queueMembersLocked counts the calls waiting in the queue called name (a
// call bridged out of it is no member). s.mu is held.
func (s *Server) queueMembersLocked(name string) int {
	n := 0
	for _, c := range s.calls {
		if c.queue != nil && c.queue.name == name && !c.terminal() {
			n++
		}
	}
	return n
}

func (s *Server) fetchQueue(_ *http.Request, p map[string]string) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[p["Sid"]]
	if q == nil {
		return result{}, errNotFound("Queue " + p["Sid"])
	}
	return result{status: http.StatusOK, body: s.queueJSON(q)}, nil
}

func (s *Server) listQueues(r *http.Request, p map[string]string) (result, *apiError) {
	s.mu.Lock()
	qs := make([]*queueRec, 0, len(s.queues))
	for _, q := range s.queues {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool {
		if !qs[i].created.Equal(qs[j].created) {
			return qs[i].created.Before(qs[j].created)
		}
		return qs[i].sid < qs[j].sid
	})
	items := make([]any, 0, len(qs))
	for _, q := range qs {
		items = append(items, s.queueJSON(q))
	}
	s.mu.Unlock()
	return result{status: http.StatusOK, body: page(r, p, "queues", items)}, nil
}

// deleteQueue refuses a queue with members, as Twilio does (only empty
// queues can be deleted). Twilio documents no specific error code for it:
// the fake answers 400 with the generic 20001.
func (s *Server) deleteQueue(_ *http.Request, p map[string]string) (result, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[p["Sid"]]
	if q == nil {
		return result{}, errNotFound("Queue " + p["Sid"])
	}
	if n := s.queueMembersLocked(q.name); n > 0 {
		return result{}, &apiError{Status: http.StatusBadRequest, Code: codeInvalid,
			Message: fmt.Sprintf("Queue %s (%s) has %d member(s): only an empty queue can be deleted", q.sid, q.name, n)}
	}
	delete(s.queues, q.sid)
	s.log.Info("queue deleted", zap.String("queue_sid", q.sid), zap.String("queue", q.name))
	return result{status: http.StatusNoContent}, nil
}

// queueJSON renders api.v2010.account.queue. s.mu is held.
func (s *Server) queueJSON(q *queueRec) map[string]any {
	return map[string]any{
		"sid":               q.sid,
		"account_sid":       s.opts.AccountSID,
		"friendly_name":     q.name,
		"current_size":      s.queueMembersLocked(q.name),
		"max_size":          queueMaxSize,
		"average_wait_time": 0,
		"date_created":      rfc2822(q.created),
		"date_updated":      rfc2822(q.created),
		"uri":               "/2010-04-01/Accounts/" + s.opts.AccountSID + "/Queues/" + q.sid + ".json",
	}
}
