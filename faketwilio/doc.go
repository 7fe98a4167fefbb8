// Package faketwilio is a test and demo double of Twilio's REST API
// (2010-04-01: Calls, Messages, Recordings) and of the webhooks Twilio sends
// back: voice URL fetches, <Gather> actions, status callbacks and inbound SMS,
// all signed with X-Twilio-Signature.
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
//
// It imports no domain package of this module, and no domain package may
// import it except from tests.
package faketwilio
