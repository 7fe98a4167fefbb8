package webhooks

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/ivr"
)

// Driver serves the Twilio webhooks of the support lines.
type Driver struct {
	cfg     Config
	base    string
	sig     signed // checks the webhooks' signatures
	log     *zap.Logger
	locks   callLocks
	hold    holdMusic
	docs    documents // the TwiML renderer
	metrics counters
	effects *effects // changes at Twilio, off the webhook path

	timersMu sync.Mutex
	timers   map[string]func() bool // call id → stop of its wake-up
	closed   bool                   // Close was called: no more wake-ups

	waitFailuresMu sync.Mutex
	waitFailures   map[string]int // call id → wait requests failed in a row
}

// maxWaitFailures is how many wait requests in a row (8 s of music each) may
// fail for a store blip before the error goes to Twilio, which then plays
// the Fallback URL's apology and voicemail.
const maxWaitFailures = 4

// waitFailed counts a failed wait request of callID and reports whether
// the caller should keep holding.
func (d *Driver) waitFailed(callID string) bool {
	d.waitFailuresMu.Lock()
	defer d.waitFailuresMu.Unlock()
	if d.waitFailures == nil {
		d.waitFailures = map[string]int{}
	}
	d.waitFailures[callID]++
	if d.waitFailures[callID] > maxWaitFailures {
		delete(d.waitFailures, callID)
		return false
	}
	return true
}

// waitOK forgets callID's failures.
func (d *Driver) waitOK(callID string) {
	d.waitFailuresMu.Lock()
	defer d.waitFailuresMu.Unlock()
	delete(d.waitFailures, callID)
}

// counters are what the driver counts; Stats reads them.
type counters struct {
	conflicts atomic.Int64
	replays   atomic.Int64
	swept     atomic.Int64
}

// Stats are the driver's counts since it started, for monitoring.
type Stats struct {
	// Replays: webhooks Twilio sent again (a retry after a timeout, or a
	// replay), answered with the stored document, the call unchanged.
	Replays int64
	// Conflicts: state writes that lost a compare-and-swap to another
	// instance and were redone on the fresh state.
	Conflicts int64
	// SweptCalls: calls that ended at Twilio without a status callback
	// reaching any instance, finished by Sweep. Non-zero means callbacks
	// are being lost (the service was down, or the status URL is wrong).
	SweptCalls int64
}

// Stats returns the driver's counts.
func (d *Driver) Stats() Stats {
	return Stats{Replays: d.metrics.replays.Load(), Conflicts: d.metrics.conflicts.Load(), SweptCalls: d.metrics.swept.Load()}
}

// New returns a Driver, or errs.Invalid naming the setting that cannot
// work. Without an auth token the Driver is returned all the same and
// refuses every webhook with 503 (it says so in the log now).
func New(cfg Config) (*Driver, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := &Driver{cfg: cfg, base: strings.TrimSuffix(cfg.PublicURL, "/"), log: cfg.Log.Named("twilio"),
		hold: holdMusic{seg: cfg.HoldSegment}, timers: map[string]func() bool{}, effects: newEffects()}
	d.docs = documents{base: d.base, holdSegments: d.hold.count()}
	d.sig = newSigned(cfg.AuthToken, cfg.AccountSID, d.base, cfg.MaxBody, cfg.HandleBudget, d.log)
	if cfg.AuthToken == "" {
		d.log.Error("TWILIO_AUTH_TOKEN is not set: every Twilio webhook will be refused with 503 until it is")
	}
	if cfg.Recordings == nil {
		d.log.Warn("no recording store: voicemails stay at Twilio and are not deleted there")
	}
	return d, nil
}

// Register adds the webhooks to r under /webhooks/twilio/. Every route but
// the hold music checks X-Twilio-Signature.
func (d *Driver) Register(r *mux.Router) {
	post := func(path string, h webhook) {
		r.Handle(path, d.verified(h)).Methods(http.MethodPost)
	}
	post(pathVoice, d.voice)
	post(pathGather, d.gatherAction)
	post(pathWait, d.waitRequest)
	post(pathHoldKey, d.holdKey)
	post(pathDequeued, d.dequeued)
	post(pathStep, d.callerStepRequest)
	post(pathConnect, d.connectRequest)
	post(pathRecorded, d.recorded)
	post(pathStatus, d.callerStatus)
	post(pathLegs+"{leg}/answer", d.legAnswer)
	post(pathLegs+"{leg}/screen", d.legScreen)
	post(pathLegs+"{leg}/step", d.legStepRequest)
	post(pathLegs+"{leg}/status", d.legStatus)
	post(pathLegs+"{leg}/amd", d.legAMD)
	post(pathLegs+"{leg}/fallback", d.legFallback)
	post(pathRecording, d.recordingStatus)
	post(pathFallback, d.fallback)
	post(pathFallback+"/recorded", d.fallbackRecorded)
	post(pathFallback+"/recording", d.fallbackRecording)
	r.HandleFunc(pathHold+"{n}", d.hold.serve).Methods(http.MethodGet, http.MethodHead)
}

