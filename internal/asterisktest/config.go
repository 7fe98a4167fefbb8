package asterisktest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/supportdesk/ivr/sounds"
)

// modules is what modules.conf loads (autoload is off): required ones
// stop Asterisk from starting when they fail to load, so a broken install
// shows at once instead of as a mysterious test failure; the others are
// loaded when present. With autoload off Asterisk loads no dependency on
// its own, so they are listed too (res_pjproject, res_sorcery_*,
// res_ari_model, res_pjsip_pubsub for chan_pjsip). app_voicemail (the
// dialplan's fallback) and res_mwi_external (ARI's mailboxes) exclude each
// other; the voicemail is loaded.
var modules = struct{ required, optional []string }{
	required: []string{
		"res_pjproject", "res_sorcery_config", "res_sorcery_memory", "res_sorcery_astdb",
		"res_sorcery_memory_cache", "res_ari_model",
		"res_pjsip", "res_pjsip_session", "res_pjsip_pubsub", "chan_pjsip", "res_pjsip_sdp_rtp", "res_rtp_asterisk",
		"res_pjsip_endpoint_identifier_user", "res_pjsip_dtmf_info", "res_pjsip_caller_id",
		"res_http_websocket", "res_ari", "res_ari_applications", "res_ari_asterisk",
		"res_ari_bridges", "res_ari_channels", "res_ari_device_states", "res_ari_endpoints",
		"res_ari_events", "res_ari_playbacks", "res_ari_recordings", "res_ari_sounds",
		"res_stasis", "res_stasis_answer", "res_stasis_playback", "res_stasis_recording",
		"res_stasis_snoop", "res_stasis_device_state", "app_stasis",
		"res_musiconhold", "res_timing_timerfd",
		"bridge_simple", "bridge_softmix", "bridge_holding", "bridge_builtin_features",
		"chan_bridge_media", "app_dial", "app_playback", "app_record",
		"codec_ulaw", "codec_alaw", "format_wav", "format_pcm", "format_sln",
		"func_channel", "func_logic", "pbx_config",
	},
	optional: []string{
		"res_pjsip_endpoint_identifier_ip", "res_pjsip_authenticator_digest",
		"res_pjsip_outbound_authenticator_digest", "res_pjsip_header_funcs", "res_pjsip_registrar",
		"res_pjsip_outbound_registration", "res_pjsip_nat", "res_pjsip_rfc3326", "res_pjsip_diversion",
		"res_pjsip_logger", "res_stasis_broadcast", "res_websocket_client", "res_clioriginate",
		"app_senddtmf", "app_echo", "app_verbose", "app_milliwatt", "app_playtones",
		"app_voicemail", "app_exec", "app_stack", "app_read", "app_originate", "app_userevent",
		"codec_a_mu", "codec_gsm", "codec_resample", "format_gsm", "format_wav_gsm",
		"func_callerid", "func_strings", "func_global", "func_cut", "func_env",
		"func_hangupcause", "func_math", "func_db", "func_pjsip_endpoint",
	},
}

// writeConfigs writes asterisk.conf and every file it points at into
// s.dir: the configuration (etc/), and empty run, log, spool, cache and
// library folders, with the install's own data (its rest-api descriptions)
// linked into the data folder beside an empty sounds folder of the tests'
// own and the project's hold music (sounds.Hold) as the default class.
func (s *server) writeConfigs() error {
	for _, d := range []string{"etc", "run", "log", "spool", "cache", "lib", "agi", "data/sounds", "data/moh"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o750); err != nil {
			return err
		}
	}
	if s.inst.data != "" {
		entries, err := os.ReadDir(s.inst.data)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Name() == "sounds" || e.Name() == "moh" {
				continue
			}
			if err := os.Symlink(filepath.Join(s.inst.data, e.Name()), filepath.Join(s.dir, "data", e.Name())); err != nil {
				return err
			}
		}
	}
	hold, ok := sounds.Bytes("", sounds.Hold)
	if !ok {
		return errors.New("no hold music in sounds/ (go generate ./sounds/)")
	}
	if err := os.WriteFile(filepath.Join(s.dir, "data", "moh", "hold.wav"), hold, 0o600); err != nil {
		return err
	}
	files := map[string]string{
		"asterisk.conf":    s.asteriskConf(),
		"modules.conf":     modulesConf(),
		"logger.conf":      loggerConf,
		"http.conf":        fmt.Sprintf(httpConf, s.httpPort),
		"ari.conf":         fmt.Sprintf(ariConf, User, s.password),
		"pjsip.conf":       fmt.Sprintf(pjsipConf, s.sipPort),
		endpointsFile:      "",
		"rtp.conf":         fmt.Sprintf(rtpConf, s.rtpStart, s.rtpStart+rtpPorts-2),
		"extensions.conf":  extensionsConf(),
		"musiconhold.conf": fmt.Sprintf(mohConf, filepath.Join(s.dir, "data", "moh")),
		"voicemail.conf":   voicemailConf,
		"indications.conf": indicationsConf,
		"cdr.conf":         "[general]\nenable = no\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(s.dir, "etc", name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (s *server) asteriskConf() string {
	d := func(sub string) string { return filepath.Join(s.dir, sub) }
	return strings.Join([]string{
		"[directories]",
		"astetcdir => " + d("etc"),
		"astmoddir => " + s.inst.modules,
		"astvarlibdir => " + d("lib"),
		"astdbdir => " + d("lib"),
		"astkeydir => " + d("lib"),
		"astdatadir => " + d("data"),
		"astagidir => " + d("agi"),
		"astspooldir => " + d("spool"),
		"astrundir => " + d("run"),
		"astlogdir => " + d("log"),
		"astcachedir => " + d("cache"),
		"astsbindir => " + filepath.Dir(s.inst.binary),
		"",
		"[options]",
		"verbose = 3",
		"debug = 0",
		"defaultlanguage = en",
		"hideconnect = yes",
		// Hangup cause and playback errors read better without colour
		// codes in the log the tests print on failure.
		"nocolor = yes",
		"",
	}, "\n")
}

