package admin

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// envUpdateScreenshot set to 1 makes TestStatusPageInBrowser write its screenshot to
// docs/status-page.png (otherwise it only checks it): the page shows times, so every run differs.
const envUpdateScreenshot = "REDSPIN_UPDATE_SCREENSHOT"

// requireBrowser returns the path of a Chromium-compatible browser, skipping the test when there is
// none (failing it when REDSPIN_E2E=1, as in CI).
func requireBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(redisserver.EnvE2E) == "1" {
		t.Fatalf("no Chromium found and %s=1: install it (apt-get install -y chromium)", redisserver.EnvE2E)
	}
	t.Skipf("no Chromium found (apt-get install -y chromium, or set %s=1 to make this a failure)", redisserver.EnvE2E)
	return ""
}

// TestStatusPageInBrowser loads the status page in headless Chromium while a real trigger handles
// messages: the page loads without console errors, then shows the live counts and, after a failing
// message, the failure and its error.
func TestStatusPageInBrowser(t *testing.T) {
	browser := requireBrowser(t)
	l := startLiveAdmin(t)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1500, 900),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	var mu sync.Mutex
	var consoleErrors []string
	record := func(s string) {
		mu.Lock()
		consoleErrors = append(consoleErrors, s)
		mu.Unlock()
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				record(fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			record("exception: " + ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				record(fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}); err != nil {
		t.Fatalf("chromium (%s): %v", browser, err)
	}

	// cell is the text of one cell of the row whose data-key is key, or "" while there is none.
	cell := func(table, key string, col int) string {
		return fmt.Sprintf(`(document.querySelector('#%s tr[data-key="%s"]')?.cells[%d]?.textContent ?? "")`, table, key, col)
	}
	waitFor := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("the page never showed %s (%s): %v\npage:\n%s", what, expr, err, text)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(l.base+"/")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	waitFor("healthy and ready", `document.getElementById("health").textContent === "healthy" && document.getElementById("ready").textContent === "ready"`)
	waitFor("the consumer reading", cell("streams", "jobs/workers", 3)+` === "reading"`)

	l.publish(t, "a", "b", "c")
	waitFor("3 handled by checkout", cell("components", "checkout", 1)+` === "3"`)
	waitFor("3 handled by ingest", cell("components", "ingest", 1)+` === "3"`)
	waitFor("3 received on orders", cell("channels", "orders", 2)+` === "3"`)
	waitFor("a message rate", cell("channels", "orders", 3)+` !== "–" && `+cell("channels", "orders", 3)+` !== ""`)

	l.publish(t, "fail-42")
	waitFor("the failure", cell("components", "checkout", 2)+` === "1"`)
	waitFor("the error", cell("components", "checkout", 9)+`.includes('payload "fail-42" rejected')`)
	waitFor("the dead letter", cell("streams", "jobs/workers", 10)+` === "1"`)
	waitFor("the stream failure highlighted", `document.querySelector('#streams tr[data-key="jobs/workers"]').cells[7].className === "hot"`)

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil || img.Bounds().Dx() < 800 {
		t.Fatalf("screenshot is no PNG of the page (%v)", err)
	}
	if os.Getenv(envUpdateScreenshot) == "1" {
		out := filepath.Join("..", "..", "docs", "status-page.png")
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", out, len(shot))
	}

	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrors) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(consoleErrors, "\n"))
	}
}
