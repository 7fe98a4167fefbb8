package conf_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/asterisktest"
)

func TestMain(m *testing.M) { os.Exit(asterisktest.Main(m)) }

// channel is the part of ARI's channel the tests read.
type channel struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	State    string `json:"state"`
	Dialplan struct {
		Context string `json:"context"`
		Exten   string `json:"exten"`
		AppName string `json:"app_name"`
		AppData string `json:"app_data"`
	} `json:"dialplan"`
}

// TestSamples runs a real Asterisk on the sample configuration and phones
// the lines through it as an operator's callers would: from the softphone
// (registered, with its password) and from the carrier (by its address,
// the number with or without its +, or only in the To header), into the
// first application connected of ivr, ivr-2, ivr-3 with the line as its
// argument; an engineer's leg originated through the trunk, authenticated
// with the trunk's credentials; with no application connected, the
// voicemail box after our own prompts in the line's language, also when
// the emergency number cannot be reached.
func TestSamples(t *testing.T) {
	rig := asterisktest.Start(t) // finds the Asterisk install, or skips
	p := startSamples(t, rig.Prefix)
	eventsURL := "ws://127.0.0.1:" + strconv.Itoa(p.httpPort) + "/ari/events"
	connect := func(t *testing.T, app string) <-chan asterisktest.Event {
		return asterisktest.WatchEvents(t, eventsURL, "ivr", p.ariPassword, app, func() bool {
			return p.mustARI(t, http.MethodGet, "/applications/"+app, nil) == http.StatusOK
		})
	}
	gone := func(t *testing.T, apps ...string) {
		for _, app := range apps {
			waitFor(t, 10*time.Second, "end of application "+app, func() bool {
				return p.mustARI(t, http.MethodGet, "/applications/"+app, nil) == http.StatusNotFound
			})
		}
	}
	noChannels := func(t *testing.T) {
		var chans []channel
		waitFor(t, 15*time.Second, "end of every channel", func() bool {
			p.mustARI(t, http.MethodGet, "/channels", &chans)
			return len(chans) == 0
		})
	}
	// intoStasis answers and hangs up the call that entered app's
	// Stasis, after checking its arguments, name and place in the
	// dialplan (context: the endpoint's, which includes ivr-lines).
	intoStasis := func(t *testing.T, ch <-chan asterisktest.Event, app, namePrefix, context, line string, caller *ua) {
		t.Helper()
		start := asterisktest.NextEvent(t, ch, "StasisStart")
		if start.Application != app || strings.Join(start.Args, ",") != "line,"+line {
			t.Errorf("StasisStart of %s with args %q, want %s with [line %s]", start.Application, start.Args, app, line)
		}
		if !strings.HasPrefix(start.Channel.Name, namePrefix) || start.Channel.Dialplan.Exten != line || start.Channel.Dialplan.Context != context {
			t.Errorf("channel %s at %s,%s, want %s… at %s,%s", start.Channel.Name, start.Channel.Dialplan.Context, start.Channel.Dialplan.Exten, namePrefix, context, line)
		}
		p.mustARI(t, http.MethodPost, "/channels/"+start.Channel.ID+"/answer", nil)
		if code := p.mustARI(t, http.MethodDelete, "/channels/"+start.Channel.ID, nil); code != http.StatusNoContent {
			t.Errorf("hang up: %d", code)
		}
		caller.wait(t)
		noChannels(t)
	}

	t.Run("loaded", func(t *testing.T) {
		dialplan := p.cli(t, "dialplan show ivr-lines")
		for _, line := range []string{"+74996383867", "+12025952118"} {
			for _, app := range []string{"ivr", "ivr-2", "ivr-3"} {
				if want := "Stasis(" + app + ",line," + line + ")"; !strings.Contains(dialplan, want) {
					t.Errorf("dialplan show ivr-lines lacks %s:\n%s", want, dialplan)
				}
			}
		}
		for _, ctx := range []string{"from-trunk", "from-softphone"} {
			if out := p.cli(t, "dialplan show "+ctx); !strings.Contains(out, "Include =>        'ivr-lines'") {
				t.Errorf("dialplan show %s: does not include ivr-lines:\n%s", ctx, out)
			}
		}
		endpoints := p.cli(t, "pjsip show endpoints")
		for _, ep := range []string{"Endpoint:  trunk", "Endpoint:  softphone"} {
			if !strings.Contains(endpoints, ep) {
				t.Errorf("pjsip show endpoints lacks %q:\n%s", ep, endpoints)
			}
		}
		if out := p.cli(t, "moh show files"); !strings.Contains(out, "Class: default") || !strings.Contains(out, filepath.Join(p.sounds, "hold")) {
			t.Errorf("moh show files:\n%s\nwant class default playing %s", out, filepath.Join(p.sounds, "hold"))
		}
		// A wrong ARI password is refused.
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.ariURL()+"/asterisk/info", nil)
		req.SetBasicAuth("ivr", "CHANGE-ME-ari-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the placeholder password: %d, want 401", resp.StatusCode)
		}
	})

	t.Run("softphone registers", func(t *testing.T) {
		p.sipp(t, "register.xml", "softphone", "-au", "softphone", "-ap", p.softphoneSecret).wait(t)
		if out := p.cli(t, "pjsip show contacts"); !strings.Contains(out, "softphone/sip:softphone@127.0.0.1") {
			t.Errorf("pjsip show contacts: softphone not registered:\n%s", out)
		}
		// With a wrong password, the second REGISTER is refused too and
		// sipp's scenario fails.
		bad := p.sipp(t, "register.xml", "softphone", "-au", "softphone", "-ap", "wrong")
		<-bad.done
		if bad.err == nil {
			t.Error("a REGISTER with a wrong password was accepted")
		}
	})

	t.Run("softphone calls Washington", func(t *testing.T) {
		ch := connect(t, "ivr")
		caller := p.sipp(t, "softphone-call.xml", "softphone", "-s", "+12025952118", "-au", "softphone", "-ap", p.softphoneSecret)
		intoStasis(t, ch, "ivr", "PJSIP/softphone-", "from-softphone", "+12025952118", caller)
	})

	t.Run("carrier call to the number without + into the third application", func(t *testing.T) {
		gone(t, "ivr")
		ch := connect(t, "ivr-3")
		caller := p.sipp(t, "call.xml", "+15550002222", "-s", "74996383867", "-key", "to_user", "74996383867")
		intoStasis(t, ch, "ivr-3", "PJSIP/trunk-", "from-trunk", "+74996383867", caller)
	})

	t.Run("carrier call with the number in To only", func(t *testing.T) {
		ch := connect(t, "ivr-2")
		caller := p.sipp(t, "call.xml", "+15550003333", "-s", "ivr-trunk", "-key", "to_user", "+12025952118")
		intoStasis(t, ch, "ivr-2", "PJSIP/trunk-", "ivr-lines", "+12025952118", caller)
	})

	// A stranger (neither the carrier's address nor the softphone's
	// password) is challenged and gets no further.
	t.Run("stranger refused", func(t *testing.T) {
		ch := connect(t, "ivr")
		stranger := p.sipp(t, "call.xml", "+15550006666", "-s", "+12025952118", "-key", "to_user", "+12025952118", "-i", "127.0.0.2", "-mi", "127.0.0.2")
		<-stranger.done
		if stranger.err == nil || !strings.Contains(stranger.out.String(), "SIP/2.0 401 Unauthorized") {
			t.Errorf("a call from 127.0.0.2 was not challenged: sipp %v\n%s", stranger.err, stranger.out.String())
		}
		select {
		case e := <-ch:
			t.Errorf("the stranger's call reached the application: %s of %s", e.Type, e.Channel.Name)
		default:
		}
		noChannels(t)
	})
	// Asterisk does not answer an INVITE whose credentials are wrong (the
	// caller gives up after its retransmissions): its log says it refused it.
	t.Run("softphone with a wrong password refused", func(t *testing.T) {
		const refused = "failed for '127.0.0.1:"
		before := strings.Count(p.log(), refused)
		impostor := p.sipp(t, "softphone-call.xml", "softphone", "-s", "+12025952118", "-au", "softphone", "-ap", "wrong")
		waitFor(t, 10*time.Second, "Asterisk's refusal of the wrong password", func() bool {
			return strings.Count(p.log(), refused) > before && strings.Contains(p.log(), "Failed to authenticate")
		})
		select {
		case <-impostor.done:
			if impostor.err == nil {
				t.Error("a call with a wrong password went through")
			}
		default: // still retransmitting its INVITE; stopped when the test ends
		}
		noChannels(t)
	})

	// The driver rings an engineer through the trunk: an originate to
	// PJSIP/<number>@trunk reaches the carrier's address with the
	// number, answers its challenge with the trunk's credentials, and the
	// answered leg enters the application.
	t.Run("engineer leg through the carrier", func(t *testing.T) {
		ch := connect(t, "ivr")
		scenario, err := os.ReadFile(filepath.Join("testdata", "carrier-uas.xml"))
		if err != nil {
			t.Fatal(err)
		}
		text := carrierCredentials.Replace(string(scenario))
		carrier := p.sippAt(t, p.carrierPort, "carrier-uas.xml", text, "carrier")
		var leg channel
		code := p.mustARI(t, http.MethodPost, "/channels?"+url.Values{
			"endpoint": {"PJSIP/+79161234567@trunk"}, "app": {"ivr"}, "appArgs": {"leg,engineer-1"},
			"callerId": {"+12025952118"}, "timeout": {"20"},
		}.Encode(), &leg)
		if code != http.StatusOK {
			t.Fatalf("originate: %d", code)
		}
		start := asterisktest.NextEvent(t, ch, "StasisStart")
		if start.Channel.ID != leg.ID || strings.Join(start.Args, ",") != "leg,engineer-1" || !strings.HasPrefix(start.Channel.Name, "PJSIP/trunk-") {
			t.Errorf("StasisStart of %s (%s) with %q, want the leg %s with [leg engineer-1]", start.Channel.ID, start.Channel.Name, start.Args, leg.ID)
		}
		p.mustARI(t, http.MethodDelete, "/channels/"+leg.ID, nil)
		carrier.wait(t)
		msgs := carrier.messages(t)
		for _, want := range []string{
			"INVITE sip:+79161234567@127.0.0.1:" + strconv.Itoa(p.carrierPort) + " SIP/2.0",
			`Authorization: Digest username="CHANGE-ME-carrier-username", realm="carrier"`,
			"From: <sip:+12025952118@",                // the originate's caller id,
			"P-Asserted-Identity: <sip:+12025952118@", // asserted too (send_pai)
		} {
			if !strings.Contains(msgs, want) {
				t.Errorf("the carrier received no %q; its messages:\n%s", want, msgs)
			}
		}
		noChannels(t)
	})

	// No application connected: the caller hears our prompts in the
	// line's language, then is left in the voicemail box.
	voicemail := func(t *testing.T, from, number, lang string) {
		t.Helper()
		gone(t, "ivr", "ivr-2", "ivr-3")
		caller := p.sipp(t, "call.xml", from, "-s", number, "-key", "to_user", number)
		var found channel
		waitFor(t, 40*time.Second, "the caller in VoiceMail(support@default)", func() bool {
			var chans []channel
			p.mustARI(t, http.MethodGet, "/channels", &chans)
			for _, c := range chans {
				if c.Dialplan.AppName == "VoiceMail" {
					found = c
					return true
				}
			}
			return false
		})
		if !strings.HasPrefix(found.Dialplan.AppData, "support@default") || found.State != "Up" {
			t.Errorf("channel %s %s in VoiceMail(%s), want up, in support@default", found.Name, found.State, found.Dialplan.AppData)
		}
		log := p.log()
		for _, prompt := range []string{"technical_difficulties", "leave_message"} {
			if want := "Playing '" + filepath.Join(p.sounds, lang, prompt) + "."; !strings.Contains(log, want) {
				t.Errorf("Asterisk's log has no %q", want)
			}
		}
		if strings.Contains(log, "Unable to open "+p.sounds) || strings.Contains(log, "File "+p.sounds) {
			t.Errorf("Asterisk could not play one of our prompts:\n%s", p.logTail())
		}
		p.mustARI(t, http.MethodDelete, "/channels/"+found.ID, nil)
		caller.wait(t)
		noChannels(t)
	}
	t.Run("nobody connected: voicemail after our prompts", func(t *testing.T) {
		voicemail(t, "+15550004444", "+74996383867", "ru")
	})
	t.Run("emergency number unreachable: voicemail", func(t *testing.T) {
		set := func(v string) {
			if code := p.mustARI(t, http.MethodPost, "/asterisk/variable?"+url.Values{"variable": {"FALLBACK"}, "value": {v}}.Encode(), nil); code != http.StatusNoContent {
				t.Fatalf("set FALLBACK: %d", code)
			}
		}
		set("PJSIP/nobody-there")
		t.Cleanup(func() { set("") })
		voicemail(t, "+15550005555", "+12025952118", "en")
		if log := p.log(); !strings.Contains(log, "Dial(\"PJSIP/trunk-") || !strings.Contains(log, "PJSIP/nobody-there") {
			t.Errorf("no Dial of the emergency number in Asterisk's log")
		}
	})

	// Registered to the carrier's registrar with the trunk's credentials
	// (which it checked). Asterisk registers 1 to 10 s after its start,
	// so this is checked last.
	t.Run("trunk registered", func(t *testing.T) {
		waitFor(t, 30*time.Second, "the trunk registered", func() bool {
			out := p.cli(t, "pjsip show registrations")
			return strings.Contains(out, "trunk-registration/sip:127.0.0.1:"+strconv.Itoa(p.registrarPort)) && strings.Contains(out, "Registered")
		})
		p.registrar.wait(t)
	})
}
