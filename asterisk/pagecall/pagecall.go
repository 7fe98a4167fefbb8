package pagecall

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v5"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/pager"
)

// DefaultApp is the Stasis application of page calls: not the support
// lines' ("ivr"), so that neither sees the other's channels.
const DefaultApp = "ivr-pager"

// ArgPage is the first Stasis argument of a page call's channel; the
// second is its attempt's id.
const ArgPage = "page"

// idPrefix starts the id of every page call's channel, followed by the
// attempt's id and a dash: Find looks for it.
const idPrefix = "ivr-page-"

// Client is the part of ari/v5's client page calls use: arilink's
// (Link.Client), which keeps the events the library cannot decode from its
// bus and bounds each REST request.
type Client interface {
	Bus() ari.Bus
	Channel() ari.Channel
	Playback() ari.Playback
	Bridge() ari.Bridge
}

// Pages is what page calls need of the pager's engine (*pager.Engine).
type Pages interface {
	Page(ctx context.Context, id int64) (pager.Page, []pager.Attempt, error)
	AttemptEnded(ctx context.Context, id int64, o pager.Outcome, detail string) (pager.Page, error)
	ConfirmAttempt(ctx context.Context, id int64, providerID string) error
	// CalledBack logs an engineer's call back to a page's client.
	CalledBack(ctx context.Context, id int64, ev pager.CalledBack) (pager.Page, error)
}

// Config is what a Channel needs. Zero values get the defaults described.
type Config struct {
	// Client is the ARI connection of App: here, or by SetClient once
	// connected (Send fails as a request not made until then).
	Client Client
	// App is the Stasis application page calls enter, as Client
	// connected with. Default: DefaultApp.
	App string
	// DialString makes the endpoint called from the engineer's number:
	// "{phone}" is replaced by it, as in "PJSIP/{phone}@trunk". Endpoints,
	// when it has the number, wins. One of the two is required.
	DialString string
	Endpoints  map[string]string
	// CallerID is the caller id page calls show (the pager's fixed
	// number); "" leaves it to the trunk.
	CallerID string
	// SoundsDir is the folder, as Asterisk sees it, holding the prompts
	// as <lang>/<name>.wav (ivr asterisk sounds --dir). Required.
	SoundsDir string
	// Rules are the pager's rules: the lines' recorded names.
	Rules pager.Rules
	// Pages is the pager's engine; SetPages gives it later (the engine is
	// built after its channels).
	Pages Pages
	// Ready, if set, says whether ARI is connected (arilink's
	// Link.Ready): while it is not, Send fails as a request certainly not
	// made, so that a Fallback's primary or a retry takes over at once.
	Ready func() error
	// RingFor is how long the engineer's phone rings. Default 30 s.
	RingFor time.Duration
	// KeyWait is the silence after each ask for the key. Default 6 s.
	KeyWait time.Duration
	// Repeats is how often the page is asked (announced again) before the
	// call ends without the key. Default 3.
	Repeats int
	// MaxCall bounds an answered call: still going then, it is hung up.
	// Default 5 min.
	MaxCall time.Duration
	// RequestTimeout bounds each ARI request. Default 5 s.
	RequestTimeout time.Duration
	// Log receives the channel's log. Default: none.
	Log *zap.Logger
}

func (c *Config) defaults() {
	if c.App == "" {
		c.App = DefaultApp
	}
	if c.RingFor <= 0 {
		c.RingFor = 30 * time.Second
	}
	if c.KeyWait <= 0 {
		c.KeyWait = 6 * time.Second
	}
	if c.Repeats <= 0 {
		c.Repeats = 3
	}
	if c.MaxCall <= 0 {
		c.MaxCall = 5 * time.Minute
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
}

func (c Config) validate() error {
	switch {
	case strings.ContainsAny(c.App, ",/?#& "):
		return errs.InvalidField("app", "%q: one name without commas, slashes, spaces or URL punctuation", c.App)
	case c.SoundsDir == "":
		return errs.InvalidField("sounds_dir", "is required: the folder Asterisk reads the prompts from")
	}
	return arilink.CheckDialing(c.DialString, c.Endpoints)
}

func (c Config) endpoint(phone string) (string, bool) {
	return arilink.Endpoint(c.DialString, c.Endpoints, phone)
}

// Log keys.
const (
	keyAttempt  = "attempt_id"
	keyPage     = "page_id"
	keyChannel  = "channel"
	keyEndpoint = "endpoint"
	keyOutcome  = "outcome"
	keyCause    = "cause"
	keyURI      = "uri"
)

// Channel places page calls through Asterisk: a pager.Channel for
// pager.KindVoice, and a pager.Poller. Run gives its calls their life.
type Channel struct {
	cfg Config
	log *zap.Logger

	mu     sync.Mutex
	client Client
	pages  Pages
	base   context.Context // Run's; nil before Run and after it ends
	ran    bool
	calls  map[int64]*call // by attempt id
	wg     sync.WaitGroup  // every call's goroutines
}

// New returns a Channel, or errs.Invalid naming the setting that cannot
// work.
func New(cfg Config) (*Channel, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Channel{cfg: cfg, log: cfg.Log.Named("pagecall"), client: cfg.Client, pages: cfg.Pages, calls: map[int64]*call{}}, nil
}

// SetClient gives the calls their ARI connection, once it is made (the
// same client through every reconnection: arilink's).
func (ch *Channel) SetClient(c Client) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.client = c
}

