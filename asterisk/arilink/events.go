package arilink

import (
	"encoding/json"
	"reflect"
	"slices"

	"github.com/CyCoreSystems/ari/v5"
)

// known is the set of event types ari/v5 decodes, computed once from the
// library itself (see KnownEvents).
var known = knownEvents()

// KnownEvents returns the event types the ARI library (ari/v5 v5.3.1)
// can decode, sorted: the fields of ari.Events that its DecodeEvent
// accepts. Every other type (Asterisk 22's ApplicationRegistered,
// ChannelToneDetected, ChannelTransfer …) would make its native client
// drop the websocket and send a nil event to its bus, which panics.
func KnownEvents() []string { return slices.Clone(known) }

// Known reports whether the ARI library can decode events of type typ.
func Known(typ string) bool {
	_, found := slices.BinarySearch(known, typ)
	return found
}

func knownEvents() []string {
	var types []string
	v := reflect.ValueOf(ari.Events)
	for i := range v.NumField() {
		typ, ok := v.Field(i).Interface().(string)
		if !ok || typ == "" || typ == ari.Events.All {
			continue
		}
		// DecodeEvent's switch, not the list of names, is what counts.
		if _, err := ari.DecodeEvent([]byte(`{"type":"` + typ + `"}`)); err == nil {
			types = append(types, typ)
		}
	}
	slices.Sort(types)
	return slices.Compact(types)
}

// decode decodes message data with the library's own decoder, as its
// native client would, returning the event and its type, or an error
// where the client would fail (and then drop the websocket, and send a
// nil or half-decoded event to its bus). typ is what the message says
// its type is, for the log, even when err is not nil.
func decode(data []byte) (e ari.Event, typ string, err error) {
	e, err = ari.DecodeEvent(data)
	if err == nil {
		return e, e.GetType(), nil
	}
	var m struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(data, &m) // for the log only: the error is DecodeEvent's
	return nil, m.Type, err
}
