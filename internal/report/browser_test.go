package report

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpinput "github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The page is tested in a real browser: Debian's Chromium, driven over
// the DevTools protocol. Without it the tests skip, except under CI=true
// (.ci/run installs it), where they fail.

// chromiumPath finds the browser: $GEOACCESS_CHROMIUM, else chromium or
// chromium-browser on the PATH.
func chromiumPath() string {
	if p := os.Getenv("GEOACCESS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile, closed when
// the test ends.
func newBrowser(tb testing.TB) context.Context {
	tb.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("chromium not found (apt-get install chromium, or set GEOACCESS_CHROMIUM)")
		}
		tb.Skip("chromium not found; the browser tests need it (apt-get install chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("allow-file-access-from-files", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelA()
		tb.Fatalf("start chromium %s: %v", path, err)
	}
	tb.Cleanup(func() { cancel(); cancelA() })
	return ctx
}

// tab is one page open in the browser, with what it said on its console
// and which requests it made.
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string // console errors, uncaught exceptions, error log entries
	requests []string // URLs requested
}

// openTab opens a new tab offline (no network at all), sized w × h CSS
// pixels (a phone, with touch, below 600), and loads the file.
func openTab(tb testing.TB, browser context.Context, file string, w, h int64) *tab {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	tb.Cleanup(cancel)
	t := &tab{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		t.mu.Lock()
		defer t.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				t.problems = append(t.problems, "console."+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			t.problems = append(t.problems, fmt.Sprintf("exception at %d:%d: %s", d.LineNumber, d.ColumnNumber, msg))
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				t.problems = append(t.problems, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			t.requests = append(t.requests, e.Request.URL)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	viewport := []chromedp.EmulateViewportOption{}
	if w < 600 {
		viewport = append(viewport, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	err = chromedp.Do(ctx,
		call(runtime.Enable, cdp.Empty{}), call(log.Enable, cdp.Empty{}), call(network.Enable, network.EnableParams{}),
		call(network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}}),
		chromedp.EmulateViewport(w, h, viewport...),
	)
	if err != nil {
		tb.Fatalf("set up the tab: %v", err)
	}
	t.load(tb, file)
	return t
}

// load navigates to the file and waits until the page says it is ready
// (or, for a page without the data model, has loaded).
func (t *tab) load(tb testing.TB, file string) {
	tb.Helper()
	err := chromedp.Do(t.ctx, chromedp.Navigate(fileURL(file)),
		ignore(chromedp.Poll[bool](`document.readyState === "complete" && (document.documentElement.dataset.ready === "1" || !document.getElementById("report-data"))`, chromedp.WithPollingTimeout(60*time.Second))))
	if err != nil {
		tb.Fatalf("load %s: %v (problems: %v)", file, err, t.Problems())
	}
}

func call[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cmd, params)
		return err
	})
}

func ignore[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := a(ctx, tg)
		return err
	})
}

func fileURL(path string) string {
	abs, _ := filepath.Abs(path)
	return (&url.URL{Scheme: "file", Path: abs}).String()
}

func (t *tab) Problems() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.problems...)
}

func (t *tab) Requests() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.requests...)
}

// eval runs a JavaScript expression, promises awaited, and decodes its
// value.
func eval[T any](tb testing.TB, t *tab, js string) T {
	tb.Helper()
	v, err := chromedp.Run(t.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("eval %.100q: %v", js, err)
	}
	return v
}

func (t *tab) do(tb testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(t.ctx, actions...); err != nil {
		tb.Fatal(err)
	}
}

// afterPaint resolves once the browser has painted what the page did so
// far: two animation frames.
const afterPaint = `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`

// wheel sends a mouse wheel event at (x, y), CSS pixels of the viewport.
func wheel(x, y, dy float64) chromedp.Action[chromedp.Void] {
	return chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseWheel, x, y, func(p *cdpinput.DispatchMouseEventParams) {
		p.DeltaY = dy
		p.DeltaX = 1e-6 // the protocol wants both; a zero would be left out
	})
}

func mouseMove(x, y float64) chromedp.Action[chromedp.Void] {
	return chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, x, y)
}
