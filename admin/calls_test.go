package admin_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/supportdesk/ivr/admin"
	"github.com/supportdesk/ivr/calls"
	"github.com/supportdesk/ivr/ivr"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store"
	"github.com/supportdesk/ivr/store/storetest"
)

// callRecord is a call to the Washington line that reached voicemail.
func callRecord(id, ticket string, start time.Time) ivr.CallRecord {
	end := start.Add(3 * time.Minute)
	return ivr.CallRecord{
		CallID: id, Line: "+12025952118", Caller: "+12025550150", Language: oncall.English, LanguageFrom: "line",
		TicketID: ticket, TicketFrom: "caller", Priority: oncall.Critical, Level: oncall.L1,
		StartedAt: start, EndedAt: end, Duration: end.Sub(start), Rang: []int64{1, 2},
		VoicemailURL: "/api/v1/recordings/RE" + id, VoicemailSeconds: 20, Paged: true, Outcome: ivr.OutcomeVoicemail,
		Steps: []ivr.Entry{{At: start, Kind: "start"}, {At: end, Kind: "end", Detail: "voicemail"}},
		Note:  "Phone call to the Washington line.",
	}
}

func TestCallsAPI(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
		eng := s.engineerToken()
		t0 := mustTime(t, "2026-06-01T09:00:00Z")
		r1, r2, r3 := callRecord("CA01", "1001", t0), callRecord("CA02", "", t0.Add(time.Hour)), callRecord("CA03", "1001", t0.Add(2*time.Hour))
		for _, r := range []ivr.CallRecord{r1, r2, r3} {
			if err := db.SaveCall(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("List", func(t *testing.T) {
			for _, c := range []struct {
				query string
				want  []ivr.CallRecord
			}{
				{"", []ivr.CallRecord{r3, r2, r1}},
				{"?ticket=1001", []ivr.CallRecord{r3, r1}},
				{"?before=2026-06-01T14:00:00%2B03:00", []ivr.CallRecord{r2, r1}}, // r3 starts at 11:00Z
				{"?before=2026-06-01T13:00:00%2B03:00", []ivr.CallRecord{r1}},     // r2 starts at 10:00Z
				{"?ticket=1001&limit=1", []ivr.CallRecord{r3}},
				{"?ticket=4242", []ivr.CallRecord{}},
			} {
				r := s.do("GET", "/api/v1/calls"+c.query, eng, nil)
				if r.status != http.StatusOK {
					t.Fatalf("GET /calls%s: %d %s", c.query, r.status, r.body)
				}
				var out struct {
					Calls []ivr.CallRecord `json:"calls"`
				}
				r.decode(t, &out)
				if !reflect.DeepEqual(out.Calls, c.want) {
					t.Errorf("GET /calls%s:\n got %+v\nwant %+v", c.query, out.Calls, c.want)
				}
			}
		})

		t.Run("One", func(t *testing.T) {
			var got ivr.CallRecord
			r := s.do("GET", "/api/v1/calls/CA02", eng, nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET /calls/CA02: %d %s", r.status, r.body)
			}
			r.decode(t, &got)
			if !reflect.DeepEqual(got, r2) {
				t.Fatalf("GET /calls/CA02:\n got %+v\nwant %+v", got, r2)
			}
		})

		t.Run("Err", func(t *testing.T) {
			s.do("GET", "/api/v1/calls/CA404", eng, nil).wantError(t, http.StatusNotFound, "not_found", "")
			s.do("GET", "/api/v1/calls?before=yesterday", eng, nil).wantError(t, http.StatusBadRequest, "invalid", "before")
			s.do("GET", "/api/v1/calls?limit=5000", eng, nil).wantError(t, http.StatusBadRequest, "invalid", "limit")
			s.do("GET", "/api/v1/calls?ticket="+strings.Repeat("1", 200), eng, nil).wantError(t, http.StatusBadRequest, "invalid", "ticket")
			s.do("GET", "/api/v1/calls", "", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
			s.do("GET", "/api/v1/calls/CA01", "", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		})
	})
}

func TestRecordingsAPI(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
		eng := s.engineerToken()
		audio := append([]byte("RIFF\x00\x00\x00\x00WAVE"), bytes.Repeat([]byte{0, 0xff, 0x7f}, 1000)...)
		if err := db.SaveRecording(t.Context(), calls.Recording{ID: "RE0123abc", CallID: "CA01",
			ContentType: "audio/wav", Data: audio, Seconds: 12}); err != nil {
			t.Fatal(err)
		}

		t.Run("OK", func(t *testing.T) {
			r := s.do("GET", admin.RecordingPath("RE0123abc"), eng, nil)
			if r.status != http.StatusOK || !bytes.Equal(r.body, audio) {
				t.Fatalf("GET: %d, %d bytes; want 200 and the %d bytes saved", r.status, len(r.body), len(audio))
			}
			for k, want := range map[string]string{"Content-Type": "audio/wav", "X-Content-Type-Options": "nosniff",
				"Cache-Control": "private, no-store", "Accept-Ranges": "bytes"} {
				if got := r.header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
		})
		t.Run("Range", func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.url+"/api/v1/recordings/RE0123abc", nil)
			req.Header.Set("Authorization", "Bearer "+eng)
			req.Header.Set("Range", "bytes=4-11")
			res, err := s.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, audio[4:12]) {
				t.Fatalf("Range: %d %q", res.StatusCode, body)
			}
		})
		t.Run("ErrNoToken", func(t *testing.T) {
			r := s.do("GET", "/api/v1/recordings/RE0123abc", "", nil)
			r.wantError(t, http.StatusUnauthorized, "unauthorized", "")
			if bytes.Contains(r.body, []byte("WAVE")) {
				t.Fatal("audio served without a token")
			}
			s.do("GET", "/api/v1/recordings/RE0123abc", "ivr_forged", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
		})
		t.Run("Err", func(t *testing.T) {
			s.do("GET", "/api/v1/recordings/RE404", eng, nil).wantError(t, http.StatusNotFound, "not_found", "")
			s.do("GET", "/api/v1/recordings/RE.wav", eng, nil).wantError(t, http.StatusBadRequest, "invalid", "id")
		})
	})
}

