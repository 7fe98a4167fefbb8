package asterisk

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/ivr"
)

// A driver that stops (killed, its machine gone) leaves its calls' states
// in the store. Callers still in the application are taken up by adopt,
// but only by a driver of the same application on the same Asterisk; a
// caller who hung up while no driver served them has no channel left to
// find, and their call would never be recorded or paged. So every
// SweepEvery the driver also lists the calls not finished whose state
// has not changed for SweepIdle (a live call's state is written at least
// every SweepIdle/2), keeps those of its own Asterisk that no call here
// serves, and takes up each whose caller's channel is gone: the call ends
// as the caller's hang-up would have ended it (recorded, noted, paged
// when the caller was waiting for an engineer), at the time the sweep
// found it. A channel still there is a caller whose instance no longer
// serves them (it stopped, and has not come back to take its callers
// up): the caller is taken over, moved into this application
// (takeOver), unless bridged with an engineer (the bridge goes on without
// any instance; the call is ended once they hang up). Several instances
// may sweep at once: the states' compare-and-swap lets one of them end
// each call, and a caller moved is taken up by the instance it was moved
// to.

// sweepBatch is the most calls one sweep looks at.
const sweepBatch = 200

const keyFromApp = "from_app"

// entityID is the entity id of the Asterisk the driver serves, "" while
// unknown.
func (d *Driver) entityID() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.entity
}

// learnEntity asks Asterisk its entity id (GET /asterisk/info), once it
// answers; false while it does not.
func (d *Driver) learnEntity(ctx context.Context) bool {
	if d.entityID() != "" {
		return true
	}
	var info *ari.AsteriskInfo
	if err := d.request(ctx, "ask Asterisk its entity id", func() error {
		var err error
		info, err = d.cfg.Client.Asterisk().Info(nil)
		return err
	}); err != nil || info == nil || info.SystemInfo.EntityID == "" {
		d.log.Warn("could not learn Asterisk's entity id; calls left by a stopped driver are not swept yet", zap.Error(err))
		return false
	}
	d.mu.Lock()
	d.entity = info.SystemInfo.EntityID
	d.mu.Unlock()
	return true
}

// sweep takes up the calls of this Asterisk left in the store by a
// driver that stopped: those whose caller's channel is gone, to end
// them, and those whose caller is still there, to serve them (taken
// over from another application, or found in this one). It returns how
// many it took up.
func (d *Driver) sweep(ctx context.Context) int {
	d.sweeping.Lock() // one at a time: two would take up the same call
	defer d.sweeping.Unlock()
	if !d.learnEntity(ctx) {
		return 0
	}
	ids, err := d.cfg.States.OpenCallStates(ctx, d.now().Add(-d.cfg.SweepIdle), sweepBatch)
	if err != nil {
		d.log.Warn("sweep: could not list the calls left open", zap.Error(err))
		return 0
	}
	taken := 0
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		if d.callOf(id) != nil {
			continue
		}
		data, version, err := d.cfg.States.CallState(ctx, id)
		if err != nil {
			continue // gone meanwhile, or the store blinked: the next sweep
		}
		var env envelope
		if json.Unmarshal(data, &env) != nil || env.Driver != "asterisk" || (env.Asterisk != "" && env.Asterisk != d.entityID()) {
			continue // another driver's, or another Asterisk's
		}
		err = d.request(ctx, "look at a left caller's channel", func() error {
			_, err := d.cfg.Client.Channel().Data(ari.NewKey(ari.ChannelKey, id))
			return err
		})
		switch {
		case arilink.NotFound(err):
			d.log.Info("sweep: a call left by a stopped driver lost its caller meanwhile; ending it", zap.String(keyCallID, id))
			if d.adoptCaller(ctx, id, true) {
				taken++
			}
		case err != nil:
			// ARI did not answer: the next sweep.
		case env.App == d.cfg.App && (d.cfg.Mover == nil || d.inApplication(ctx, id)):
			// In this application, yet served by no call here (it came
			// in a gap the reconnection did not see).
			d.log.Info("sweep: a caller in this application was served by no call; taking it up", zap.String(keyCallID, id))
			if d.adoptCaller(ctx, id, false) {
				taken++
			}
		case env.App == d.cfg.App:
			// Claimed by this driver's takeover, whose move failed.
			if d.moveIn(ctx, id) {
				taken++
			}
		case env.Flow.Phase == ivr.PhaseConnected:
			// Talking with the engineer in a bridge, which goes on without
			// any instance: ended by a sweep once they hang up.
		case env.App != "" && d.cfg.Mover != nil:
			if d.takeOver(ctx, id, env, version) {
				taken++
			}
		}
	}
	return taken
}

// inApplication reports whether channel id is in this driver's
// application (false if ARI does not say).
func (d *Driver) inApplication(ctx context.Context, id string) bool {
	var app *ari.ApplicationData
	err := d.request(ctx, "list the application's channels", func() error {
		var err error
		app, err = d.cfg.Client.Application().Data(ari.NewKey(ari.ApplicationKey, d.cfg.App))
		return err
	})
	return err == nil && slices.Contains(app.ChannelIDs, id)
}

// takeOver moves into this application the caller of call id, served by
// application env.App, whose instance has not written the call's state
// for SweepIdle (a live call's is written at least every SweepIdle/2):
// that instance is gone and the caller hears silence. The engineer leg it
// was ringing is hung up (that leg would enter that application when
// answered, where nobody answers it), and the caller, moved with
// ArgResume, is taken up from the store as a restarted instance would
// (started): the ring plan goes on with the next engineer.
//
// The call is first claimed in the store (its state names this
// application, written with compare-and-swap over version): of several
// instances sweeping at once one takes the caller, and the stopped
// instance, if it comes back meanwhile, leaves them (adopt).
func (d *Driver) takeOver(ctx context.Context, id string, env envelope, version int64) bool {
	log := d.log.With(zap.String(keyCallID, id), zap.String(keyFromApp, env.App))
	env.App = d.cfg.App
	data, err := json.Marshal(env)
	if err == nil {
		_, err = d.cfg.States.UpdateCallState(ctx, id, version, data)
	}
	if err != nil {
		log.Info("sweep: another instance claimed the caller first, or the store failed", zap.Error(err))
		return false
	}
	log.Warn("sweep: taking over a caller whose instance stopped serving them (its call's state unchanged for SweepIdle)")
	if leg := env.Flow.Leg.ID; leg != "" {
		err := d.request(ctx, "hang up the stopped instance's leg", func() error {
			return d.cfg.Client.Channel().Hangup(ari.NewKey(ari.ChannelKey, leg), "normal")
		})
		if err != nil && !arilink.NotFound(err) {
			log.Warn("could not hang up the stopped instance's engineer leg", zap.String(keyLeg, leg), zap.Error(err))
		}
	}
	return d.moveIn(ctx, id)
}

// moveIn moves caller id into this application with ArgResume; false if
// ARI refused (the next sweep tries again).
func (d *Driver) moveIn(ctx context.Context, id string) bool {
	mctx, cancel := context.WithTimeout(ctx, d.cfg.RequestTimeout)
	defer cancel()
	if err := d.cfg.Mover.MoveChannel(mctx, id, d.cfg.App, []string{ArgResume}); err != nil {
		d.log.Warn("could not move the caller into this application", zap.String(keyCallID, id), zap.Error(err))
		return false
	}
	return true
}

// runSweeps sweeps every SweepEvery until ctx ends, one sweep at a time.
func (d *Driver) runSweeps(ctx context.Context) {
	t := time.NewTicker(d.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.sweep(ctx)
		}
	}
}
