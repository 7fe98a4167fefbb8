package arilink

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/supportdesk/ivr/errs"
)

// The environment variables the ARI library's native client reads, which
// Config.WithEnv takes as defaults.
const (
	EnvURL         = "ARI_URL"
	EnvWebsocket   = "ARI_WSURL"
	EnvUsername    = "ARI_USERNAME"
	EnvPassword    = "ARI_PASSWORD"
	EnvApplication = "ARI_APPLICATION"
)

// DefaultURL is the library's default ARI base.
const DefaultURL = "http://localhost:8088/ari"

// Config says which Asterisk to connect to and how patiently. Zero
// durations get the defaults given.
type Config struct {
	// URL is the base of ARI's REST interface, such as
	// http://pbx.example:8088/ari. Default: DefaultURL.
	URL string
	// WebsocketURL is ARI's events websocket. Default: URL's /events,
	// with ws for http and wss for https (the library's own default,
	// ws://localhost:8088/ari/events, ignores URL).
	WebsocketURL string
	// Username and Password are ARI's credentials (ari.conf). Required.
	Username, Password string
	// Application is the Stasis application's name, the one the dialplan
	// sends calls to. Required (the library would make up a random one).
	Application string

	// Events are the event types Asterisk is asked to send (the
	// application's eventFilter). Default: every type the library decodes
	// (KnownEvents). ApplicationReplaced is always added. A type the
	// library cannot decode is refused: the relay would drop it anyway.
	Events []string

	// OnConnect, if set, is called after each (re)connection, the first
	// included, once the library is connected and the filter set, and
	// before any event of the new connection reaches the client's bus:
	// subscriptions made in it miss nothing. It runs on the Link's
	// goroutine: the next reconnection waits for it, and it must not wait
	// for an event. Events of the new connection are held meanwhile, up
	// to QueueSize.
	OnConnect func(ctx context.Context, c Connection)

	// DialTimeout bounds each dial of Asterisk's websocket (TCP and
	// handshake). Default: 5 s.
	DialTimeout time.Duration
	// WriteTimeout bounds each message written to either websocket.
	// Default: 5 s.
	WriteTimeout time.Duration
	// RequestTimeout bounds each REST request the library makes (they go
	// through the relay, as the library's own HTTP client has no
	// timeout) and the eventFilter request. Default: 10 s.
	RequestTimeout time.Duration
	// PingInterval is how often Asterisk's websocket is pinged; without
	// an answer within two intervals the connection is given up. Default:
	// 10 s.
	PingInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts to
	// connect: doubled from MinBackoff after each failure (or connection
	// that lasted less than MaxBackoff) up to MaxBackoff; a connection
	// that lasted longer is followed by an attempt at once. Default:
	// 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// QueueSize is how many events of a connection are held while
	// OnConnect runs; more gives the connection up. A subscriber of the
	// client's bus that has more than QueueSize events waiting is warned
	// about (its events are kept). Default: 4096.
	QueueSize int

	// Log receives the Link's log (the events dropped at debug level).
	// Default: none.
	Log *zap.Logger
}

func (c *Config) defaults() {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	c.URL = strings.TrimRight(c.URL, "/")
	if c.WebsocketURL == "" {
		if u, err := url.Parse(c.URL); err == nil {
			switch u.Scheme {
			case "https":
				u.Scheme = "wss"
			default:
				u.Scheme = "ws"
			}
			u.Path = strings.TrimRight(u.Path, "/") + "/events"
			c.WebsocketURL = u.String()
		}
	}
	if len(c.Events) == 0 {
		c.Events = KnownEvents()
	}
	if !slices.Contains(c.Events, "ApplicationReplaced") {
		c.Events = append(c.Events, "ApplicationReplaced")
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	positive := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	positive(&c.DialTimeout, 5*time.Second)
	positive(&c.WriteTimeout, 5*time.Second)
	positive(&c.RequestTimeout, 10*time.Second)
	positive(&c.PingInterval, 10*time.Second)
	positive(&c.MinBackoff, 100*time.Millisecond)
	positive(&c.MaxBackoff, 5*time.Second)
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 4096
	}
}

func (c Config) validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return errs.InvalidField("url", "%q is not ARI's base URL, such as http://pbx.example:8088/ari", c.URL)
	case c.Username == "":
		return errs.InvalidField("username", "is required: ARI's user in ari.conf (or %s)", EnvUsername)
	case c.Password == "":
		return errs.InvalidField("password", "is required: the ARI user's password (or %s)", EnvPassword)
	case c.Application == "":
		return errs.InvalidField("application", "is required: the Stasis application the dialplan sends calls to (or %s)", EnvApplication)
	case strings.ContainsAny(c.Application, ",/?#& "):
		return errs.InvalidField("application", "%q: one name without commas, slashes, spaces or URL punctuation", c.Application)
	}
	w, err := url.Parse(c.WebsocketURL)
	if err != nil || (w.Scheme != "ws" && w.Scheme != "wss") || w.Host == "" {
		return errs.InvalidField("websocket_url", "%q is not ARI's events websocket, such as ws://pbx.example:8088/ari/events", c.WebsocketURL)
	}
	for _, typ := range c.Events {
		if !Known(typ) {
			return errs.InvalidField("events", "%q is not an event type the ARI library decodes", typ)
		}
	}
	return nil
}