func TestPagesAPI(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, db *store.DB) {
		s := startAPI(t, db, mustTime(t, "2026-06-01T12:00:00Z"))
		eng := s.engineerToken()
		type page struct {
			ID       int64  `json:"id"`
			Status   string `json:"status"`
			Priority string `json:"priority"`
			Level    string `json:"level"`
			Summary  string `json:"summary"`
			TicketID string `json:"ticket_id"`
			AckVia   string `json:"ack_via"`
			Deadline string `json:"deadline"`
			Log      []struct {
				What string `json:"what"`
			} `json:"log"`
		}
		var first page
		body := map[string]any{"priority": "critical", "level": "L2", "summary": "mail is down", "ticket_id": "1001", "key": "k1"}
		s.mustDo("POST", "/api/v1/pages", body, http.StatusCreated, &first)
		if first.Status != "open" || first.Level != "L2" || first.TicketID != "1001" || first.Deadline != "2026-06-01T13:00:00Z" {
			t.Errorf("raised %+v", first)
		}
		var again page
		s.mustDo("POST", "/api/v1/pages", body, http.StatusOK, &again)
		if again.ID != first.ID {
			t.Errorf("the same key raised page %d, then %d", first.ID, again.ID)
		}
		var second page
		s.mustDo("POST", "/api/v1/pages", map[string]any{"priority": "low", "summary": "a question"}, http.StatusCreated, &second)

		t.Run("ErrInput", func(t *testing.T) {
			s.do("POST", "/api/v1/pages", s.admin, map[string]any{"priority": "critical"}).wantError(t, http.StatusBadRequest, "invalid", "summary")
			s.do("POST", "/api/v1/pages", s.admin, map[string]any{"priority": "soon", "summary": "x"}).wantError(t, http.StatusBadRequest, "invalid", "priority")
			s.do("POST", "/api/v1/pages", s.admin, map[string]any{"priority": "low", "summary": "x\u0000y"}).wantError(t, http.StatusBadRequest, "invalid", "summary")
			s.do("POST", "/api/v1/pages", eng, map[string]any{"priority": "low", "summary": "x"}).wantError(t, http.StatusForbidden, "forbidden", "")
			s.do("GET", "/api/v1/pages?status=done", eng, nil).wantError(t, http.StatusBadRequest, "invalid", "status")
			s.do("GET", "/api/v1/pages?limit=-1", eng, nil).wantError(t, http.StatusBadRequest, "invalid", "limit")
			s.do("GET", "/api/v1/pages", "", nil).wantError(t, http.StatusUnauthorized, "unauthorized", "")
			s.do("GET", "/api/v1/pages/999", eng, nil).wantError(t, http.StatusNotFound, "not_found", "")
		})

		var list struct {
			Pages []page `json:"pages"`
		}
		s.mustDo("GET", "/api/v1/pages", nil, http.StatusOK, &list)
		if len(list.Pages) != 2 || list.Pages[0].ID != second.ID || list.Pages[1].ID != first.ID {
			t.Fatalf("pages %+v, want the two, newest first", list.Pages)
		}
		s.mustDo("GET", "/api/v1/pages?limit=1", nil, http.StatusOK, &list)
		if len(list.Pages) != 1 {
			t.Errorf("limit=1: %d pages", len(list.Pages))
		}

		// Nobody is on call: the page's log says so, and it waits.
		var one struct {
			Page     page             `json:"page"`
			Attempts []map[string]any `json:"attempts"`
		}
		s.mustDo("GET", "/api/v1/pages/"+fmt.Sprint(first.ID), nil, http.StatusOK, &one)
		var whats []string
		for _, e := range one.Page.Log {
			whats = append(whats, e.What)
		}
		if !slices.Contains(whats, "nobody on call") || one.Attempts == nil {
			t.Errorf("log %v, attempts %v: want nobody on call, and an empty list", whats, one.Attempts)
		}

		// An engineer acts only on pages addressed to them; an admin on any.
		s.do("POST", "/api/v1/pages/"+fmt.Sprint(first.ID)+"/ack", eng, nil).wantError(t, http.StatusForbidden, "forbidden", "")
		var acked page
		s.mustDo("POST", "/api/v1/pages/"+fmt.Sprint(first.ID)+"/ack", nil, http.StatusOK, &acked)
		if acked.Status != "acknowledged" || acked.AckVia != "api" {
			t.Errorf("after ack: %+v", acked)
		}
		var resolved page
		s.mustDo("POST", "/api/v1/pages/"+fmt.Sprint(first.ID)+"/resolve", nil, http.StatusOK, &resolved)
		if resolved.Status != "resolved" {
			t.Errorf("after resolve: %+v", resolved)
		}
		s.mustDo("GET", "/api/v1/pages?status=open", nil, http.StatusOK, &list)
		if len(list.Pages) != 1 || list.Pages[0].ID != second.ID {
			t.Errorf("open pages %+v, want only the low one", list.Pages)
		}
	})
}