// connection is the ARI client; an error before SetClient.
func (ch *Channel) connection() (Client, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.client == nil {
		return nil, errors.New("asterisk page calls: not connected to ARI yet")
	}
	return ch.client, nil
}

// SetPages gives the calls the pager's engine, which is built after the
// channels it carries out attempts through.
func (ch *Channel) SetPages(p Pages) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.pages = p
}

// Run serves page calls until ctx ends, then hangs up those still going
// (each reported as failed, so that the page goes on by text) and returns
// once every call's goroutine has ended. Send fails before Run and after.
func (ch *Channel) Run(ctx context.Context) error {
	ch.mu.Lock()
	if ch.ran {
		ch.mu.Unlock()
		return errors.New("pagecall: Run called twice")
	}
	ch.ran, ch.base = true, ctx
	ch.mu.Unlock()
	<-ctx.Done()
	ch.mu.Lock()
	ch.base = nil
	ch.mu.Unlock()
	ch.wg.Wait()
	return nil
}

// Reconcile is to be called after each reconnection to ARI (arilink's
// OnConnect, from the second connection on): the events of the gap are
// lost, so every call looks at its channel, ending if it is gone and
// going on if it was answered or a prompt ended meanwhile. It does not
// wait.
func (ch *Channel) Reconcile() {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for _, c := range ch.calls {
		select {
		case c.recheck <- struct{}{}:
		default:
		}
	}
}

// Calls is the number of page calls being served.
func (ch *Channel) Calls() int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return len(ch.calls)
}

// Send originates attempt a's call into the application and returns its
// channel id. Its events are subscribed to before the originate is made.
func (ch *Channel) Send(ctx context.Context, a pager.Attempt) (string, error) {
	if a.Kind != pager.KindVoice {
		return "", &pager.SendError{Class: pager.Permanent, Outcome: pager.Failed, Err: fmt.Errorf("asterisk page calls: a %s attempt is no call", a.Kind)}
	}
	if ch.cfg.Ready != nil {
		if err := ch.cfg.Ready(); err != nil {
			return "", &pager.SendError{Class: pager.Retry, Err: fmt.Errorf("asterisk page call: %w", err)}
		}
	}
	endpoint, ok := ch.cfg.endpoint(a.To)
	if !ok {
		return "", &pager.SendError{Class: pager.Permanent, Outcome: pager.Failed, Err: fmt.Errorf("asterisk page call: no endpoint for %s", a.To)}
	}
	id := idPrefix + strconv.FormatInt(a.ID, 10) + "-" + randomHex()
	c, err := ch.start(a, id, false)
	if err != nil {
		return "", &pager.SendError{Class: pager.Retry, Err: err}
	}
	h, err := c.client.Channel().StageOriginate(nil, ari.OriginateRequest{
		Endpoint: endpoint, Timeout: int((ch.cfg.RingFor + time.Second - 1) / time.Second), CallerID: ch.cfg.CallerID,
		App: ch.cfg.App, AppArgs: ArgPage + "," + strconv.FormatInt(a.ID, 10), ChannelID: id,
	})
	if err == nil {
		err = request(ctx, ch.cfg.RequestTimeout, "originate", h.Exec)
	}
	if err != nil {
		se := classify(err)
		if se.Class != pager.Doubt {
			c.abandon() // certainly no channel: nothing to serve
			ch.forget(a.ID, c)
		}
		// In doubt, the call stays: if the channel exists its events
		// come and it is served; Find says which.
		ch.log.Warn("could not place a page call", zap.Int64(keyAttempt, a.ID), zap.String(keyEndpoint, endpoint), zap.Error(err))
		return "", se
	}
	ch.log.Info("page call placed", zap.Int64(keyAttempt, a.ID), zap.Int64(keyPage, a.PageID),
		zap.String(keyChannel, id), zap.String(keyEndpoint, endpoint))
	return id, nil
}

