package report

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
)

// The page's speed in Chromium at scale. The report is a national one of
// 200,000 synthetic members (every state and territory, seed 11) against
// the sample roster (New York, Texas and Alaska only), so most members are
// unserved and the map carries tens of thousands of unserved cells — the
// heaviest page for its member count. GEOACCESS_REPORT_DIR=DIR measures an
// existing report directory's index.html instead (for the 1,000,000-member
// figures in docs/benchmarks.md and for earlier versions of the page).
//
//	go test -run '^$' -bench Page -count 5 ./internal/report
//
// Both report ms (in the page, by performance.now) beside ns/op (in Go,
// with the protocol's round trips).

func TestMain(m *testing.M) {
	code := m.Run()
	if bigReport.dir != "" {
		os.RemoveAll(bigReport.dir)
	}
	os.Exit(code)
}

var bigReport struct {
	once sync.Once
	dir  string
	err  error
}

func benchPage(b *testing.B) string {
	b.Helper()
	if dir := os.Getenv("GEOACCESS_REPORT_DIR"); dir != "" {
		return filepath.Join(dir, "index.html")
	}
	bigReport.once.Do(func() {
		bigReport.dir, bigReport.err = os.MkdirTemp("", "page-bench-")
		if bigReport.err != nil {
			return
		}
		eng, _, err := data.NewEngine(data.Setup{})
		if err != nil {
			bigReport.err = err
			return
		}
		roster, err := data.SampleRoster()
		if err != nil {
			bigReport.err = err
			return
		}
		n, err := adequacy.NewNetwork(roster, nil)
		if err != nil {
			bigReport.err = err
			return
		}
		eng = eng.WithNetwork(n)
		g, err := data.EmbeddedGeography()
		if err != nil {
			bigReport.err = err
			return
		}
		ct, err := data.EmbeddedCounties()
		if err != nil {
			bigReport.err = err
			return
		}
		w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs}
		sm, err := w.Members(synth.Config{Seed: 11, Count: 200_000})
		if err != nil {
			bigReport.err = err
			return
		}
		ms := make([]adequacy.GapMember, len(sm))
		for i, m := range sm {
			ms[i] = adequacy.GapMember{ID: m.ID, Line: i + 2, Point: m.Point, HasPoint: true, ZIP: m.ZIP, CountyFIPS: m.CountyFIPS}
		}
		asOf, err := adequacy.ParseDate("2026-11-24")
		if err != nil {
			bigReport.err = err
			return
		}
		rep, err := eng.Gap(context.Background(), ms, adequacy.GapOptions{AsOf: asOf})
		if err != nil {
			bigReport.err = err
			return
		}
		writeReportTo(b, bigReport.dir, eng, rep, nil, nil)
	})
	if bigReport.err != nil {
		b.Fatal(bigReport.err)
	}
	return filepath.Join(bigReport.dir, "index.html")
}

// readyJS: once the page has loaded, the time from navigation to the
// first frames painted after it.
const readyJS = `new Promise(r => requestAnimationFrame(() => setTimeout(() => r(performance.now()))))`

// BenchmarkPageLoad opens the page: navigation, parse, script, map drawn,
// tables rendered, painted.
func BenchmarkPageLoad(b *testing.B) {
	page := benchPage(b)
	st, err := os.Stat(page)
	if err != nil {
		b.Fatal(err)
	}
	tb := openTab(b, newBrowser(b), page, 1280, 900)
	var total float64
	b.ResetTimer()
	for b.Loop() {
		if err := chromedp.Do(tb.ctx, chromedp.Navigate(fileURL(page))); err != nil {
			b.Fatal(err)
		}
		total += eval[float64](b, tb, readyJS)
	}
	b.ReportMetric(total/float64(b.N), "ms-ready")
	b.ReportMetric(float64(st.Size())/1e6, "MB")
	b.ReportMetric(eval[float64](b, tb, `document.getElementsByTagName("*").length`), "elements")
	if p := tb.Problems(); len(p) > 0 {
		b.Errorf("console: %q", p)
	}
}

// sortJS clicks the Members header of the page's last table (every
// county row) and times it until the sorted rows are painted.
const sortJS = `(async () => {
	const ths = Array.from(document.querySelectorAll("th")).filter(th => th.textContent.replace(/[\u25b2\u25bc\u2195]/g, "").trim() === "Members");
	const th = ths[ths.length - 1], target = th.querySelector("button") || th;
	const t0 = performance.now();
	target.click();
	await new Promise(r => requestAnimationFrame(() => setTimeout(r)));
	return performance.now() - t0;
})()`

// BenchmarkPageSort sorts the every-county table by members, alternately
// up and down.
func BenchmarkPageSort(b *testing.B) {
	page := benchPage(b)
	tb := openTab(b, newBrowser(b), page, 1280, 900)
	var total float64
	b.ResetTimer()
	for b.Loop() {
		total += eval[float64](b, tb, sortJS)
	}
	b.ReportMetric(total/float64(b.N), "ms-sort")
}

// filterJS shows only the failing rows of the every-county table, or all
// of them again, and times it until painted.
const filterJS = `(async () => {
	const s = document.querySelectorAll("#counties .filters select")[1];
	const t0 = performance.now();
	s.value = s.value === "fail" ? "" : "fail";
	s.dispatchEvent(new Event("change"));
	await new Promise(r => requestAnimationFrame(() => setTimeout(r)));
	return performance.now() - t0;
})()`

// BenchmarkPageFilter filters the every-county table to the failing rows
// and back (the page of this package only).
func BenchmarkPageFilter(b *testing.B) {
	page := benchPage(b)
	tb := openTab(b, newBrowser(b), page, 1280, 900)
	if !eval[bool](b, tb, `document.querySelector("#counties .filters") !== null`) {
		b.Skip("the page has no filters")
	}
	var total float64
	b.ResetTimer()
	for b.Loop() {
		total += eval[float64](b, tb, filterJS)
	}
	b.ReportMetric(total/float64(b.N), "ms-filter")
}
