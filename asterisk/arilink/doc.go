// Package arilink owns the connection to Asterisk's ARI for the ARI
// driver: the ARI library's native client (github.com/CyCoreSystems/ari/v5
// v5.3.1) connected through an in-process relay on 127.0.0.1 that keeps
// the library's traps from the rest of the process; the bounded request
// and 404 test every user of the library needs (Request, NotFound); and
// the rule by which Asterisk dials a phone number (CheckDialing,
// Endpoint), which the driver's engineer legs and page calls share. It imports no domain
// package; the driver (package asterisk) and page calls (pagecall) use
// it.
//
// The traps, each handled here:
//
//   - An event type the library does not know (Asterisk 22 sends
//     ApplicationRegistered, ChannelToneDetected, ChannelTransfer … that
//     v5.3.1 lacks; see KnownEvents), or a known one it fails to decode,
//     makes its client drop the websocket and send a nil event to its bus,
//     which panics the process once anything subscribes. The relay runs
//     the library's own decoder on every message from Asterisk and passes
//     on only what it decodes; the rest is dropped, counted (Dropped) and
//     logged at debug level. At every connection the application's
//     eventFilter (PUT /applications/{name}/eventFilter) asks Asterisk
//     itself for the known types only; the filter is lost when Asterisk
//     restarts and events come before it is set, hence the relay too.
//   - Its bus (stdbus) holds 100 events per subscription and drops, without
//     a word, those that find it full: under a burst (hundreds of calls
//     hung up at once) the driver lost StasisEnd events and served calls
//     whose channels were gone. The Link's client has a bus of the Link's
//     instead, fed by the relay with the events it has decoded, which
//     queues what a subscriber has not taken yet and never drops; the
//     library's own bus, which its handles' Subscribe methods use, gets
//     nothing (subscribe on Client().Bus()).
//   - Its Connect blocks while Asterisk is down, and its reconnections are
//     silent. Run connects in the background with a capped backoff, Ready
//     says since when Asterisk is not connected (for /readyz), and
//     Config.OnConnect learns of each (re)connection, before any event of
//     it reaches the bus, so that the driver subscribes and compares the
//     channels in Stasis with its calls without missing an event.
//   - Its HTTP client has no timeout (RequestTimeout is declared, unused)
//     and its websocket dial none either. Its REST requests go through the
//     relay, which bounds each by RequestTimeout; the relay's own dials
//     and writes are bounded, and Asterisk's websocket is pinged so that a
//     dead connection is noticed.
//   - Its Close races with its reconnecting goroutine (both write a field
//     unsynchronised), and that goroutine sleeps a second between failed
//     attempts. Run's end brings the goroutine to the relay first, so that
//     it ends at once and no goroutine of the library outlives Run.
//   - Only one websocket holds an application: a newer one takes it and
//     the older gets ApplicationReplaced. The Link reports it in Ready and
//     does not take the application back (two instances would take it
//     from each other for ever).
//
// Its client is never made by native.Connect, which writes a field the
// reconnecting goroutine reads; its Connected method races the same way
// (use Ready). The library's environment variables (ARI_URL …, named by
// the Env constants) are read by the command that wires the Link, as
// defaults of its flags (only commands read the environment): the Link
// takes settings.
package arilink
