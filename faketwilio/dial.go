package faketwilio

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// maxRedirects bounds <Redirect> chains, as Twilio does.
const maxRedirects = 10

// execute requests TwiML for call c from target with the voice webhook
// parameters plus extra, then runs the answer.
func (s *Server) execute(c *call, method, target string, extra url.Values) (*TwiML, error) {
	doc, err := s.fetchCallTwiML(c, method, target, extra)
	if err != nil {
		return doc, err
	}
	return s.run(c, doc)
}

func (s *Server) fetchTwiML(c *call, method, target string, extra url.Values) (*TwiML, error) {
	s.mu.Lock()
	p := s.callParams(c)
	s.mu.Unlock()
	for k, v := range extra {
		p[k] = v
	}
	r, err := s.send(context.Background(), method, target, p)
	if err != nil {
		code := codeHTTPRetrieval
		if r.status == 0 {
			code = codeHTTPConnection
		}
		return nil, &webhookError{code: code, url: target, err: err}
	}
	doc, err := parseTwiML(r.url, r.body, r.status)
	if err != nil {
		return doc, &webhookError{code: codeDocumentParse, url: target, err: fmt.Errorf("%s answered no TwiML (%v): %.200s", target, err, r.body)}
	}
	return doc, nil
}

// run executes doc for call c up to its first verb that waits or moves the
// call: it follows <Redirect> and places the child call of a <Dial>. The
// document reached becomes the call's current TwiML.
func (s *Server) run(c *call, doc *TwiML) (*TwiML, error) {
	for hops := 0; ; hops++ {
		s.mu.Lock()
		c.last = doc
		s.mu.Unlock()
		verb := doc.blocking()
		switch {
		case verb == nil:
			return doc, nil
		case verb.Name == "Dial":
			for _, n := range verb.Children {
				if n.Name == "Queue" {
					return s.dialQueue(c, doc, verb, n)
				}
			}
			return doc, s.startDial(c, doc, verb)
		case verb.Name == "Enqueue":
			return s.enqueue(c, doc, verb)
		case verb.Name != "Redirect":
			return doc, nil
		case hops == maxRedirects:
			return doc, fmt.Errorf("more than %d <Redirect>s", maxRedirects)
		}
		target, err := doc.resolve(verb.Text)
		if err != nil {
			return doc, fmt.Errorf("<Redirect>: %w", err)
		}
		if doc, err = s.fetchCallTwiML(c, orDefault(verb.Attr("method"), http.MethodPost), target, nil); err != nil {
			return doc, err
		}
	}
}

// dialState links a child call placed by <Dial> to its parent.
type dialState struct {
	parent *call
	doc    *TwiML // the parent's document holding the <Dial>
	verb   *Node
}

// startDial places the child call of <Dial> (one <Number>, or a number as
// text). It is delivered to the dialled Phone like any outbound call.
func (s *Server) startDial(parent *call, doc *TwiML, dial *Node) error {
	number := &Node{Attrs: map[string]string{}, Text: dial.Text}
	for _, n := range dial.Children {
		switch {
		case n.Name == "Number" && number.Name == "":
			number = n
		case n.Name == "Number":
			return fmt.Errorf("faketwilio dials one <Number> per <Dial>")
		default:
			return fmt.Errorf("faketwilio does not implement <Dial><%s>", n.Name)
		}
	}
	if number.Text == "" {
		return fmt.Errorf("<Dial> with no number")
	}
	child := &call{
		sid:                  newSID("CA"),
		parentSid:            parent.sid,
		from:                 orDefault(dial.Attr("callerId"), parent.from),
		to:                   number.Text,
		direction:            "outbound-dial",
		method:               orDefault(number.Attr("method"), http.MethodPost),
		statusCallbackMethod: orDefault(number.Attr("statusCallbackMethod"), http.MethodPost),
		events:               map[string]bool{},
		timeout:              30,
		status:               "queued",
		endedByAPI:           make(chan struct{}),
		dial:                 &dialState{parent: parent, doc: doc, verb: dial},
	}
	var err error
	if u := number.Attr("url"); u != "" {
		if child.url, err = doc.resolve(u); err != nil {
			return fmt.Errorf("<Number url>: %w", err)
		}
	}
	if u := number.Attr("statusCallback"); u != "" {
		if child.statusCallback, err = doc.resolve(u); err != nil {
			return fmt.Errorf("<Number statusCallback>: %w", err)
		}
	}
	for _, ev := range strings.Fields(number.Attr("statusCallbackEvent")) {
		child.events[ev] = true
	}
	if len(child.events) == 0 {
		child.events["completed"] = true
	}
	if t, err := strconv.Atoi(dial.Attr("timeout")); err == nil {
		child.timeout = t
	}
	now := s.now()
	child.created, child.updated = now, now // started when dialled
	s.mu.Lock()
	s.calls[child.sid] = child
	s.callList = append(s.callList, child)
	s.notifyLocked()
	s.mu.Unlock()
	s.log.Info("dialling", zap.String(keyCallSid, child.sid), zap.String(keyParentCall, parent.sid), zap.String(keyTo, child.to))
	return nil
}

// dialDone reports the end of a <Dial> child to its parent, if the parent is
// still live: the <Dial> action gets DialCallStatus, DialCallSid and
// DialCallDuration, or without an action the parent's TwiML goes on after
// the <Dial>. The parent's new TwiML is its CallHandle.TwiML().
func (s *Server) dialDone(child *call) error {
	ds := child.dial
	if ds == nil {
		return nil
	}
	s.mu.Lock()
	live := ds.parent.status == "in-progress"
	status, dur := child.status, child.duration()
	s.mu.Unlock()
	if !live {
		return nil
	}
	action := ds.verb.Attr("action")
	if action == "" {
		_, err := s.run(ds.parent, ds.doc.rest(ds.verb))
		return err
	}
	target, err := ds.doc.resolve(action)
	if err != nil {
		return fmt.Errorf("<Dial action>: %w", err)
	}
	_, err = s.execute(ds.parent, orDefault(ds.verb.Attr("method"), http.MethodPost), target, url.Values{
		"DialCallStatus":   {status},
		"DialCallSid":      {child.sid},
		"DialCallDuration": {strconv.Itoa(dur)},
	})
	return err
}
