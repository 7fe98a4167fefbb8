package main

import (
	"context"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/webhooks"
)

// The Twilio settings come from the environment, each overridden by its
// flag, with Twilio's API and a 5 s timeout by default.
func TestTwilioSettings(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		env, _, _ := testEnv(map[string]string{
			"IVR_PUBLIC_URL": "https://ivr.example.com/", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tok",
			"IVR_TWILIO_API_URL": "http://127.0.0.1:8089", "IVR_TWILIO_TIMEOUT": "2s",
		})
		s, err := twilioFromEnv(env)
		want := webhooks.Settings{PublicURL: "https://ivr.example.com", AccountSID: "AC1", AuthToken: "tok",
			APIURL: "http://127.0.0.1:8089", RESTTimeout: 2 * time.Second}
		if err != nil || s != want {
			t.Errorf("twilioFromEnv = %+v, %v; want %+v", s, err, want)
		}
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		registerTwilioFlags(fs, &s)
		if err := fs.Parse([]string{"--twilio-timeout", "3s", "--twilio-account-sid", "AC2"}); err != nil {
			t.Fatal(err)
		}
		if s.RESTTimeout != 3*time.Second || s.AccountSID != "AC2" || s.AuthToken != "tok" {
			t.Errorf("after flags: %+v; want the flags' timeout and account, the environment's token", s)
		}
	})

	t.Run("Defaults", func(t *testing.T) {
		env, _, _ := testEnv(nil)
		s, err := twilioFromEnv(env)
		if err != nil || s != (webhooks.Settings{APIURL: webhooks.DefaultAPIURL, RESTTimeout: 5 * time.Second}) {
			t.Errorf("twilioFromEnv of an empty environment = %+v, %v", s, err)
		}
	})

	t.Run("ErrTimeout", func(t *testing.T) {
		for _, v := range []string{"soon", "0s", "-1s"} {
			env, _, _ := testEnv(map[string]string{"IVR_TWILIO_TIMEOUT": v})
			err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, env)
			if errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error(), "IVR_TWILIO_TIMEOUT") || !strings.Contains(err.Error(), "positive duration") {
				t.Errorf("serve with IVR_TWILIO_TIMEOUT=%s: %v; want an invalid-field error naming IVR_TWILIO_TIMEOUT", v, err)
			}
		}
	})
}

// Only the commands read the process environment: library packages take
// their configuration as parameters, so a setting is named and parsed in
// one place. The exceptions are test hooks that tests in other packages
// reach through a helper package.
func TestOnlyCommandsReadTheEnvironment(t *testing.T) {
	testHooks := map[string]string{ // file: function, why it may
		"internal/pgtest/pgtest.go:URL":                      "IVR_TEST_POSTGRES=require: CI fails instead of skipping",
		"faketwilio/serve.go:SkipWithoutSpec":                "IVR_TEST_SPEC=require: CI fails instead of skipping",
		"faketwilio/spec.go:DefaultSpecPath":                 "IVR_TWILIO_SPEC: where tests find Twilio's description",
		"internal/rttest/rttest.go:Start":                    "IVR_TEST_RT=require: CI fails instead of skipping",
		"internal/rttest/rttest.go:create":                   "the test RT's own processes inherit the environment (PATH, Perl's), plus its site config",
		"internal/browsertest/browsertest.go:Start":          "IVR_CHROMIUM names the browser; IVR_TEST_BROWSER=require: CI fails instead of skipping",
		"internal/asterisktest/asterisktest.go:Start":        "IVR_TEST_ASTERISK=require: CI fails instead of skipping",
		"internal/asterisktest/asterisktest.go:find":         "IVR_ASTERISK_PREFIX: any Asterisk install instead of the cached build",
		"internal/asterisktest/asterisktest.go:cachedPrefix": "IVR_CACHE and HOME: where .ci/build-asterisk keeps its build",
		"internal/asterisktest/shared.go:SpecEvents":         "IVR_TEST_ASTERISK=require: a missing events.json fails instead of skipping",
		"internal/asterisktest/sipp.go:startUA":              "IVR_TEST_ASTERISK=require: a missing sipp fails instead of skipping",
	}
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (rel == "cmd" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			if why, ok := testHooks[rel+":"+fn.Name.Name]; ok {
				t.Logf("%s:%s reads the environment: %s", rel, fn.Name.Name, why)
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && x.Name == "os" {
						switch n.Sel.Name {
						case "Getenv", "LookupEnv", "Environ", "ExpandEnv":
							t.Errorf("%s: %s calls os.%s; read the environment in cmd/ivr and pass the value", fset.Position(n.Pos()), fn.Name.Name, n.Sel.Name)
						}
					}
				case *ast.Field:
					for _, name := range n.Names {
						if strings.Contains(strings.ToLower(name.Name), "getenv") {
							t.Errorf("%s: %s takes %s, an environment look-up; take the settings instead", fset.Position(n.Pos()), fn.Name.Name, name.Name)
						}
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
