package webhooks_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/webhooks"
)

// TestRESTErrorsNameTheConfiguredAPI: with IVR_TWILIO_API_URL set, a REST
// call's error (what the logs show) names that host, the one really talked
// to, not api.twilio.com.
func TestRESTErrorsNameTheConfiguredAPI(t *testing.T) {
	// A port nobody listens on: every request is refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rest, err := webhooks.NewREST(webhooks.Settings{APIURL: "http://" + addr, AccountSID: "AC" + strings.Repeat("0", 32),
		AuthToken: strings.Repeat("f", 32), RESTTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"create call": func() error {
			_, err := rest.CreateCall(context.Background(), webhooks.OutboundCall{To: "+12025550101", From: "+12025952118",
				URL: "http://127.0.0.1:1/answer", StatusCallback: "http://127.0.0.1:1/status", Timeout: time.Second})
			return err
		}(),
		"fetch call": func() error {
			_, err := rest.CallStatus(context.Background(), "CA"+strings.Repeat("0", 32))
			return err
		}(),
	} {
		if err == nil {
			t.Fatalf("%s against a closed port succeeded", what)
		}
		if strings.Contains(err.Error(), "twilio.com") || !strings.Contains(err.Error(), "http://"+addr+"/2010-04-01/") {
			t.Errorf("%s: %q, want the request's URL on %s, not Twilio's host", what, err, addr)
		}
	}
}
