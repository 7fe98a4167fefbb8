package store_test

import (
	"testing"
	"time"

	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/errs"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// callRecord is a connected call that started at start.
func callRecord(id, ticket string, start time.Time) ivr.CallRecord {
	answered := start.Add(40 * time.Second)
	end := start.Add(5 * time.Minute)
	return ivr.CallRecord{
		CallID: id, Line: "+12025952118", Caller: "+12025550150",
		Language: oncall.English, LanguageFrom: "chosen",
		TicketID: ticket, TicketFrom: "caller", Priority: oncall.Urgent, Level: oncall.L2,
		StartedAt: start, EndedAt: end, Duration: end.Sub(start),
		EngineerID: 7, EngineerName: "Olga Petrova", EngineerPhone: "+12025550121", AnsweredAt: answered,
		Rang:    []int64{5, 7},
		Outcome: ivr.OutcomeConnected,
		Steps: []ivr.Entry{
			{At: start, Kind: "start", Detail: "line Washington"},
			{At: answered, Kind: "answered", Detail: "Olga Petrova"},
		},
		Note: "Phone call to the Washington line.\nAnswered by Olga Petrova.",
	}
}

func TestCallLog(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			r1 := callRecord("CA01", "1001", t0)
			r2 := callRecord("CA02", "", t0.Add(time.Hour))
			r2.TicketFrom, r2.Outcome, r2.EngineerID, r2.EngineerName, r2.EngineerPhone = "", ivr.OutcomeVoicemail, 0, "", ""
			r2.AnsweredAt, r2.VoicemailURL, r2.VoicemailSeconds, r2.Paged = time.Time{}, "/api/v1/recordings/RE02", 31, true
			r3 := callRecord("CA03", "1001", t0.Add(2*time.Hour))
			for _, r := range []ivr.CallRecord{r1, r2, r3} {
				if err := db.SaveCall(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			got, err := db.Call(ctx, "CA02")
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Call", got, r2)

			for _, c := range []struct {
				name string
				f    calls.Filter
				want []ivr.CallRecord
			}{
				{"All", calls.Filter{}, []ivr.CallRecord{r3, r2, r1}},
				{"Ticket", calls.Filter{TicketID: "1001"}, []ivr.CallRecord{r3, r1}},
				{"Before", calls.Filter{Before: r3.StartedAt}, []ivr.CallRecord{r2, r1}},
				{"TicketBefore", calls.Filter{TicketID: "1001", Before: r3.StartedAt}, []ivr.CallRecord{r1}},
				{"Limit", calls.Filter{Limit: 1}, []ivr.CallRecord{r3}},
				{"NoMatch", calls.Filter{TicketID: "9999"}, nil},
			} {
				list, err := db.Calls(ctx, c.f)
				if err != nil {
					t.Fatal(err)
				}
				equal(t, "Calls "+c.name, list, c.want)
			}
		})
	})

	t.Run("SavedAgain", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			ctx := t.Context()
			first := callRecord("CA01", "1001", t0)
			if err := db.SaveCall(ctx, first); err != nil {
				t.Fatal(err)
			}
			// The page went through on a retry: the record says so now,
			// in the list and looked up by its ticket.
			again := first
			again.Paged = true
			if err := db.SaveCall(ctx, again); err != nil {
				t.Fatalf("second SaveCall: %v, want nil", err)
			}
			list, err := db.Calls(ctx, calls.Filter{TicketID: "1001"})
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Calls", list, []ivr.CallRecord{again})
		})
	})

	t.Run("Err", func(t *testing.T) {
		storetest.Backends(t, func(t *testing.T, db *store.DB) {
			_, err := db.Call(t.Context(), "CA404")
			wantErr(t, err, errs.NotFound, "")
			wantErr(t, db.SaveCall(t.Context(), ivr.CallRecord{StartedAt: t0}), errs.Invalid, "call_id")
		})
	})
}

func TestPageRequests(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		p1 := ivr.PageRequest{CallID: "CA01", TicketID: "1001", Priority: oncall.Critical, Level: oncall.L3,
			VoicemailURL: "/api/v1/recordings/RE01", VoicemailSeconds: 42, Line: "+74996383867",
			Caller: "+12025550150", RequestedAt: t0}
		if err := db.RequestPage(ctx, p1); err != nil {
			t.Fatal(err)
		}
		// One page per call: a second request for CA01 changes nothing.
		if err := db.RequestPage(ctx, ivr.PageRequest{CallID: "CA01", Priority: oncall.Low, Level: oncall.L1, RequestedAt: t0.Add(time.Hour)}); err != nil {
			t.Fatalf("second RequestPage: %v, want nil", err)
		}
		// Level 0 means L1; a priority the flow never sets is paged as normal.
		p2 := ivr.PageRequest{CallID: "CA02", Priority: "", Line: "+12025952118", RequestedAt: t0.Add(time.Minute)}
		if err := db.RequestPage(ctx, p2); err != nil {
			t.Fatal(err)
		}
		list, err := db.PageRequests(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID <= list[1].ID {
			t.Fatalf("PageRequests = %+v, want 2, newest first", list)
		}
		equal(t, "PageRequests", list, []calls.PageRecord{
			{ID: list[0].ID, CallID: "CA02", Priority: oncall.Normal, Level: oncall.L1, Line: "+12025952118",
				RequestedAt: t0.Add(time.Minute), Status: calls.PageRequested},
			{ID: list[1].ID, CallID: "CA01", TicketID: "1001", Priority: oncall.Critical, Level: oncall.L3,
				VoicemailURL: "/api/v1/recordings/RE01", VoicemailSeconds: 42, Line: "+74996383867",
				Caller: "+12025550150", RequestedAt: t0, Status: calls.PageRequested},
		})
		list, err = db.PageRequests(ctx, 1)
		if err != nil || len(list) != 1 || list[0].CallID != "CA02" {
			t.Fatalf("PageRequests(1) = %+v, %v", list, err)
		}
		wantErr(t, db.RequestPage(ctx, ivr.PageRequest{Priority: oncall.Low}), errs.Invalid, "call_id")
	})
}

func TestPreferences(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		const caller = "+12025550150"
		if l, ok, err := db.Language(ctx, caller); err != nil || ok {
			t.Fatalf("Language before any choice = %q, %v, %v; want none", l, ok, err)
		}
		for _, want := range []oncall.Language{oncall.Russian, oncall.English} {
			if err := db.SetLanguage(ctx, caller, want); err != nil {
				t.Fatal(err)
			}
			l, ok, err := db.Language(ctx, caller)
			if err != nil || !ok || l != want {
				t.Fatalf("Language = %q, %v, %v; want %q", l, ok, err, want)
			}
		}
		if _, ok, _ := db.Language(ctx, "+12025550151"); ok {
			t.Fatal("another caller has a language")
		}
		wantErr(t, db.SetLanguage(ctx, caller, "de"), errs.Invalid, "language")
		wantErr(t, db.SetLanguage(ctx, " ", oncall.English), errs.Invalid, "caller")
	})
}
