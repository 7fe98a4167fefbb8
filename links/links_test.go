package links

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLinks(t *testing.T) {
	s, err := New(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	tok := s.Token("ack", "17:3", now.Add(time.Hour))
	if got, err := s.Check("ack", tok, now); err != nil || got != "17:3" {
		t.Fatalf("Check = %q, %v; want the subject", got, err)
	}
	if _, err := s.Check("ack", tok, now.Add(time.Hour)); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: %v, want ErrExpired", err)
	}
	if _, err := s.Check("recording", tok, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("another purpose: %v, want ErrInvalid", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Check("ack", tok, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("another key: %v, want ErrInvalid", err)
	}
	forged := "18:3" + tok[len("17:3"):]
	if _, err := s.Check("ack", forged, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("another subject under the same signature: %v, want ErrInvalid", err)
	}
	for _, bad := range []string{"", "x", "a.b", "..", "17:3.zz.", tok + "x"} {
		if _, err := s.Check("ack", bad, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("Check(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := New(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was taken")
	}
}

// The key is read from its hex or base64 forms; a short or garbled one is
// refused with an error naming where it comes from.
func TestParseKey(t *testing.T) {
	hexKey := strings.Repeat("ab", 32)
	for in, wantLen := range map[string]int{
		"":     0,
		hexKey: 32,
		"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=": 32,
		"q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s":  32,
		" " + hexKey + "\n":                            32,
	} {
		got, err := ParseKey(in)
		if err != nil || len(got) != wantLen {
			t.Errorf("ParseKey(%q) = %d bytes, %v; want %d", in, len(got), err, wantLen)
		}
	}
	for _, in := range []string{strings.Repeat("ab", 16), "not a key at all", "q6urq6ur"} {
		if _, err := ParseKey(in); err == nil || !strings.Contains(err.Error(), "IVR_LINK_KEY") {
			t.Errorf("ParseKey(%q): %v, want an error naming IVR_LINK_KEY", in, err)
		}
	}
}
