package store_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
	"github.com/supportdesk/ivr/webhooks"
	"github.com/supportdesk/ivr/webhooks/callstatetest"
)

// wantState fails unless call id's state is data at version.
func wantState(t *testing.T, db *store.DB, id string, data string, version int64) {
	t.Helper()
	got, v, err := db.CallState(t.Context(), id)
	if err != nil {
		t.Fatalf("CallState(%s): %v", id, err)
	}
	if string(got) != data || v != version {
		t.Fatalf("CallState(%s) = %s v%d, want %s v%d", id, got, v, data, version)
	}
}

func TestCallStates(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			if err := db.CreateCallState(ctx, "CA01", []byte(`{"phase":"language"}`)); err != nil {
				t.Fatal(err)
			}
			wantState(t, db, "CA01", `{"phase":"language"}`, 1)
			v, err := db.UpdateCallState(ctx, "CA01", 1, []byte(`{"phase":"ticket"}`))
			if err != nil || v != 2 {
				t.Fatalf("UpdateCallState = %d, %v; want 2", v, err)
			}
			wantState(t, db, "CA01", `{"phase":"ticket"}`, 2)

			// Another instance still holding version 1 loses.
			_, err = db.UpdateCallState(ctx, "CA01", 1, []byte(`{"phase":"priority"}`))
			wantErr(t, err, errs.Conflict, "")
			wantState(t, db, "CA01", `{"phase":"ticket"}`, 2)

			wantErr(t, db.CreateCallState(ctx, "CA01", []byte(`{}`)), errs.Conflict, "")
			_, _, err = db.CallState(ctx, "CA02")
			wantErr(t, err, errs.NotFound, "")
			_, err = db.UpdateCallState(ctx, "CA02", 1, []byte(`{}`))
			wantErr(t, err, errs.NotFound, "")
			wantErr(t, db.CreateCallState(ctx, "CA03", nil), errs.Invalid, "data")
			wantErr(t, db.CreateCallState(ctx, "", []byte(`{}`)), errs.Invalid, "call_id")
			_, err = db.UpdateCallState(ctx, "CA01", 2, []byte{})
			wantErr(t, err, errs.Invalid, "data")

			if err := db.DeleteCallState(ctx, "CA01"); err != nil {
				t.Fatal(err)
			}
			_, _, err = db.CallState(ctx, "CA01")
			wantErr(t, err, errs.NotFound, "")
			if err := db.DeleteCallState(ctx, "CA01"); err != nil {
				t.Fatalf("second DeleteCallState: %v", err)
			}
		})
	})

	t.Run("BinarySafe", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			data := []byte{0, 1, 2, 0xff, 0xfe, 0, '\\', 'x'}
			if err := db.CreateCallState(t.Context(), "CA01", data); err != nil {
				t.Fatal(err)
			}
			wantState(t, db, "CA01", string(data), 1)
		})
	})

	t.Run("DeleteBefore", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			for _, id := range []string{"CA01", "CA02", "CA03"} {
				if err := db.CreateCallState(ctx, id, []byte(`{}`)); err != nil {
					t.Fatal(err)
				}
			}
			setClock(db, t0.Add(2*time.Hour))
			if _, err := db.UpdateCallState(ctx, "CA02", 1, []byte(`{"x":1}`)); err != nil {
				t.Fatal(err)
			}
			n, err := db.DeleteCallStatesBefore(ctx, t0.Add(time.Hour))
			if err != nil || n != 2 {
				t.Fatalf("DeleteCallStatesBefore = %d, %v; want 2 (CA01, CA03)", n, err)
			}
			wantState(t, db, "CA02", `{"x":1}`, 2)
			_, _, err = db.CallState(ctx, "CA01")
			wantErr(t, err, errs.NotFound, "")
			if n, err := db.DeleteCallStatesBefore(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
				t.Fatalf("again: %d, %v; want 0", n, err)
			}
		})
	})
}

