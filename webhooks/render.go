package webhooks

import (
	"net/url"
	"strconv"

	"github.com/twilio/twilio-go/twiml"

	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/sounds"
)

// The TwiML documents, rendered with twilio-go's twiml package by
// documents, a pure renderer: from a flow step, the public base URL and
// the number of hold-music segments to a document, with no state, no
// store and no provider behind it. Every URL given to Twilio is absolute,
// under Config.PublicURL.

// documents renders the driver's TwiML.
type documents struct {
	base         string // Config.PublicURL without its trailing slash
	holdSegments int    // how many pieces the hold music is served in
}

// Paths of the webhooks.
const (
	prefix        = "/webhooks/twilio"
	pathVoice     = prefix + "/voice"          // Voice URL of each number
	pathGather    = prefix + "/voice/gather"   // a menu's <Gather> action
	pathWait      = prefix + "/voice/wait"     // <Enqueue waitUrl>: hold music, Ticks
	pathHoldKey   = prefix + "/voice/holdkey"  // the wait URL's <Gather> action: a key on hold
	pathDequeued  = prefix + "/voice/dequeued" // <Enqueue action>
	pathStep      = prefix + "/voice/step"     // where a live call is redirected
	pathConnect   = prefix + "/voice/connect"  // <Queue url>: the caller is bridged
	pathRecorded  = prefix + "/voice/recorded" // <Record action>
	pathStatus    = prefix + "/voice/status"   // the number's status callback
	pathLegs      = prefix + "/legs/"          // {leg}/answer, /screen, /step, /status
	pathRecording = prefix + "/recordings"     // recordingStatusCallback
	pathFallback  = prefix + "/fallback"       // Fallback URL of each number
	pathHold      = prefix + "/hold/"          // {n}.wav: hold music segments
)

// link is the absolute URL of path with the step number seq (if > 0).
func (d documents) link(path string, seq int) string {
	if seq <= 0 {
		return d.base + path
	}
	return d.base + path + "?seq=" + strconv.Itoa(seq)
}

func (d documents) legLink(legID, what string, seq int) string {
	return d.link(pathLegs+url.PathEscape(legID)+"/"+what, seq)
}

// plays renders prompts as <Play> of their recorded audio. New refuses to
// start when a catalogue prompt has no recording, so none is skipped; there
// is no <Say> fallback, which would speak Russian with no voice Twilio
// accepts.
func (d documents) plays(ps []ivr.Prompt) []twiml.Element {
	out := make([]twiml.Element, 0, len(ps))
	for _, p := range ps {
		if path, ok := sounds.URLPath(string(p.Lang), p.Name); ok {
			out = append(out, &twiml.VoicePlay{Url: d.base + path})
		}
	}
	return out
}

// render turns verbs into a document. twiml.Voice only fails if the XML
// cannot be written to memory, which cannot happen; the fallback is a
// valid, empty document all the same.
func render(verbs ...twiml.Element) string {
	s, err := twiml.Voice(verbs)
	if err != nil {
		return `<?xml version="1.0" encoding="UTF-8"?><Response/>`
	}
	return s
}

// gather renders a Gather step posting to action: a fall-through
// <Redirect> to the same action follows, in case Twilio moves on without
// posting (it posts empty Digits with actionOnEmptyResult).
func (d documents) gather(g ivr.Gather, action string) string {
	v := &twiml.VoiceGather{
		Input:               "dtmf",
		Action:              action,
		Method:              "POST",
		Timeout:             strconv.Itoa(seconds(g.Timeout)),
		NumDigits:           strconv.Itoa(max(1, g.MaxDigits)),
		ActionOnEmptyResult: "true",
		InnerElements:       d.plays(g.Prompts),
	}
	if g.Terminator != "" {
		v.FinishOnKey = g.Terminator
	}
	return render(v, &twiml.VoiceRedirect{Url: action, Method: "POST"})
}

// queueDialTimeout is how long an engineer's <Dial><Queue> waits for a
// caller in the call's queue, in seconds.
const queueDialTimeout = "10"

// queueName is the call's own queue.
func queueName(callSid string) string { return "q-" + callSid }

// enqueue renders prompts, then the caller waiting in its queue.
func (d documents) enqueue(callSid string, ps []ivr.Prompt, seq int) string {
	verbs := append(d.plays(ps), &twiml.VoiceEnqueue{
		Name:          queueName(callSid),
		WaitUrl:       d.link(pathWait, 0),
		WaitUrlMethod: "POST",
		Action:        d.link(pathDequeued, seq),
		Method:        "POST",
	})
	return render(verbs...)
}

