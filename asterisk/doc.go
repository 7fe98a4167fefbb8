// Package asterisk owns the ARI driver: it answers the support lines that
// an Asterisk hands over to a Stasis application, and runs each caller's
// channel through the provider-neutral call flow in ivr/ (one goroutine per
// call), rendering its steps with ARI: prompts as playbacks of the sounds
// catalogue installed where Asterisk reads it, digit collection from DTMF
// events (a key stops the prompt), music on hold, engineer legs as
// originated channels that enter the same application, a mixing bridge for
// the caller and the engineer who accepted, and voicemail recorded by
// Asterisk and copied into the service's store.
//
// It holds no call-flow rule: those live in ivr/. It imports the domain
// packages (ivr, oncall) and github.com/CyCoreSystems/ari/v5; the domain
// never imports it. Each call's flow state is kept in the store
// (CallStates) after every event, with compare-and-swap as the Twilio
// driver does, so that a restarted process can find the calls it served.
//
// How one call maps onto ARI:
//
//   - the dialplan sends the caller's channel into the application with the
//     arguments "line,<E.164>" (see internal/asterisktest and asterisk/conf);
//     an engineer leg the driver originates enters it with "leg,<leg id>",
//     and its channel id is the leg id;
//   - every event of the application comes through one subscription of the
//     client's bus (Run), drained at once and routed by the ids the driver
//     chose (channels, playbacks, recordings, bridges) to the call's own
//     queue, so that no subscription ever fills and drops events;
//   - a step's prompts are played one after the other ("sound:<dir>/<lang>/
//     <name>"); during a Gather a key stops the prompt playing and the
//     prompts after it, and the keys are collected until the terminator,
//     MaxDigits keys, or Timeout without a key;
//   - every ARI request is bounded by Config.RequestTimeout;
//   - when Run starts, and after each reconnection (Reconcile), the driver
//     catches up with what it could not see: a call whose channel, leg or
//     prompt ended in the gap goes on as the lost event would have had it,
//     and a caller left in the application by a process that stopped is
//     taken up from its state in the store (resume.go).
package asterisk
