package pagecall

import (
	"context"
	"strconv"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/pager"
)

// After the 1, on the page call of a page a client's call raised (the
// client's number known): "press 3 to call the client back now", as the
// Twilio driver offers it (webhooks/pager_callback.go). 3 dials the client
// from the line they called (the pager's caller id for a page with no
// line) into the application, with the Stasis arguments "callback,<attempt
// id>" and the channel id of the page call followed by "-client" (so that
// its events reach this call), and bridges the two in a mixing bridge; the
// call back's start and end are logged on the page (the engine's
// CalledBack, which notes the ticket). When the client hangs up the
// engineer hears that the call ended; when the client does not answer,
// that they did not, and the menu again. "Press 2 to hear the message" is
// not offered: the voicemail is in the service's store, which Asterisk
// does not read.

// ArgCallBack is the first Stasis argument of a call back's channel.
const ArgCallBack = "callback"

// backSuffix ends the channel id of a call back, after the page call's.
const backSuffix = "-client"

// callBack is the call to the client.
type callBack struct {
	id   string
	up   bool
	upAt time.Time
}

// offerCallBack says thanks and offers the call back; false when page p
// has nothing to offer.
func (c *call) offerCallBack(ctx context.Context, p pager.Page) bool {
	if !pager.CanCallBack(&p) {
		return false
	}
	c.page, c.menu = p, 1
	c.say(ctx, pager.AckedMenuPrompts(c.lang, false, true), thenGather)
	return true
}

// menuKey takes a key at the menu: 3 calls the client back, anything else
// offers the menu again.
func (c *call) menuKey(ctx context.Context, digit string) {
	c.stopPrompt(ctx)
	c.keyBy = time.Time{}
	if digit == "3" {
		c.callBackNow(ctx)
		return
	}
	c.nextMenu(ctx)
}

// nextMenu offers the menu again, Repeats times in all, then goodbye.
func (c *call) nextMenu(ctx context.Context) {
	if c.menu < c.ch.cfg.Repeats {
		c.menu++
		c.say(ctx, pager.MenuPrompts(c.lang, false, true), thenGather)
		return
	}
	c.menu = 0
	c.say(ctx, pager.GoodbyePrompts(c.lang), thenHangup)
}

// callBackNow logs the call back and tells the engineer it is placed; it
// is dialled once that is said (dialClient).
func (c *call) callBackNow(ctx context.Context) {
	c.menu = 0 // no keys while the client is called
	p := c.page
	if _, err := c.pages.CalledBack(ctx, p.ID, pager.CalledBack{EngineerID: c.a.EngineerID, Name: p.AckedByName}); err != nil {
		c.log.Warn("could not log a call back as it starts", zap.Error(err)) // not worth keeping the engineer from the client
	}
	c.say(ctx, pager.CallingClientPrompts(c.lang), thenDial)
}

// dialClient originates the call to the client.
func (c *call) dialClient(ctx context.Context) {
	p := c.page
	endpoint, ok := c.ch.cfg.endpoint(p.Caller)
	if !ok {
		c.log.Error("no endpoint for the client's number")
		c.clientGone(ctx, nil, "failed")
		return
	}
	from := p.Line
	if from == "" {
		from = c.ch.cfg.CallerID
	}
	b := &callBack{id: c.id + backSuffix}
	h, err := c.client.Channel().StageOriginate(nil, ari.OriginateRequest{
		Endpoint: endpoint, Timeout: int((c.ch.cfg.RingFor + time.Second - 1) / time.Second), CallerID: from,
		App: c.ch.cfg.App, AppArgs: ArgCallBack + "," + strconv.FormatInt(c.a.ID, 10), ChannelID: b.id,
	})
	if err == nil {
		err = request(ctx, c.ch.cfg.RequestTimeout, "originate the call back", h.Exec)
	}
	if err != nil {
		c.log.Error("could not call the client back", zap.Error(err))
		c.clientGone(ctx, nil, "failed")
		return
	}
	c.back = b
	c.log.Info("calling the client back", zap.String(keyEndpoint, endpoint))
}

// clientAnswered bridges the client with the engineer.
func (c *call) clientAnswered(ctx context.Context) {
	b := c.back
	b.up, b.upAt = true, time.Now()
	c.stopPrompt(ctx)
	id := c.id + "-bridge"
	key := ari.NewKey(ari.BridgeKey, id)
	err := request(ctx, c.ch.cfg.RequestTimeout, "create the bridge", func() error {
		_, err := c.client.Bridge().Create(key, "mixing", id)
		return err
	})
	if err == nil {
		c.bridge = id
		for _, ch := range []string{c.id, b.id} {
			if err = request(ctx, c.ch.cfg.RequestTimeout, "add to the bridge", func() error {
				return c.client.Bridge().AddChannel(key, ch)
			}); err != nil {
				break
			}
		}
	}
	if err != nil {
		c.log.Error("could not bridge the client with the engineer; hanging the client up", zap.Error(err))
		c.hangupID(ctx, b.id)
	}
}

// clientEnded is the end of the call to the client (cause: Q.850): the
// page learns how it went, and the engineer that it is over.
func (c *call) clientEnded(ctx context.Context, cause int) {
	b := c.back
	c.back = nil
	c.dropBridge(ctx)
	status := "completed"
	if !b.up {
		switch cause {
		case 17, 21: // user busy, call rejected
			status = "busy"
		case 16, 18, 19: // cleared before the answer, no user responding, no answer
			status = "no-answer"
		default:
			status = "failed"
		}
	}
	c.clientGone(ctx, b, status)
}

// clientGone logs the end of call back b (nil: never placed) and goes on
// with the engineer: goodbye after a conversation, the menu again after
// none.
func (c *call) clientGone(ctx context.Context, b *callBack, status string) {
	ev := pager.CalledBack{EngineerID: c.a.EngineerID, Name: c.page.AckedByName, Ended: true, Status: status}
	if b != nil {
		ev.CallID, ev.Answered = b.id, b.up
		if b.up {
			ev.Talked = time.Since(b.upAt).Truncate(time.Second)
		}
	}
	if _, err := c.pages.CalledBack(context.WithoutCancel(ctx), c.page.ID, ev); err != nil {
		c.log.Warn("could not log the end of a call back", zap.Error(err))
	}
	if c.over {
		return
	}
	if ev.Answered {
		c.say(ctx, pager.CallEndedPrompts(c.lang), thenHangup)
		return
	}
	c.menu = 1
	c.say(ctx, append(pager.ClientNoAnswerPrompts(c.lang), pager.MenuPrompts(c.lang, false, true)...), thenGather)
}

// endCallBack hangs up the call to the client when the engineer's call
// ends first, and logs it.
func (c *call) endCallBack(ctx context.Context) {
	b := c.back
	if b == nil {
		return
	}
	c.back = nil
	c.dropBridge(ctx)
	c.hangupID(ctx, b.id)
	status := "completed"
	if !b.up {
		status = "canceled"
	}
	c.clientGone(ctx, b, status)
}

func (c *call) dropBridge(ctx context.Context) {
	id := c.bridge
	if id == "" {
		return
	}
	c.bridge = ""
	err := request(context.WithoutCancel(ctx), c.ch.cfg.RequestTimeout, "destroy the bridge", func() error {
		return c.client.Bridge().Delete(ari.NewKey(ari.BridgeKey, id))
	})
	if err != nil && !arilink.NotFound(err) {
		c.log.Warn("could not destroy the bridge", zap.Error(err))
	}
}
