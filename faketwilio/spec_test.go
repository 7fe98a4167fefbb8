package faketwilio_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/supportdesk/ivr/faketwilio"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// The fake checks its own answers against the spec; this test checks them
// again, independently, with the document loaded the plain way.
var testRouter = sync.OnceValues(func() (routers.Router, error) {
	path, err := faketwilio.DefaultSpecPath()
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	for _, item := range doc.Paths.Map() {
		item.Servers = nil
	}
	return gorillamux.NewRouter(doc)
})

func TestResponsesMatchSpec(t *testing.T) {
	faketwilio.SkipWithoutSpec(t)
	router, err := testRouter()
	if err != nil {
		t.Fatal(err)
	}
	a := startApp(t, testToken)
	a.twiml("/voice", "<Response><Hangup/></Response>")
	s := start(t, a, faketwilio.Options{})
	rc := faketwilio.RESTClient(s)
	call, err := rc.Api.CreateCall(newCall().SetTwiml("").SetUrl(a.URL + "/voice").SetMachineDetection("Enable"))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Phone(engineer).ExpectCall()
	h.Answer()
	h.Hangup()
	msg, err := rc.Api.CreateMessage((&api.CreateMessageParams{}).SetTo(engineer).SetMessagingServiceSid("MG0123456789abcdef0123456789abcdef").SetBody("hi"))
	if err != nil {
		t.Fatal(err)
	}
	s.Phone(engineer).ExpectSMS("hi").Undelivered(30003)
	rec, _ := s.AddRecording(*call.Sid, []byte("RIFF"))

	acc := "/2010-04-01/Accounts/" + s.AccountSID()
	today := time.Now().UTC().Format(time.DateOnly)
	for _, r := range []struct{ method, path string }{
		{"POST", acc + "/Calls.json"},
		{"GET", acc + "/Calls/" + *call.Sid + ".json"},
		{"GET", acc + "/Calls.json?To=" + url.QueryEscape(engineer) + "&StartTime=" + today + "&PageSize=1"},
		{"POST", acc + "/Calls/" + *call.Sid + ".json"},
		{"GET", acc + "/Messages/" + *msg.Sid + ".json"},
		{"GET", acc + "/Messages.json?DateSent%3E=" + today},
		{"GET", acc + "/Recordings/" + rec + ".json"},
		{"DELETE", acc + "/Recordings/" + rec + ".json"},
		{"GET", acc + "/Recordings/" + rec + ".json?IncludeSoftDeleted=true"},
	} {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			var form url.Values
			if r.method == "POST" && strings.HasSuffix(r.path, "/Calls.json") {
				form = url.Values{"To": {engineer}, "From": {ourLine}, "Twiml": {"<Response/>"}}
			} else if r.method == "POST" {
				form = url.Values{"Status": {"completed"}}
			}
			req, _ := http.NewRequest(r.method, s.URL()+r.path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(s.AccountSID(), s.AuthToken())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode >= 300 {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatal(err)
			}
			err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
				Status:                 resp.StatusCode,
				Header:                 resp.Header,
				Body:                   io.NopCloser(bytes.NewReader(body)),
				Options: &openapi3filter.Options{IncludeResponseStatus: true, SchemaValidationOptions: []openapi3.SchemaValidationOption{
					openapi3.WithStringFormatValidator("date-time-rfc-2822", openapi3.NewCallbackValidator(func(v string) error {
						_, err := time.Parse(time.RFC1123Z, v)
						return err
					})),
				}},
			})
			if err != nil {
				t.Fatalf("%s\n%s", err, body)
			}
		})
	}
	s.Phone(engineer).ExpectCall() // the call made by the raw POST
}
