package arilink_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/asterisk/arilink"
	"github.com/supportdesk/ivr/errs"
)

// TestNewInvalid: New refuses what cannot work, naming the setting.
func TestNewInvalid(t *testing.T) {
	ok := arilink.Config{URL: "http://127.0.0.1:8088/ari", Username: "u", Password: "p", Application: "ivr"}
	for _, tc := range []struct {
		name  string
		edit  func(*arilink.Config)
		field string
	}{
		{"ErrURL", func(c *arilink.Config) { c.URL = "pbx:8088" }, "url"},
		{"ErrWebsocketURL", func(c *arilink.Config) { c.WebsocketURL = "http://pbx/ari/events" }, "websocket_url"},
		{"ErrUsernameRequired", func(c *arilink.Config) { c.Username = "" }, "username"},
		{"ErrPasswordRequired", func(c *arilink.Config) { c.Password = "" }, "password"},
		{"ErrApplicationRequired", func(c *arilink.Config) { c.Application = "" }, "application"},
		{"ErrTwoApplications", func(c *arilink.Config) { c.Application = "ivr,other" }, "application"},
		{"ErrUnknownEvent", func(c *arilink.Config) { c.Events = []string{"StasisStart", "ChannelToneDetected"} }, "events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			_, err := arilink.New(cfg)
			var e *errs.Error
			if !errs.Is(err, errs.Invalid) || !errors.As(err, &e) || e.Field != tc.field {
				t.Errorf("New = %v, want invalid %s", err, tc.field)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		l, err := arilink.New(ok)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Ready(); err == nil || !strings.Contains(err.Error(), "not started") {
			t.Errorf("Ready before Run = %v", err)
		}
	})
}