func TestRecordings(t *testing.T) {
	audio := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}

	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			setClock(db, t0)
			r := calls.Recording{ID: "RE0123456789abcdef", CallID: "CA01", ContentType: "audio/x-wav",
				Data: audio(1 << 20), Seconds: 42}
			if err := db.SaveRecording(ctx, r); err != nil {
				t.Fatal(err)
			}
			got, err := db.Recording(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			r.CreatedAt = t0
			if !bytes.Equal(got.Data, r.Data) {
				t.Fatalf("Recording: %d bytes differ from the %d saved", len(got.Data), len(r.Data))
			}
			equal(t, "Recording", got, r)

			// Saved once: a repeated callback keeps the first.
			again := r
			again.Data, again.Seconds = []byte("other"), 1
			if err := db.SaveRecording(ctx, again); err != nil {
				t.Fatalf("second SaveRecording: %v, want nil", err)
			}
			got, err = db.Recording(ctx, r.ID)
			if err != nil || !bytes.Equal(got.Data, r.Data) || got.Seconds != 42 {
				t.Fatalf("after a second save: %d bytes, %d s, %v; want the first kept", len(got.Data), got.Seconds, err)
			}

			given := calls.Recording{ID: "RE02", CallID: "CA02", ContentType: "audio/mpeg", Data: []byte{0, 1},
				CreatedAt: t0.Add(-time.Hour + 300*time.Nanosecond)}
			if err := db.SaveRecording(ctx, given); err != nil {
				t.Fatal(err)
			}
			got, err = db.Recording(ctx, "RE02")
			if err != nil || !got.CreatedAt.Equal(given.CreatedAt.Truncate(time.Microsecond)) {
				t.Fatalf("Recording RE02 created %s, %v; want the given time", got.CreatedAt, err)
			}
			_, err = db.Recording(ctx, "RE404")
			wantErr(t, err, errs.NotFound, "")
		})
	})

	t.Run("Retention", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			for i, created := range []time.Time{t0, t0.Add(24 * time.Hour), t0.Add(48 * time.Hour)} {
				setClock(db, created)
				r := calls.Recording{ID: fmt.Sprintf("RE%d", i), CallID: "CA", ContentType: "audio/wav", Data: audio(100)}
				if err := db.SaveRecording(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			n, err := db.DeleteRecordingsBefore(ctx, t0.Add(24*time.Hour))
			if err != nil || n != 1 {
				t.Fatalf("DeleteRecordingsBefore = %d, %v; want 1", n, err)
			}
			_, err = db.Recording(ctx, "RE0")
			wantErr(t, err, errs.NotFound, "")
			for _, id := range []string{"RE1", "RE2"} {
				if _, err := db.Recording(ctx, id); err != nil {
					t.Fatalf("Recording(%s) after retention: %v", id, err)
				}
			}
		})
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ok := calls.Recording{ID: "RE01", CallID: "CA01", ContentType: "audio/wav", Data: []byte{1}}
			for _, c := range []struct {
				mod   func(*calls.Recording)
				field string
			}{
				{func(r *calls.Recording) { r.ID = "../etc/passwd" }, "id"},
				{func(r *calls.Recording) { r.ID = "" }, "id"},
				{func(r *calls.Recording) { r.CallID = "" }, "call_id"},
				{func(r *calls.Recording) { r.ContentType = "text/html" }, "content_type"},
				{func(r *calls.Recording) { r.ContentType = "" }, "content_type"},
				{func(r *calls.Recording) { r.Data = nil }, "data"},
				{func(r *calls.Recording) { r.Seconds = -1 }, "seconds"},
			} {
				bad := ok
				c.mod(&bad)
				wantErr(t, db.SaveRecording(t.Context(), bad), errs.Invalid, c.field)
			}
		})
	})
}

// TestOpenCallStates: the sweeper sees calls idle since a given time and not
// marked finished, longest idle first.
func TestOpenCallStates(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		for i, id := range []string{"CA1", "CA2", "CA3"} {
			setClock(db, t0.Add(time.Duration(i)*time.Minute))
			if err := db.CreateCallState(ctx, id, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
		setClock(db, t0.Add(10*time.Minute))
		if err := db.FinishCallState(ctx, "CA2"); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishCallState(ctx, "CA2"); err != nil {
			t.Fatalf("finishing twice: %v", err)
		}
		if err := db.FinishCallState(ctx, "CA404"); err != nil {
			t.Fatalf("finishing an unknown call: %v", err)
		}
		got, err := db.OpenCallStates(ctx, t0.Add(150*time.Second), 10)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "[CA1 CA3]" {
			t.Errorf("open calls idle since 12:02:30 = %v, want [CA1 CA3]", got)
		}
		got, err = db.OpenCallStates(ctx, t0.Add(90*time.Second), 10)
		if err != nil || fmt.Sprint(got) != "[CA1]" {
			t.Errorf("open calls idle since 12:01:30 = %v, %v; want [CA1]", got, err)
		}
	})
}

// TestCallStatesContract runs webhooks.CallStates' contract against the
// store as serve builds it: SQLite (with its write-through cache) and
// PostgreSQL.
func TestCallStatesContract(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{store.SQLite, storetest.OpenSQLite}, {store.Postgres, storetest.OpenPostgres}} {
		t.Run(b.name, func(t *testing.T) {
			callstatetest.Run(t, func(t *testing.T) (webhooks.CallStates, func(time.Time)) {
				db := b.open(t)
				return db, func(now time.Time) { setClock(db, now) }
			})
		})
	}
}
