// Package webhooks owns the Twilio voice driver: the webhooks Twilio calls
// for the support lines (the caller's call, the engineer legs, status and
// recording callbacks, the Fallback URL), their signature checks, the TwiML
// answers rendered with twilio-go's twiml package, and the outbound engineer
// calls made through twilio-go's REST client. It translates between Twilio
// and the provider-neutral call flow in ivr/ and keeps each call's flow
// state in a store (CallStates) between webhooks, so that any instance can
// answer any webhook.
//
// It holds no call-flow rule: those live in ivr/. The domain packages (ivr,
// oncall) never import this package; it imports them.
//
// How one call maps onto Twilio:
//
//   - the menus are <Gather>s whose action URLs carry the flow's step
//     number (seq), so that a webhook Twilio repeats re-renders the stored
//     answer instead of advancing the call twice;
//   - on hold the caller waits in a queue of its own (<Enqueue>), whose wait
//     URL plays hold music in short segments and delivers the flow's Ticks;
//   - each engineer is called through the REST API (Calls.create) with the
//     line's number as caller id and hears the screening <Gather>; the one
//     who presses 1 is bridged to the caller with <Dial><Queue>;
//   - a caller step decided by another party's webhook (voicemail after the
//     last engineer declined, goodbye after the recording) is applied at
//     once by redirecting the live call through the REST API, and the wait
//     URL answers <Leave/> as a second path;
//   - a voicemail is fetched from Twilio once its recording status callback
//     says it is complete, saved by the service (Recordings) and deleted at
//     Twilio.
package webhooks
