package store_test

import (
	"fmt"
	"testing"

	"github.com/supportdesk/ivr/store/storetest"
)

// BenchmarkCallState measures one webhook's worth of call-state work on
// SQLite: read the state, then write it back with compare-and-swap.
//
//	go test -run '^$' -bench CallState ./store/
func BenchmarkCallState(b *testing.B) {
	db := storetest.OpenSQLite(b)
	ctx := b.Context()
	data := []byte(fmt.Sprintf(`{"state":%q}`, make([]byte, 2000)))
	if err := db.CreateCallState(ctx, "CA1", data); err != nil {
		b.Fatal(err)
	}
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := db.CallState(ctx, "CA1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("update", func(b *testing.B) {
		_, v, err := db.CallState(ctx, "CA1")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if v, err = db.UpdateCallState(ctx, "CA1", v, data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
