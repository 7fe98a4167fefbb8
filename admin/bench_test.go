package admin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/access"
	"github.com/supportdesk/ivr/admin"
	"github.com/supportdesk/ivr/demo"
	"github.com/supportdesk/ivr/oncall"
	"github.com/supportdesk/ivr/store/storetest"
)

// BenchmarkOnCallHTTP measures GET /api/v1/oncall (bearer check, snapshot
// look-up for 3 levels × 2 layers, JSON) over loopback against the demo team
// on SQLite, beside a bare net/http handler answering a fixed JSON body on
// the same machine in the same run. Compare the two ns/op:
//
//	go test -run '^$' -bench OnCallHTTP -benchtime 3s ./admin/
func BenchmarkOnCallHTTP(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		body := []byte(`{"status":"ok"}` + "\n")
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		hammer(b, srv.URL+"/", "")
	})
	b.Run("oncall", func(b *testing.B) {
		ctx := context.Background()
		db := storetest.OpenSQLite(b)
		svc := oncall.NewService(db, zap.NewNop(), oncall.ServiceOptions{})
		if _, err := demo.Seed(ctx, svc); err != nil {
			b.Fatal(err)
		}
		if err := svc.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
		_, secret, err := access.Issue(ctx, db, "bench", "bench", "admin", 0)
		if err != nil {
			b.Fatal(err)
		}
		api := admin.New(admin.Config{OnCall: svc, Tokens: db, Audit: db, Ready: db.Ready,
			Registry: prometheus.NewRegistry(), Log: zap.NewNop(), TokenCacheTTL: time.Minute})
		srv := httptest.NewServer(api)
		defer srv.Close()
		hammer(b, srv.URL+"/api/v1/oncall", secret)
	})
}

// hammer sends b.N GET requests to url from parallel clients over
// keep-alive connections.
func hammer(b *testing.B, url, token string) {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}
