package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/supportdesk/ivr/internal/latency"
)

// BenchmarkWebPage measures the staff's web page as `ivr serve --demo`
// serves it (SQLite, the session and its token looked up in the store on
// every request, the view rendered from the schedule snapshot): one op is
// one GET of the view with a signed-in session cookie, read to the end.
// Beside it, in the same run and on the same server, the JSON API's answer
// of the same facts with the bearer token: GET /api/v1/oncall for the
// board, GET /api/v1/shifts over the same 14 days for the timeline. ratio
// is the page's p50 over the API's; ns/op is the mean of the two requests
// together.
//
//	go test -run '^$' -bench 'WebPage' -benchtime 300x -count 3 ./cmd/ivr/
func BenchmarkWebPage(b *testing.B) {
	env, _, errOut := testEnv(map[string]string{"IVR_DB": filepath.Join(b.TempDir(), "ivr.db"), "IVR_ADMIN_TOKEN": testAdminToken})
	base := startWithEnv(b, env, errOut, "--demo", "--addr", "127.0.0.1:0")
	jar, _ := cookiejar.New(nil)
	page := &http.Client{Jar: jar}
	res, err := page.Get(base + "/signin")
	if err != nil {
		b.Fatal(err)
	}
	form, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(form)
	if csrf == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	if res, err = page.PostForm(base+"/signin", url.Values{"csrf": {string(csrf[1])}, "token": {testAdminToken}, "next": {"/"}}); err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/" {
		b.Fatalf("sign in: %d at %s", res.StatusCode, res.Request.URL)
	}
	from := time.Now().UTC().Truncate(24 * time.Hour)
	shifts := "/api/v1/shifts?from=" + from.Format(time.RFC3339) + "&to=" + from.Add(14*24*time.Hour).Format(time.RFC3339)
	fetch := func(c *http.Client, path, token string) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		start := time.Now()
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		d := time.Since(start)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return d
	}
	for _, v := range []struct{ name, view, api string }{{"board", "/?tz=UTC", "/api/v1/oncall"}, {"timeline", "/timeline", shifts}} {
		b.Run(v.name, func(b *testing.B) {
			fetch(page, v.view, "") // the ?tz= redirect and warm-up, not timed
			var views, apis []time.Duration
			b.ResetTimer()
			for b.Loop() {
				views = append(views, fetch(page, v.view, ""))
				apis = append(apis, fetch(http.DefaultClient, v.api, testAdminToken))
			}
			p50, a50 := latency.Quantile(views, 0.50), latency.Quantile(apis, 0.50)
			b.ReportMetric(latency.Millis(p50), "p50-ms")
			b.ReportMetric(latency.Millis(latency.Quantile(views, 0.99)), "p99-ms")
			b.ReportMetric(latency.Millis(a50), "api-p50-ms")
			b.ReportMetric(latency.Millis(latency.Quantile(apis, 0.99)), "api-p99-ms")
			b.ReportMetric(float64(p50)/float64(a50), "ratio")
		})
	}
}