// Find looks for the call of attempt a, in doubt: served here, or a
// channel of the attempt's in Asterisk (taken up and served here, as one
// whose instance stopped); "" when Asterisk has none.
func (ch *Channel) Find(ctx context.Context, a pager.Attempt) (string, error) {
	ch.mu.Lock()
	c := ch.calls[a.ID]
	ch.mu.Unlock()
	if c != nil {
		_, err := ch.data(ctx, c.id)
		switch {
		case arilink.NotFound(err):
			c.abandon()
			ch.forget(a.ID, c) // at once: a resend follows
			return "", nil
		case err != nil:
			return "", err
		}
		return c.id, nil
	}
	cl, err := ch.connection()
	if err != nil {
		return "", err
	}
	var keys []*ari.Key
	err = request(ctx, ch.cfg.RequestTimeout, "list channels", func() error {
		var err error
		keys, err = cl.Channel().List(nil)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("asterisk page call of attempt %d: %w", a.ID, err)
	}
	prefix := idPrefix + strconv.FormatInt(a.ID, 10) + "-"
	for _, k := range keys {
		if !strings.HasPrefix(k.ID, prefix) || strings.HasSuffix(k.ID, backSuffix) {
			continue
		}
		if _, err := ch.start(a, k.ID, true); err != nil {
			ch.log.Warn("a page call found in Asterisk cannot be served here", zap.String(keyChannel, k.ID), zap.Error(err))
		}
		return k.ID, nil
	}
	return "", nil
}

// Poll says how a page call whose end was never reported ended: "" while
// it goes on (served here, or still in Asterisk), failed once it is gone.
func (ch *Channel) Poll(ctx context.Context, a pager.Attempt) (pager.Outcome, error) {
	ch.mu.Lock()
	c := ch.calls[a.ID]
	ch.mu.Unlock()
	if c != nil || a.ProviderID == "" {
		return "", nil
	}
	_, err := ch.data(ctx, a.ProviderID)
	switch {
	case arilink.NotFound(err):
		return pager.Failed, nil
	case err != nil:
		return "", err
	}
	return "", nil
}

func (ch *Channel) data(ctx context.Context, id string) (*ari.ChannelData, error) {
	cl, err := ch.connection()
	if err != nil {
		return nil, err
	}
	var d *ari.ChannelData
	err = request(ctx, ch.cfg.RequestTimeout, "look at the channel", func() error {
		var err error
		d, err = cl.Channel().Data(ari.NewKey(ari.ChannelKey, id))
		return err
	})
	return d, err
}

// start subscribes to the events of channel id and starts the call of
// attempt a on it; adopted: the channel exists already (Find).
func (ch *Channel) start(a pager.Attempt, id string, adopted bool) (*call, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	switch {
	case ch.base == nil:
		return nil, errors.New("asterisk page calls are not running")
	case ch.client == nil:
		return nil, errors.New("asterisk page calls: not connected to ARI yet")
	case ch.pages == nil:
		return nil, errors.New("asterisk page calls have no pager engine")
	case ch.calls[a.ID] != nil:
		return nil, fmt.Errorf("attempt %d has a page call already", a.ID)
	}
	sub := ch.client.Bus().Subscribe(ari.AppKey(ch.cfg.App), ari.Events.StasisStart, ari.Events.ChannelDestroyed,
		ari.Events.ChannelDtmfReceived, ari.Events.PlaybackFinished)
	c := newCall(ch, ch.client, ch.pages, a, id, sub)
	ch.calls[a.ID] = c
	ctx := ch.base
	ch.wg.Add(2)
	go func() { defer ch.wg.Done(); c.forward() }()
	go func() {
		defer ch.wg.Done()
		c.run(ctx, adopted)
		c.sub.Cancel()
		<-c.forwarded
		ch.forget(a.ID, c)
	}()
	return c, nil
}

// forget drops call c of attempt id from those served.
func (ch *Channel) forget(id int64, c *call) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.calls[id] == c {
		delete(ch.calls, id)
	}
}

// classify says what a failed originate means for the attempt: an answer
// of ARI's refusing it (4xx) is a channel that failed for good; the
// relay's 503 (not connected) one certainly not made; a timeout or any
// other failure may have made the channel.
func classify(err error) *pager.SendError {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		switch code := coded.Code(); {
		case code == http.StatusServiceUnavailable:
			return &pager.SendError{Class: pager.Retry, Code: code, Err: err}
		case code >= 400 && code < 500:
			return &pager.SendError{Class: pager.Permanent, Code: code, Outcome: pager.Failed, Err: err}
		}
	}
	return &pager.SendError{Class: pager.Doubt, Err: err}
}

// request runs one ARI request, bounded by timeout (arilink.Request).
func request(ctx context.Context, timeout time.Duration, what string, fn func() error) error {
	return arilink.Request(ctx, timeout, what, fn)
}

func randomHex() string {
	var b [6]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
