package faketwilio_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supportdesk/ivr/faketwilio"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// clone lays out a checkout of this module at root/work/clone with a package
// folder, and returns the package folder (where tests run).
func clone(t *testing.T, root string) string {
	t.Helper()
	pkg := filepath.Join(root, "work", "clone", "faketwilio")
	if err := os.MkdirAll(pkg, 0o700); err != nil {
		t.Fatal(err)
	}
	mod := "module github.com/supportdesk/ivr\n\ngo 1.26\n"
	if err := os.WriteFile(filepath.Join(root, "work", "clone", "go.mod"), []byte(mod), 0o600); err != nil {
		t.Fatal(err)
	}
	return pkg
}

func placeSpec(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "shared", "specs", "twilio", "twilio_api_v2010.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSpecIsFoundOnlyWhereDocumented(t *testing.T) {
	t.Setenv(faketwilio.SpecEnv, "")
	root := t.TempDir()
	pkg := clone(t, root)
	// A shared/ two folders up (beside work/, not beside the clone) is not
	// the project's: it is not used.
	placeSpec(t, root)
	t.Chdir(pkg)
	_, err := faketwilio.DefaultSpecPath()
	if !errors.Is(err, faketwilio.ErrNoSpec) {
		t.Fatalf("DefaultSpecPath with shared/ only above the clone's parent: %v, want ErrNoSpec", err)
	}
	for _, want := range []string{"IVR_TWILIO_SPEC=/path/to/twilio_api_v2010.json", "--spec", "shared/ folder beside the clone"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "Options.SpecPath") {
		t.Errorf("error %q names a Go option", err)
	}

	// shared/ beside the clone is found, from the package folder and the root.
	want := placeSpec(t, filepath.Join(root, "work"))
	for _, dir := range []string{pkg, filepath.Dir(pkg)} {
		t.Chdir(dir)
		got, err := faketwilio.DefaultSpecPath()
		if err != nil || got != want {
			t.Errorf("DefaultSpecPath in %s = %q, %v; want %q", dir, got, err, want)
		}
	}

	// The environment wins.
	t.Setenv(faketwilio.SpecEnv, "/elsewhere/twilio_api_v2010.json")
	if got, err := faketwilio.DefaultSpecPath(); err != nil || got != "/elsewhere/twilio_api_v2010.json" {
		t.Errorf("DefaultSpecPath with %s set = %q, %v", faketwilio.SpecEnv, got, err)
	}
}

func TestStartWithoutSpecSkipsUnlessRequired(t *testing.T) {
	t.Setenv(faketwilio.SpecEnv, "")
	t.Chdir(clone(t, t.TempDir()))

	t.Setenv(faketwilio.SpecRequireEnv, "")
	tb := &fakeTB{}
	errs := fails(tb, func() { faketwilio.Start(tb, faketwilio.Options{}) })
	if len(tb.skips) != 1 || len(errs) != 0 || !strings.Contains(tb.skips[0], "IVR_TWILIO_SPEC=") || !strings.Contains(tb.skips[0], "IVR_TEST_SPEC=require") {
		t.Errorf("Start without a spec: skips %q, errors %q; want one skip saying what to set", tb.skips, errs)
	}

	t.Setenv(faketwilio.SpecRequireEnv, "require")
	tb = &fakeTB{}
	errs = fails(tb, func() { faketwilio.Start(tb, faketwilio.Options{}) })
	if len(tb.skips) != 0 || len(errs) != 1 || !strings.Contains(errs[0], "IVR_TWILIO_SPEC=") {
		t.Errorf("Start without a spec, IVR_TEST_SPEC=require: skips %q, errors %q; want one failure", tb.skips, errs)
	}
}

// TestUncheckedWithoutSpec: with no spec at hand, an unchecked fake still
// serves its API behind the account's credentials.
func TestUncheckedWithoutSpec(t *testing.T) {
	t.Setenv(faketwilio.SpecEnv, "")
	t.Chdir(clone(t, t.TempDir()))
	a := startApp(t, testToken)
	a.twiml("/voice", `<Response><Hangup/></Response>`)
	s := start(t, a, faketwilio.Options{Unchecked: true})
	rc := faketwilio.RESTClient(s)
	p := &api.CreateCallParams{}
	p.SetTo(engineer).SetFrom(ourLine).SetUrl(a.URL + "/voice")
	created, err := rc.Api.CreateCall(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rc.Api.FetchCall(*created.Sid, nil); err != nil || *got.Sid != *created.Sid {
		t.Fatalf("FetchCall: %v %+v", err, got)
	}
	s.Phone(engineer).ExpectCall()

	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/2010-04-01/Accounts/"+s.AccountSID()+"/Calls.json", nil)
	req.SetBasicAuth(s.AccountSID(), "wrong")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong credentials: %d, want 401", res.StatusCode)
	}
	if u := s.TakeUnexpected(); len(u) != 1 || !strings.Contains(u[0], "credentials") {
		t.Errorf("unexpected after wrong credentials: %q", u)
	}
}