func (d *Driver) now() time.Time { return d.cfg.Now().UTC() }

// source is where an event came from, which decides how a caller step
// reaches the live call.
type source int

const (
	fromCaller source = iota // the caller's own webhook: the answer is the caller's document
	fromWait                 // the wait URL: the answer is hold music, a message or <Leave/>
	fromLeg                  // an engineer leg's webhook: the answer is that leg's document
	fromOther                // status and recording callbacks, wake-ups: nothing is answered
)

// decide looks at the call's fresh envelope and returns the event to apply,
// or nil when the request is a repeat (or stale) and changes nothing. It
// may also change the envelope itself (and then returns true for changed).
type decide func(e *envelope) (ev ivr.Event, changed bool)

// outcome is the envelope after an event, and what the event did.
type outcome struct {
	env     envelope
	applied bool       // the flow took the event
	res     ivr.Result // its result, when applied
	before  ivr.Phase  // the phase before the event
	// progress is a message for the caller on hold decided by a wait
	// request's Tick, to play in its answer.
	progress []ivr.Prompt
}

// apply runs one event of a call through the flow and saves the result
// with compare-and-swap; on a conflict it decides again on the fresh
// envelope (where the event may turn out to be applied already). Then it
// carries out the result (actions, steps for other parties) and any event
// that follows from those (a failed Calls.create ends its leg). The call's
// stripe lock is held throughout.
func (d *Driver) apply(ctx context.Context, callID string, src source, legID string, dec decide) (outcome, error) {
	unlock := d.locks.lock(callID)
	defer unlock()
	out, err := d.applyLocked(ctx, callID, src, dec)
	if err != nil {
		return out, err
	}
	follow := d.carryOut(ctx, callID, src, legID, out)
	for i := 0; len(follow) > 0 && i < 20; i++ {
		ev := follow[0]
		follow = follow[1:]
		o, err := d.applyLocked(ctx, callID, src, func(*envelope) (ivr.Event, bool) { return ev, false })
		if err != nil {
			d.log.Error("could not apply a follow-up event", zap.String(keyCallSid, callID), zap.Error(err))
			break
		}
		out.env = o.env
		follow = append(follow, d.carryOut(ctx, callID, src, legID, o)...)
	}
	d.schedule(callID, out.env)
	return out, nil
}

func (d *Driver) applyLocked(ctx context.Context, callID string, src source, dec decide) (outcome, error) {
	var out outcome
	env, err := d.update(ctx, callID, func(e *envelope) (bool, error) {
		out = outcome{before: e.Flow.Phase}
		ev, changed := dec(e)
		if ev == nil {
			if !changed {
				d.metrics.replays.Add(1)
			}
			return changed, nil
		}
		st, res, err := d.cfg.Flow.Handle(ctx, e.Flow, ev)
		if err != nil {
			// The event cannot happen now (a stale or repeated report):
			// nothing changes and the stored documents answer.
			d.log.Info("event refused by the flow", zap.String(keyCallSid, callID), zap.Error(err))
			d.metrics.replays.Add(1)
			return changed, nil
		}
		progress := d.record(e, st, res)
		if src == fromWait {
			out.progress = progress // played in this answer
		} else if progress != nil {
			e.Progress = progress // played by the next wait request
		}
		out.applied, out.res = true, res
		return true, nil
	})
	out.env = env
	return out, err
}

// record stores the flow's new state and renders the documents of its
// result into the envelope. It returns the prompts of a progress message
// for the caller on hold, which is no document of its own.
func (d *Driver) record(e *envelope, st ivr.State, res ivr.Result) (progress []ivr.Prompt) {
	before := e.Flow.Phase
	e.Flow, e.WakeAt = st, res.WakeAt
	callSid := st.CallID
	if res.Caller != nil {
		if c, ok := d.docs.callerDoc(callSid, res.Caller, st.CallerSeq, before); ok {
			e.Caller = c
			e.Progress = nil
			if c.Kind == kindHold {
				// The caller enters the queue at once and hears the step's
				// prompts from the first wait request: the queue must exist
				// before an engineer who accepts quickly dials it (Twilio
				// fails a <Dial><Queue> to a queue not yet created).
				e.Progress = ivr.StepPrompts(res.Caller)
			}
		} else if h, isHold := res.Caller.(ivr.Hold); isHold {
			progress = h.Prompts
		}
	}
	for _, a := range res.Actions {
		if r, ok := a.(ivr.Ring); ok {
			e.leg(r.LegID).Ring = ringRequest(callSid, r)
		}
	}
	for _, ls := range res.Legs {
		l := e.leg(ls.LegID)
		l.Doc = d.docs.legDoc(callSid, ls.LegID, ls.Step, st.Seq, st.CallerSeq)
	}
	return progress
}
