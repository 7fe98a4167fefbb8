// Package pager owns pages: their life from the event that raised one to
// its acknowledgement, and the outbox through which every request to the
// outside world is made. A page's life is a pure state machine (Apply: an
// event in, the page changed and the outbox entries it wants out), driven
// by the escalation policy of its priority; the Engine makes it durable
// and timely over a Store, carrying out attempts through Channels (voice,
// SMS, ticket notes) off the webhook path.
//
// It is a domain package: it imports no transport, provider or database
// package. The Twilio driver (webhooks/) implements its channels, the
// store (store/) its Store.
package pager
