package asterisk

import (
	"context"
	"encoding/json"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"
)

// A driver that stops (killed, its machine gone) leaves its calls' states
// in the store. Callers still in the application are taken up by adopt,
// but only by a driver of the same application on the same Asterisk; a
// caller who hung up while no driver served them has no channel left to
// find, and their call would never be recorded or paged. So every
// SweepEvery the driver also lists the calls not finished whose state
// has not changed for SweepIdle (a live call's state is written at least
// every stateRefresh), keeps those of its own Asterisk that no call here
// serves, and takes up each whose caller's channel is gone: the call ends
// as the caller's hang-up would have ended it (recorded, noted, paged
// when the caller was waiting for an engineer), with the time of its last
// state. A channel still there belongs to a live call of another
// instance, or to one whose instance is down and will take it up when it
// is back: it is left alone. Several instances may sweep at once: the
// states' compare-and-swap lets one of them end each call.

// SweepIdle is how long a call's state must have been unchanged before
// the sweep looks at it.
const SweepIdle = time.Minute

// sweepBatch is the most calls one sweep looks at.
const sweepBatch = 200

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

// sweep takes up the calls of this Asterisk left in the store whose
// caller's channel is gone. It returns how many it took up.
func (d *Driver) sweep(ctx context.Context) int {
	d.sweeping.Lock() // one at a time: two would take up the same call
	defer d.sweeping.Unlock()
	if !d.learnEntity(ctx) {
		return 0
	}
	ids, err := d.cfg.States.OpenCallStates(ctx, d.now().Add(-SweepIdle), sweepBatch)
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
		data, _, err := d.cfg.States.CallState(ctx, id)
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
		if !notFound(err) {
			continue // still there (or ARI did not answer): not ours to end
		}
		d.log.Info("sweep: a call left by a stopped driver lost its caller meanwhile; ending it", zap.String(keyCallID, id))
		if d.adoptCaller(ctx, id) {
			taken++
		}
	}
	return taken
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