// record renders a Record step: the tone, at most MaxLength, the
// recording reported to the recording callback when complete (or absent).
func (d documents) recordDoc(r ivr.Record, seq int) string {
	action := d.link(pathRecorded, seq)
	verbs := append(d.plays(r.Prompts), &twiml.VoiceRecord{
		Action:                        action,
		Method:                        "POST",
		MaxLength:                     strconv.Itoa(seconds(r.MaxLength)),
		Timeout:                       "5",
		FinishOnKey:                   "#",
		PlayBeep:                      "true",
		RecordingStatusCallback:       d.link(pathRecording, seq),
		RecordingStatusCallbackMethod: "POST",
		RecordingStatusCallbackEvent:  "completed absent",
	}, &twiml.VoiceRedirect{Url: action, Method: "POST"})
	return render(verbs...)
}

func (d documents) hangup(ps []ivr.Prompt) string {
	return render(append(d.plays(ps), &twiml.VoiceHangup{})...)
}

// callerDoc renders the caller's step issued at seq; ok false for a step
// that is no document of its own (a progress message on hold).
func (d documents) callerDoc(callSid string, s ivr.Step, seq int, phaseBefore ivr.Phase) (doc, bool) {
	switch s := s.(type) {
	case ivr.Gather:
		return doc{Seq: seq, Kind: kindGather, TwiML: d.gather(s, d.link(pathGather, seq))}, true
	case ivr.Hold:
		if phaseBefore == ivr.PhaseRouting {
			return doc{}, false // a progress message: played by the wait URL
		}
		return doc{Seq: seq, Kind: kindHold, TwiML: d.enqueue(callSid, nil, seq)}, true
	case ivr.Play:
		return doc{Seq: seq, Kind: kindHold, TwiML: d.enqueue(callSid, nil, seq)}, true
	case ivr.Connect:
		return doc{Seq: seq, Kind: kindConnect, TwiML: render(d.plays(s.Prompts)...)}, true
	case ivr.Record:
		return doc{Seq: seq, Kind: kindRecord, TwiML: d.recordDoc(s, seq)}, true
	case ivr.Hangup:
		return doc{Seq: seq, Kind: kindHangup, TwiML: d.hangup(s.Prompts)}, true
	}
	return doc{}, false
}

// legDoc renders an engineer leg's step issued at seq.
func (d documents) legDoc(callSid, legID string, s ivr.Step, seq, callerSeq int) doc {
	switch s := s.(type) {
	case ivr.Gather:
		return doc{Seq: seq, Kind: kindGather, TwiML: d.gather(s, d.legLink(legID, "screen", seq))}
	case ivr.Connect:
		// The engineer takes the caller out of the call's queue; the
		// caller hears its Connect prompts from <Queue url> first. A queue
		// the caller has just left makes the <Dial> wait for a member:
		// the caller's hang-up redirects the leg to say so, and should
		// that redirect be lost the engineer is hung up after
		// queueDialTimeout instead of Twilio's 30 s of silence.
		dial := &twiml.VoiceDial{Timeout: queueDialTimeout, InnerElements: []twiml.Element{&twiml.VoiceQueue{
			Name: queueName(callSid), Url: d.link(pathConnect, callerSeq), Method: "POST"}}}
		return doc{Seq: seq, Kind: kindConnect, TwiML: render(append(d.plays(s.Prompts), dial, &twiml.VoiceHangup{})...)}
	case ivr.Hangup:
		return doc{Seq: seq, Kind: kindHangup, TwiML: d.hangup(s.Prompts)}
	case ivr.Play:
		return doc{Seq: seq, Kind: kindHangup, TwiML: d.hangup(s.Prompts)}
	}
	return doc{Seq: seq, Kind: kindHangup, TwiML: d.hangup(nil)}
}

// wait renders one turn of the wait URL: a message, then a segment of
// hold music; Twilio requests the wait URL again when it has played. With
// keys, the turn is a <Gather> of one key posting to the hold-key action
// (Twilio takes <Gather> in wait URL TwiML): a key interrupts the music,
// which otherwise plays to its end and is followed by the shortest silence
// <Gather> allows (timeout, 1 s) before the document ends; no action is
// requested then.
func (d documents) wait(msg []ivr.Prompt, seg int, keys bool) string {
	verbs := d.plays(msg)
	verbs = append(verbs, &twiml.VoicePlay{Url: d.base + pathHold + strconv.Itoa(seg%d.holdSegments) + ".wav"})
	if !keys {
		return render(verbs...)
	}
	return render(&twiml.VoiceGather{
		Input:         "dtmf",
		Action:        d.link(pathHoldKey, 0),
		Method:        "POST",
		Timeout:       "1",
		NumDigits:     "1",
		InnerElements: verbs,
	})
}

func leave() string { return render(&twiml.VoiceLeave{}) }
