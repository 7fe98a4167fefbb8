package store

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkCallState measures the call-state work of webhooks on SQLite,
// with a state of the size a call in progress has (about 1.5 kB): create
// (a new call), update (compare-and-swap, each step), and reading it back
// from the write-through cache and, for comparison, from the database.
//
//	go test -run '^$' -bench CallState ./store/
func BenchmarkCallState(b *testing.B) {
	db := openMigratedSQLite(b)
	ctx := b.Context()
	data := []byte(`{"flow":{"phase":"routing","steps":"` + strings.Repeat("x", 1500) + `"}}`)
	b.Run("create", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if err := db.CreateCallState(ctx, fmt.Sprintf("CAcreate%d", i), data); err != nil {
				b.Fatal(err)
			}
		}
	})
	if err := db.CreateCallState(ctx, "CA1", data); err != nil {
		b.Fatal(err)
	}
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
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := db.CallState(ctx, "CA1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-database", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := db.storedCallState(ctx, "CA1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
