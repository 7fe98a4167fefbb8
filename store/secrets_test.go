package store_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// TestSecret: a secret is made once and every caller after that, at once
// or later, gets the same bytes; another name gets other bytes.
func TestSecret(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		const n = 8
		got := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); got[i], errs[i] = db.Secret(ctx, "link-key", 32) }()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Secret, caller %d: %v", i, errs[i])
			}
			if len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
				t.Fatalf("callers at once got different secrets: %x and %x", got[0], got[i])
			}
		}
		if bytes.Equal(got[0], make([]byte, 32)) {
			t.Fatal("the secret is all zeros")
		}
		again, err := db.Secret(ctx, "link-key", 32)
		if err != nil || !bytes.Equal(again, got[0]) {
			t.Errorf("Secret later = %x, %v; want %x", again, err, got[0])
		}
		other, err := db.Secret(ctx, "other", 32)
		if err != nil || bytes.Equal(other, got[0]) {
			t.Errorf("Secret(other) = %x, %v; want other bytes than link-key's", other, err)
		}
		if _, err := db.Secret(ctx, "link-key", 16); err == nil {
			t.Error("Secret(link-key, 16) of a 32-byte secret: no error")
		}
	})
}