func modulesConf() string {
	var b strings.Builder
	b.WriteString("[modules]\nautoload = no\n")
	for _, m := range modules.required {
		b.WriteString("require = " + m + ".so\n")
	}
	for _, m := range modules.optional {
		b.WriteString("load = " + m + ".so\n")
	}
	return b.String()
}

const loggerConf = `[general]
dateformat = %F %T.%3q

[logfiles]
messages.log => notice,warning,error,verbose(3)
console => notice,warning,error
`

// httpConf takes the port. ARI is served under /ari.
const httpConf = `[general]
enabled = yes
bindaddr = 127.0.0.1
bindport = %d
`

// ariConf takes the user and the password.
const ariConf = `[general]
enabled = yes
pretty = no

[%s]
type = user
read_only = no
password = %s
password_format = plain
`

// endpointsFile holds the endpoints AddEndpoint writes; pjsip.conf
// includes it.
const endpointsFile = "pjsip_endpoints.conf"

// pjsipConf takes the SIP port. Endpoints are matched by the user of the
// From header (every test UA is on 127.0.0.1, so the IP tells none apart)
// and need no authentication; their media is bound to 127.0.0.1.
const pjsipConf = `[global]
type = global
user_agent = ivr-asterisktest
endpoint_identifier_order = username,ip

[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:%d

[test-ua](!)
type = endpoint
transport = transport-udp
context = ` + LinesContext + `
disallow = all
allow = ulaw,alaw
direct_media = no
rtp_symmetric = yes
force_rport = yes
rewrite_contact = no
dtmf_mode = rfc4733
identify_by = username
media_address = 127.0.0.1
bind_rtp_to_media_address = yes

#tryinclude ` + endpointsFile + `
`

// rtpConf takes the first and last RTP port.
const rtpConf = `[general]
rtpstart = %d
rtpend = %d
icesupport = no
strictrtp = no
`

// extensionsConf sends both lines into the Stasis application with the
// line as its arguments, trying each application of Apps while
// STASISSTATUS says FAILED (none connected), then the fallback: a Dial to
// the global FALLBACK if set, else the voicemail box support. Each line
// has its own copy of these steps, so that a channel in Stasis is still
// at the extension of its line (channel.dialplan.exten in ARI).
func extensionsConf() string {
	var b strings.Builder
	b.WriteString("[general]\nstatic = yes\nwriteprotect = yes\n\n[globals]\nFALLBACK =\n\n")
	b.WriteString("[" + LinesContext + "]\n")
	for _, line := range []string{Moscow, Washington} {
		fmt.Fprintf(&b, "exten => %s,1,NoOp(line %s)\n", line, line)
		for _, app := range Apps {
			fmt.Fprintf(&b, " same => n,Stasis(%s,%s,%s)\n", app, LineArg, line)
			b.WriteString(" same => n,GotoIf($[\"${STASISSTATUS}\" != \"FAILED\"]?done)\n")
		}
		b.WriteString(` same => n,GotoIf($["${FALLBACK}" = ""]?voicemail)
 same => n,Dial(${FALLBACK},30)
 same => n,Hangup()
 same => n(voicemail),VoiceMail(support@default,u)
 same => n,Hangup()
 same => n(done),Hangup()
`)
		// A trunk may deliver the number without its +.
		fmt.Fprintf(&b, "exten => %s,1,Goto(%s,1)\n\n", strings.TrimPrefix(line, "+"), line)
	}
	return b.String()
}

// mohConf takes the hold music folder.
const mohConf = `[default]
mode = files
directory = %s
`

const voicemailConf = `[general]
format = wav
attach = no

[default]
support => 0000,Support desk
`

const indicationsConf = `[general]
country = us

[us]
description = United States
ringcadence = 2000,4000
dial = 350+440
busy = 480+620/500,0/500
ring = 440+480/2000,0/4000
congestion = 480+620/250,0/250
callwaiting = 440/300,0/10000
dialrecall = !350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440
record = 1400/500,0/15000
info = !950/330,!1400/330,!1800/330,0
stutter = !350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440
`
