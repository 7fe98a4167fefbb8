// Package browsertest starts Debian's headless Chromium for tests that drive
// the web page with chromedp: a fresh profile and TMPDIR in the test's temp
// dir, no network but loopback, no first-run or background traffic. Where
// Chromium is absent the test skips, saying what to install, unless
// IVR_TEST_BROWSER=require (as .ci/run sets) makes that a failure. Tests only.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path is where Debian's package puts Chromium; IVR_CHROMIUM overrides it.
const Path = "/usr/bin/chromium"

// Start returns a chromedp context with a new headless Chromium whose
// window is width × height, ended when the test does. Its zone is UTC
// (TZ), so that the page's script sees the same zone wherever it runs.
func Start(t *testing.T, width, height int) context.Context {
	t.Helper()
	path := os.Getenv("IVR_CHROMIUM")
	if path == "" {
		path = Path
	}
	if _, err := exec.LookPath(path); err != nil {
		msg := "no Chromium at " + path + ": install Debian's chromium and fonts-dejavu-core (apt-get install --no-install-recommends chromium fonts-dejavu-core), or set IVR_CHROMIUM to a Chromium binary"
		if os.Getenv("IVR_TEST_BROWSER") == "require" {
			t.Fatal(msg + " (IVR_TEST_BROWSER=require)")
		}
		t.Skip(msg + "; IVR_TEST_BROWSER=require turns this skip into a failure")
	}
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(width, height),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Env("TMPDIR="+tmp, "TZ=UTC"),
	)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	// A bound on the whole test's browsing: a hung page fails, never hangs CI.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser and its tab
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}
