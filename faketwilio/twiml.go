package faketwilio

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strings"
)

// TwiML is a document the service answered a webhook with.
type TwiML struct {
	// URL is where it was fetched ("" for Twiml given inline).
	URL string
	// Status is the HTTP status of the answer (0 for inline Twiml).
	Status int
	// Body is the raw document.
	Body string
	// Root is the parsed <Response>; nil if Body is not XML.
	Root *Node
}

// Node is one element of a TwiML document.
type Node struct {
	Name     string
	Attrs    map[string]string
	Text     string // character data directly inside the element, trimmed
	Children []*Node
}

// Attr returns the attribute name, or "".
func (n *Node) Attr(name string) string {
	if n == nil {
		return ""
	}
	return n.Attrs[name]
}

func parseTwiML(src, body string, status int) (*TwiML, error) {
	t := &TwiML{URL: src, Status: status, Body: body}
	dec := xml.NewDecoder(strings.NewReader(body))
	var stack []*Node
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return t, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &Node{Name: tok.Name.Local, Attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else if t.Root == nil {
				t.Root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.Text = strings.TrimSpace(n.Text)
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(bytes.Clone(tok))
			}
		}
	}
	if t.Root == nil || t.Root.Name != "Response" {
		return t, errors.New("not a TwiML <Response> document")
	}
	return t, nil
}

// Find returns every element named name, depth first.
func (t *TwiML) Find(name string) []*Node {
	var out []*Node
	var walk func(n *Node)
	walk = func(n *Node) {
		if n == nil {
			return
		}
		if n.Name == name {
			out = append(out, n)
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	if t != nil {
		walk(t.Root)
	}
	return out
}

// First returns the first element named name, or nil.
func (t *TwiML) First(name string) *Node {
	if f := t.Find(name); len(f) > 0 {
		return f[0]
	}
	return nil
}

// Has reports whether the document holds an element named name, at any
// depth.
func (t *TwiML) Has(name string) bool { return t.First(name) != nil }

// Gather returns the document's <Gather>, or nil.
func (t *TwiML) Gather() *Node { return t.First("Gather") }

// Says returns the text of every <Say>, nested ones included, in order.
func (t *TwiML) Says() []string {
	var out []string
	for _, n := range t.Find("Say") {
		out = append(out, n.Text)
	}
	return out
}

// Plays returns the URL of every <Play>, in order.
func (t *TwiML) Plays() []string {
	var out []string
	for _, n := range t.Find("Play") {
		out = append(out, n.Text)
	}
	return out
}

// HangsUp reports whether the document ends the call (<Hangup> or <Reject>).
func (t *TwiML) HangsUp() bool { return t.First("Hangup") != nil || t.First("Reject") != nil }

// String returns the raw document.
func (t *TwiML) String() string {
	if t == nil {
		return "<nil TwiML>"
	}
	return t.Body
}

// verbs are the top-level verbs Twilio executes in order.
func (t *TwiML) verbs() []*Node {
	if t == nil || t.Root == nil {
		return nil
	}
	return t.Root.Children
}

// blocking returns the first top-level verb that waits for the caller or
// moves the call elsewhere (Gather, Record, Dial, Redirect, Hangup, Reject),
// which is where the fake stops executing the document.
func (t *TwiML) blocking() *Node {
	for _, v := range t.verbs() {
		switch v.Name {
		case "Gather", "Record", "Dial", "Redirect", "Hangup", "Reject", "Enqueue", "Connect":
			return v
		}
	}
	return nil
}

// rest is the document from the verb after n on, as Twilio goes on after a
// verb that finished without a request (Body stays the whole document).
func (t *TwiML) rest(n *Node) *TwiML {
	out := &TwiML{URL: t.URL, Status: t.Status, Body: t.Body, Root: &Node{Name: "Response", Attrs: map[string]string{}}}
	vs := t.verbs()
	for i, v := range vs {
		if v == n {
			out.Root.Children = vs[i+1:]
		}
	}
	return out
}

// resolve makes ref absolute against the document's URL, as Twilio does for
// relative action and Redirect URLs; "" resolves to the document's URL.
func (t *TwiML) resolve(ref string) (string, error) {
	if t.URL == "" {
		if ref == "" {
			return "", errors.New("inline Twiml has no URL to post back to")
		}
		return ref, absoluteURL(ref)
	}
	base, err := url.Parse(t.URL)
	if err != nil {
		return "", err
	}
	u, err := base.Parse(ref)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
