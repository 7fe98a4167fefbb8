package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
)

// Each caller waits in a queue of its own, q-<CallSid>, which Twilio makes
// at the <Enqueue> and keeps after the caller leaves it ("inactive Queues
// should be deleted", says the Queue resource's documentation). Twilio
// deletes only an empty queue, so the driver deletes a call's queue when
// the <Enqueue> action says its caller has left (the request carries the
// QueueSid, so no look-up is needed), and the sweep deletes the empty
// queues of calls that are over, whose exit never reached the service.

// Queue is a call queue at Twilio.
type Queue struct {
	Sid, Name string
	Size      int // calls waiting in it now
}

// keyQueueSid names a queue in the log.
const keyQueueSid = "queue_sid"

// maxSweptQueues bounds the queues one sweep lists.
const maxSweptQueues = 1000

// validQueueSid reports whether sid has a Twilio queue SID's shape: QU and
// 32 hex digits. Only such a SID is put into a URL.
func validQueueSid(sid string) bool {
	return len(sid) == 34 && sid[:2] == "QU" && validCallSid("CA"+sid[2:])
}

// deleteQueue deletes a call's queue, which its caller has left. A failure
// is only logged: the sweep tries again.
func (d *Driver) deleteQueue(ctx context.Context, callID, queueSid string) {
	if !validQueueSid(queueSid) {
		return
	}
	if err := d.cfg.REST.DeleteQueue(ctx, queueSid); err != nil && !errs.Is(err, errs.NotFound) {
		d.log.Warn("could not delete the call's queue at Twilio; the sweep tries again",
			zap.String(keyCallSid, callID), zap.String(keyQueueSid, queueSid), zap.Error(err))
	}
}

// dropQueue deletes a call's queue off the webhook path.
func (d *Driver) dropQueue(callID, queueSid string) {
	d.effects.do(callID, func(ctx context.Context) { d.deleteQueue(ctx, callID, queueSid) })
}

// sweepQueues deletes the empty queues of calls that are over (or unknown
// to the service).
func (d *Driver) sweepQueues(ctx context.Context) {
	qs, err := d.cfg.REST.Queues(ctx)
	if err != nil {
		d.log.Warn("sweep: list the queues at Twilio", zap.Error(err))
		return
	}
	for _, q := range qs {
		callID, ok := strings.CutPrefix(q.Name, queueName(""))
		if !ok || !validCallSid(callID) || q.Size > 0 {
			continue
		}
		s, err := d.load(ctx, callID)
		switch {
		case errs.Is(err, errs.NotFound):
		case err != nil:
			d.log.Warn("sweep: load the call of a queue", zap.String(keyCallSid, callID), zap.Error(err))
			continue
		case s.env.Flow.Phase != ivr.PhaseDone:
			continue // a caller who may yet come back to it
		}
		d.deleteQueue(ctx, callID, q.Sid)
	}
}

func (c *restClient) Queues(context.Context) ([]Queue, error) {
	list, err := c.api.ListQueue((&api.ListQueueParams{}).SetPageSize(maxSweptQueues).SetLimit(maxSweptQueues))
	if err != nil {
		return nil, fmt.Errorf("twilio: list queues: %w", err)
	}
	out := make([]Queue, 0, len(list))
	for _, q := range list {
		if q.Sid == nil || q.FriendlyName == nil {
			continue
		}
		out = append(out, Queue{Sid: *q.Sid, Name: *q.FriendlyName, Size: q.CurrentSize})
	}
	return out, nil
}

func (c *restClient) DeleteQueue(_ context.Context, sid string) error {
	if !validQueueSid(sid) {
		return errs.E(errs.Invalid, "QueueSid", "%q is not a Twilio queue SID (QU and 32 hex digits)", sid)
	}
	err := c.api.DeleteQueue(sid, &api.DeleteQueueParams{})
	var re *client.TwilioRestError
	if errors.As(err, &re) && re.Status == http.StatusNotFound {
		return errs.E(errs.NotFound, "QueueSid", "Twilio knows no queue %s", sid)
	}
	if err != nil {
		return fmt.Errorf("twilio: delete queue %s: %w", sid, err)
	}
	return nil
}

func (unconfigured) Queues(context.Context) ([]Queue, error)   { return nil, errUnconfigured }
func (unconfigured) DeleteQueue(context.Context, string) error { return errUnconfigured }
