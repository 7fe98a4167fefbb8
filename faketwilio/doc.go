// Package faketwilio is a test and demo double of Twilio's REST API
// (2010-04-01: Calls create, fetch, update and list; Messages create, fetch
// and list; Recordings fetch and delete, and their media; IncomingPhoneNumbers
// and OutgoingCallerIds list) and of the
// webhooks Twilio sends back: voice URL fetches, <Gather> and <Record>
// actions, <Redirect>, <Dial> (one <Number>, or <Queue>), <Enqueue> wait
// URLs, call and message status callbacks, answering machine detection
// results, recording status callbacks and inbound SMS, all signed with
// X-Twilio-Signature.
//
// Every request is checked against Twilio's official OpenAPI description,
// loaded at run time (never copied into this repository), so the fake accepts
// only what the real service accepts. Anything it rejects, cannot serve, or
// did not expect is recorded and fails the test that owns the server. It
// serves on loopback only, sends callbacks to loopback only and never contacts
// Twilio.
//
// Tests script the far end of the line GoAlert-style:
//
//	s := faketwilio.Start(t, faketwilio.Options{SMSWebhookURL: app.URL + "/sms"})
//	call := s.Phone("+12025550101").ExpectCall()
//	call.Answer()
//	call.Press("1")
//	call.Hangup()
//	s.Phone("+12025550101").ExpectSMS("ticket 42").ThenReply("ack")
//	s.Phone("+12025550101").ExpectNothing()
//
// What the fake does by itself and what the test scripts:
//
//   - A call stays queued until the test acts: Ring, Answer (as a human,
//     AnswerByMachine, AnswerByFax, AnswerUndetected, AnswerAs), NoAnswer,
//     Busy or Fail post the subscribed status callbacks (initiated first,
//     with SequenceNumber) and fetch the TwiML; Hangup ends it. Only after
//     the service ends or redirects a call through the API does the fake
//     send callbacks in the background.
//   - A message is reported "sent" by itself once the create answer is out
//     (Twilio posts no callback for the initial queued or accepted status);
//     delivery is the test's (MessageHandle.Delivered, Undelivered, Failed),
//     or automatic with Options.AutoDeliver.
//   - Numbers can be marked so that creating a message or call to them
//     fails as Twilio answers it, with HTTP 400: Device.OptOut (21610),
//     Invalid (21211), Landline (21614), NoSMSPermission (21408),
//     NoVoicePermission (21215).
//   - Calls come only from the account's numbers (Options.Numbers and
//     ServiceNumber) or its verified caller ids (Options.VerifiedCallerIDs),
//     texts only from its numbers or a Messaging Service; any other From is
//     refused as Twilio refuses it, with HTTP 400 (21210, 21606).
//   - Inbound opt-out, opt-in and help keywords (Device.SendSMS) are handled
//     as Twilio does for long codes: opt-out state, Twilio's own reply,
//     the webhook still delivered (with OptOutType under
//     Options.AdvancedOptOut).
//   - Faults (Inject) make requests fail, answer late or leave them in
//     doubt; DropCallbacks loses status callbacks on the way;
//     HoldCallbacks and ReleaseCallbacks deliver a call's status and AMD
//     callbacks out of order.
//   - <Gather> submits at numDigits or finishOnKey; Press is keys then
//     silence, Type keys alone, Silence the timeout (submitting what was
//     typed, or going on after the <Gather>).
//   - <Dial><Queue> to an empty queue waits for the next caller to enter
//     it, or until DialTimesOut (DialCallStatus no-answer); to a queue that
//     does not exist it ends with failed. A REST redirect of a queued call
//     posts its <Enqueue> action with QueueResult redirected first.
//   - Machine detection can give up (AnswerUndetected), take a person for
//     a machine (AnswerPersonAsMachine) or, with AsyncAmd, come late
//     (AnswerAMDLate, SendAMD).
//   - A call's TwiML request that fails (non-2xx, no connection or no
//     answer within Options.WebhookTimeout, 15 s, or no TwiML) goes to its
//     Fallback URL (FallbackUrl, or Options.VoiceFallbackURL inbound) with
//     ErrorCode and ErrorUrl; the failure is still recorded as unexpected.
//
// It imports no domain package of this module, and no domain package may
// import it except from tests.
package faketwilio
