package asterisk

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
)

// A process of the driver that stops (killed, restarted, its connection
// lost) leaves its callers in the application, where Asterisk keeps them
// in silence. When Run starts and after each reconnection, the driver
// lists the channels of its application and takes up those no call of
// its own knows: a caller whose state is in the store resumes where the
// flow was (its legs with it), one without a state (it entered while no
// driver listened) starts as a new call, and an engineer leg no resumed
// call claims is hung up.

// adopt takes up the application's channels that no call here serves.
func (d *Driver) adopt(ctx context.Context) {
	var app *ari.ApplicationData
	err := d.request(ctx, "list the application's channels", func() error {
		var err error
		app, err = d.cfg.Client.Application().Data(ari.NewKey(ari.ApplicationKey, d.cfg.App))
		return err
	})
	if err != nil {
		d.log.Warn("could not list the channels in the application", zap.Error(err))
		return
	}
	var legs []string
	for _, id := range app.ChannelIDs {
		switch {
		case d.callOf(id) != nil:
		case strings.Contains(id, "-leg"):
			legs = append(legs, id) // claimed, if at all, by its caller's call
		default:
			d.adoptCaller(ctx, id, false)
		}
	}
	for _, id := range legs {
		if d.callOf(id) == nil {
			d.log.Warn("an engineer leg of no call served here is in the application; hanging it up", zap.String(keyChannel, id))
			_ = d.request(ctx, "hang up a stray leg", func() error {
				return d.cfg.Client.Channel().Hangup(ari.NewKey(ari.ChannelKey, id), "normal")
			})
		}
	}
}

// adoptCaller takes up the caller's channel id; false if it could not
// or had nothing to take up. A call whose state names another
// application (claimed by another instance's takeover) is left to it
// unless anyApp (its caller is gone: any instance may end it).
func (d *Driver) adoptCaller(ctx context.Context, id string, anyApp bool) bool {
	log := d.log.With(zap.String(keyCallID, id))
	data, version, err := d.cfg.States.CallState(ctx, id)
	if errs.Is(err, errs.NotFound) {
		var ch *ari.ChannelData
		if err := d.request(ctx, "look at a caller's channel", func() error {
			var err error
			ch, err = d.cfg.Client.Channel().Data(ari.NewKey(ari.ChannelKey, id))
			return err
		}); err != nil {
			log.Warn("could not look at a caller's channel", zap.Error(err))
			return false
		}
		log.Info("a caller entered the application while no driver listened; answering")
		d.started(ctx, &ari.StasisStart{Channel: *ch})
		return true
	}
	var env envelope
	if err == nil {
		err = json.Unmarshal(data, &env)
	}
	if err != nil {
		log.Error("could not load the state of a call left in the application", zap.Error(err))
		return false
	}
	if !anyApp && env.App != "" && env.App != d.cfg.App && env.Flow.Phase != ivr.PhaseDone {
		log.Info("a caller in the application was claimed by another instance; leaving it", zap.String(keyFromApp, env.App))
		return false
	}
	if env.Driver != "asterisk" || env.Flow.Phase == ivr.PhaseDone {
		log.Info("a finished call is still in the application; hanging it up")
		_ = d.request(ctx, "hang up", func() error { return d.cfg.Client.Channel().Hangup(ari.NewKey(ari.ChannelKey, id), "normal") })
		return false
	}
	c := newCall(d, id, env.Flow.Line, env.Flow.Caller)
	c.st, c.version, c.savedAt, c.resumed = env.Flow, version, d.now(), true
	c.caller.up = true
	if env.Recording != "" {
		c.caller.recorded = env.Recording
		c.bind(env.Recording)
	}
	if leg := env.Flow.Leg; leg.ID != "" {
		c.legs[leg.ID] = &party{chanID: leg.ID, legID: leg.ID, up: !leg.AnsweredAt.IsZero()}
		c.bind(leg.ID)
	}
	if env.Bridge != "" {
		c.bridge, c.bridged = env.Bridge, !env.Flow.Leg.BridgedAt.IsZero()
		c.bind(env.Bridge)
	}
	log.Info("resuming a call left in the application", zap.String("phase", string(env.Flow.Phase)))
	d.serve(ctx, c)
	return true
}

// resume goes on with a call taken up from the store, where its flow was:
// channels gone meanwhile end as their events would have; a menu asks
// again (its answer was lost); a caller on hold holds on, a leg being
// screened hears the screening again, and one picked up meanwhile is
// answered; a caller accepted but not yet bridged is bridged; a voicemail
// still being recorded is waited for, and one recorded meanwhile is
// fetched and paged with (resumeRecording), before the caller's channel
// is looked at: a caller gone after leaving a message left it.
func (c *call) resume(ctx context.Context) {
	if c.st.Phase == ivr.PhaseVoicemail {
		c.resumeRecording(ctx)
	}
	leg := c.legs[c.st.Leg.ID]
	screening := leg != nil && leg.up // answered before the driver stopped
	c.recheck(ctx)                    // which also answers a leg picked up meanwhile
	if c.caller.ended {
		return
	}
	switch c.st.Phase {
	case ivr.PhaseLanguage, ivr.PhaseTicket, ivr.PhasePriority:
		c.handle(ctx, ivr.Digits{At: c.now()})
	case ivr.PhaseRouting:
		c.startStep(ctx, c.caller, ivr.Hold{})
		if screening && !leg.ended {
			c.handle(ctx, ivr.LegDigits{LegID: leg.legID, At: c.now()})
		}
	case ivr.PhaseConnected:
		if c.bridge == "" && leg != nil && !leg.ended {
			c.caller.step, c.caller.ready = ivr.Connect{LegID: leg.legID}, true
			c.connect(ctx, leg.legID)
		}
	}
}
