// Package pagecall owns the pager's page calls through Asterisk: a
// pager.Channel of kind voice that originates a channel to the engineer's
// number through a dial string (PJSIP/{phone}@trunk, the driver's
// setting) into a Stasis application of its own (DefaultApp, "ivr-pager"),
// so that paging goes on when Twilio cannot be reached. It also owns
// Fallback, the voice channel that tries a primary (Twilio) and, when the
// primary certainly made no request, this one.
//
// A page call goes as the Twilio driver's does (webhooks/pager_voice.go):
// when the engineer answers, pager.PageCallPrompts (after the count of the
// pages it announces, for a storm), played from the sounds installed by
// `ivr asterisk sounds --dir DIR` as sound:DIR/<lang>/<name>; a key stops
// the prompt (barge-in); 1 ends the attempt acknowledged (the engine's
// AttemptEnded with pager.Acked, which acknowledges the page by voice for
// the attempt's engineer and every page the call announced), then thanks
// and hangs up, or, on a page a client's call raised, offers "press 3 to
// call the client back" and bridges the engineer with the client
// (callback.go); no 1 after Repeats times ends it answered-no-key; no
// answer within the ring time, busy, or a failed channel end it so. A
// call that carries the code confirming a number (pager.PurposeCode) says
// the code and hangs up.
//
// How it is told apart from the support lines: its channels enter their
// own application (the driver's is "ivr"), with the Stasis arguments
// "page,<attempt id>", and their ids start with "ivr-page-<attempt id>-",
// which Find looks for when an attempt is in doubt. The driver never sees
// them, nor they the driver's. The application needs its own ARI
// connection (an arilink.Link of its own: one websocket holds one
// application).
//
// After a reconnection to ARI (Reconcile) each call looks at its channel,
// since the events of the gap are lost: a channel gone ends the attempt
// (Asterisk hangs up a call answered while its application has no
// websocket), one answered unseen is served.
//
// Each call has one goroutine and its own subscription to the bus,
// subscribed before the originate is executed, drained at once into the
// call's queue and cancelled when the call ends; Run waits for them all.
// Every ARI request is bounded by Config.RequestTimeout.
package pagecall
