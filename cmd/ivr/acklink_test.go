package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var ackLinkRE = regexp.MustCompile(`https?://\S+/a/\S+`)

// fetch makes a request with no token, as a phone's browser (or a link
// previewer) does.
func fetch(t *testing.T, method, url string) (int, string) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, url, body)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestPageLinkAcknowledged: the engineer misses the page call; the text
// that follows ends with their link. Opening it (as a link previewer
// would) shows the page and leaves it open; its button's POST
// acknowledges it, by link, as that engineer.
func TestPageLinkAcknowledged(t *testing.T) {
	r := startPagerRig(t)
	name, phone := r.onCall("L1", "primary")
	p := r.raise("urgent", "VPN drops every few minutes")

	r.fake.Phone(phone).ExpectCall().NoAnswer()
	sms := r.fake.Phone(phone).ExpectSMS(fmt.Sprint(p.ID))
	link := ackLinkRE.FindString(sms.Body())
	if !strings.HasPrefix(link, r.base+"/a/") || !strings.HasSuffix(sms.Body(), link) {
		t.Fatalf("the text %q does not end with a link to %s/a/…", sms.Body(), r.base)
	}

	for range 2 {
		code, body := fetch(t, http.MethodGet, link)
		if code != http.StatusOK || !strings.Contains(body, `method="post"`) || !strings.Contains(body, "VPN drops every few minutes") {
			t.Fatalf("GET the link: %d\n%s", code, body)
		}
	}
	if got := r.page(p.ID); got.Status != "open" {
		t.Fatalf("the page after GETs of its link: %s, want open", got.Status)
	}
	if code, _ := fetch(t, http.MethodHead, link); code != http.StatusOK || r.page(p.ID).Status != "open" {
		t.Fatalf("HEAD the link: %d, page %s; want 200 and still open", code, r.page(p.ID).Status)
	}

	code, body := fetch(t, http.MethodPost, link)
	if code != http.StatusOK || strings.Contains(body, "<form") {
		t.Fatalf("POST the link: %d\n%s", code, body)
	}
	got := r.page(p.ID)
	if got.Status != "acknowledged" || got.AckedByName != name || got.AckVia != "link" {
		t.Errorf("page after the button: %+v, want acknowledged by %s by link", got, name)
	}
	// A link changed by a character acknowledges nothing.
	if code, body := fetch(t, http.MethodPost, link[:len(link)-1]+"A"+link[len(link)-1:]); code != http.StatusNotFound ||
		!bytes.Contains([]byte(body), []byte("not valid")) {
		t.Errorf("a changed link: %d, want 404 saying it is not valid", code)
	}
	r.fake.Phone(phone).ExpectNothing()
}
