package report

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
)

// writeReport writes every file of a report as `geoaccess gap` does, and
// returns the directory.
func writeReport(tb testing.TB, eng *adequacy.Engine, rep *adequacy.GapReport, picks []adequacy.RecruitPick, rej []Rejected) string {
	tb.Helper()
	dir := tb.TempDir()
	writeReportTo(tb, dir, eng, rep, picks, rej)
	return dir
}

func writeReportTo(tb testing.TB, dir string, eng *adequacy.Engine, rep *adequacy.GapReport, picks []adequacy.RecruitPick, rej []Rejected) {
	tb.Helper()
	providers := rep.CountingProviders()
	files := []string{"adequacy.csv", "unserved.csv", "rejected.csv", "gaps.geojson"}
	for _, s := range rep.Subjects {
		files = append(files, MapFile(s.Key()))
	}
	steps := []func() error{
		func() error { return WriteAdequacy(dir, rep) },
		func() error { return WriteUnserved(dir, rep) },
		func() error { return WriteRejected(dir, rej) },
		func() error { return WriteGeoJSON(dir, rep, eng.Map) },
		func() error { return WriteMaps(dir, rep, eng.Map, providers) },
	}
	if len(picks) > 0 {
		steps = append(steps, func() error { return WriteRecruitment(dir, picks) })
		files = append(files, "recruitment.csv")
	}
	steps = append(steps, func() error {
		return WriteHTML(dir, Page{Report: rep, Shapes: eng.Map, Providers: providers, Picks: picks, Rejected: len(rej), Files: files})
	})
	for _, s := range steps {
		if err := s(); err != nil {
			tb.Fatal(err)
		}
	}
}

// pageRow is a row of a page's table as shown.
type pageRow struct {
	FIPS, Discipline, Members, Share string
}

const readCountyRows = `Array.from(document.querySelectorAll("#counties tbody tr")).map(tr => ({
	FIPS: tr.cells[0].textContent, Discipline: tr.cells[5].textContent, Members: tr.cells[6].textContent, Share: tr.cells[10].textContent}))`

// The page in Chromium: it loads offline with nothing on the console,
// fetches nothing, sorts and filters its tables as the report's own rows
// sorted in Go say, is reachable by keyboard, fits a phone's width, and
// its map zooms, switches layer and names the county under the pointer.
func TestPageInBrowser(t *testing.T) {
	eng, rep, picks, rej := sampleReport(t)
	dir := writeReport(t, eng, rep, picks, rej)
	page := filepath.Join(dir, "index.html")
	browser := newBrowser(t)
	tb := openTab(t, browser, page, 1280, 900)

	t.Run("offline and quiet", func(t *testing.T) {
		if p := tb.Problems(); len(p) > 0 {
			t.Errorf("console: %q", p)
		}
		for _, u := range tb.Requests() {
			if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
				t.Errorf("the page requested %s", u)
			}
		}
		links := eval[[]string](t, tb, `Array.from(document.querySelectorAll("ul.files a")).map(a => a.getAttribute("href"))`)
		for _, f := range []string{"adequacy.csv", "unserved.csv", "rejected.csv", "recruitment.csv", "gaps.geojson", "map_PT.svg", "map_lymphedema.svg"} {
			if !slices.Contains(links, f) {
				t.Errorf("no link to %s in %v", f, links)
			}
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("linked file: %v", err)
			}
		}
	})

	// The report's rows as the page lists them before any sort: subject by
	// subject (the disciplines, then lymphedema therapy), each in FIPS
	// order.
	type row struct {
		fips, disc string
		members    int
		layer, i   int
		pass       bool
	}
	var rows []row
	for li, s := range rep.Subjects {
		for _, r := range rep.Counties {
			if r.Key() == s.Key() {
				rows = append(rows, row{r.County.FIPS, s.Key(), r.Members, li, len(rows), r.Pass})
			}
		}
	}
	if rows[len(rows)-1].disc != "lymphedema" {
		t.Fatalf("the report has no lymphedema rows: %+v", rows[len(rows)-1])
	}
	firstPage := func(rs []row) []pageRow {
		var out []pageRow
		for _, r := range rs[:min(100, len(rs))] {
			share := "pass"
			if !r.pass {
				share = "FAIL"
			}
			out = append(out, pageRow{r.fips, r.disc, fmt.Sprint(r.members), share})
		}
		return out
	}
	header := func(label string) string {
		return fmt.Sprintf(`Array.from(document.querySelectorAll("#counties th")).find(th => th.textContent.startsWith(%q))`, label)
	}
	sortState := func(label string) string {
		return eval[string](t, tb, header(label)+`.getAttribute("aria-sort")`)
	}

	t.Run("sort", func(t *testing.T) {
		eval[bool](t, tb, header("Members")+`.querySelector("button").click(), true`)
		asc := slices.Clone(rows)
		slices.SortStableFunc(asc, func(a, b row) int { return cmp.Compare(a.members, b.members) })
		if got, want := eval[[]pageRow](t, tb, readCountyRows), firstPage(asc); !slices.Equal(got, want) {
			t.Errorf("Members ascending: first page\n%v\nwant\n%v", got, want)
		}
		if s := sortState("Members"); s != "ascending" {
			t.Errorf("aria-sort %q after one click", s)
		}
		eval[bool](t, tb, header("Members")+`.querySelector("button").click(), true`)
		desc := slices.Clone(rows)
		slices.SortStableFunc(desc, func(a, b row) int { return cmp.Compare(b.members, a.members) })
		if got, want := eval[[]pageRow](t, tb, readCountyRows), firstPage(desc); !slices.Equal(got, want) {
			t.Errorf("Members descending: first page\n%v\nwant\n%v", got, want)
		}
		if s := sortState("Members"); s != "descending" {
			t.Errorf("aria-sort %q after two clicks", s)
		}
		if s := sortState("FIPS"); s != "none" {
			t.Errorf("FIPS aria-sort %q while sorted by Members", s)
		}
		eval[bool](t, tb, header("FIPS")+`.querySelector("button").click(), true`)
		byFIPS := slices.Clone(rows)
		slices.SortStableFunc(byFIPS, func(a, b row) int { return strings.Compare(a.fips, b.fips) })
		if got, want := eval[[]pageRow](t, tb, readCountyRows), firstPage(byFIPS); !slices.Equal(got, want) {
			t.Errorf("FIPS ascending: first page\n%v\nwant\n%v", got, want)
		}
		// The last page holds the rest.
		eval[bool](t, tb, `(() => { const b = Array.from(document.querySelectorAll("#counties .pager button")).find(b => b.textContent === "Next"); while (!b.disabled) b.click(); return true })()`)
		last := eval[[]pageRow](t, tb, readCountyRows)
		if want := firstPage(byFIPS[(len(byFIPS)-1)/100*100:]); !slices.Equal(last, want) {
			t.Errorf("last page\n%v\nwant\n%v", last, want)
		}
	})

	t.Run("filter", func(t *testing.T) {
		eval[bool](t, tb, `(() => { const s = document.querySelectorAll("#counties .filters select")[1]; s.value = "fail"; s.dispatchEvent(new Event("change")); return true })()`)
		fail := 0
		for _, r := range rows {
			if !r.pass {
				fail++
			}
		}
		status := eval[string](t, tb, `document.querySelector("#counties .pager span").textContent`)
		shown := eval[[]pageRow](t, tb, readCountyRows)
		if !strings.HasSuffix(status, fmt.Sprintf(" of %d", fail)) && !(fail <= 100 && len(shown) == fail) {
			t.Errorf("failing filter: %q, want %d rows", status, fail)
		}
		for _, r := range shown {
			if r.Share != "FAIL" {
				t.Errorf("failing filter shows %v", r)
			}
		}
		eval[bool](t, tb, `(() => { const s = document.querySelectorAll("#counties .filters select")[1]; s.value = ""; s.dispatchEvent(new Event("change")); return true })()`)
	})

	t.Run("keyboard", func(t *testing.T) {
		// From the county search box, Tab reaches the first header's button;
		// Enter and Space sort by it.
		eval[bool](t, tb, `document.querySelector("#counties input[type=search]").focus(), true`)
		reached := false
		for range 6 {
			tb.do(t, chromedp.KeyEvent("\t"))
			if eval[bool](t, tb, `document.activeElement.closest("#counties th") !== null`) {
				reached = true
				break
			}
		}
		if !reached {
			t.Fatal("Tab does not reach the table's headers")
		}
		label := eval[string](t, tb, `document.activeElement.closest("th").textContent.slice(0, -1)`)
		flip := map[string]string{"none": "ascending", "ascending": "descending", "descending": "ascending"}
		before := sortState(label)
		tb.do(t, chromedp.KeyEvent("\r"))
		if s := sortState(label); s != flip[before] {
			t.Errorf("%s after Enter: aria-sort %q, was %q", label, s, before)
		}
		before = sortState(label)
		tb.do(t, chromedp.KeyEvent(" "))
		if s := sortState(label); s != flip[before] {
			t.Errorf("%s after Space: aria-sort %q, was %q", label, s, before)
		}
		if n := eval[int](t, tb, `document.querySelectorAll("th[aria-sort]:not(:has(button)), th:has(button):not([aria-sort])").length`); n != 0 {
			t.Errorf("%d headers sortable-looking without a button, or the reverse", n)
		}
		if n := eval[int](t, tb, `document.querySelectorAll("table").length - document.querySelectorAll(".scroll > table").length`); n != 0 {
			t.Errorf("%d tables outside a scroll container", n)
		}
	})

	t.Run("recruitment counties named", func(t *testing.T) {
		cells := eval[[]string](t, tb, `Array.from(document.querySelectorAll("#picks tbody tr")).map(tr => tr.cells[4].textContent)`)
		if len(cells) == 0 {
			t.Fatal("no recruitment rows")
		}
		for i, c := range cells[:min(len(cells), 50)] {
			fips := picks[i].Provider.CountyFIPS
			s, ok := eng.Map.Shape(fips)
			if ok && c != s.Name+", "+s.State+" ("+fips+")" {
				t.Errorf("pick %d county %q, want %s, %s (%s)", i+1, c, s.Name, s.State, fips)
			}
		}
	})

	t.Run("map", func(t *testing.T) {
		eval[bool](t, tb, `document.querySelector("canvas.map-canvas").scrollIntoView(), true`)
		eval[bool](t, tb, afterPaint)
		snap := func() string { return eval[string](t, tb, `document.querySelector("canvas.map-canvas").toDataURL()`) }
		zoom := func() string { return eval[string](t, tb, `document.querySelector("canvas.map-canvas").dataset.zoom`) }
		before := snap()
		if z := zoom(); z != "1.000" {
			t.Errorf("zoom %s before any zooming", z)
		}
		eval[bool](t, tb, `document.querySelector("button[aria-label='Zoom in']").click(), true`)
		eval[bool](t, tb, afterPaint)
		if z := zoom(); z != "1.500" {
			t.Errorf("zoom %s after the zoom-in button, want 1.500", z)
		}
		if snap() == before {
			t.Error("the map did not change when zoomed in")
		}
		box := eval[[]float64](t, tb, `(() => { const r = document.querySelector("canvas.map-canvas").getBoundingClientRect(); return [r.left, r.top, r.width, r.height] })()`)
		tb.do(t, wheel(box[0]+box[2]/2, box[1]+box[3]/2, -300))
		eval[bool](t, tb, afterPaint)
		if z := zoom(); z != "3.000" {
			t.Errorf("zoom %s after a wheel notch, want 3.000", z)
		}
		zoomed := snap()
		eval[bool](t, tb, `document.querySelectorAll("fieldset.layers input")[1].click(), true`)
		eval[bool](t, tb, afterPaint)
		if snap() == zoomed {
			t.Error("the map did not change with the layer")
		}
		eval[bool](t, tb, `document.querySelectorAll("fieldset.layers input")[0].click(), true`)

		// Hover: the county under a member's location, by Go's lookup.
		ms, _, err := data.ReadMembers(bytes.NewReader(must(data.SampleMembers())), nil)
		if err != nil {
			t.Fatal(err)
		}
		rowsPT := map[string]adequacy.CountyRow{}
		for _, r := range rep.Counties {
			if r.Discipline == rep.Disciplines[0] {
				rowsPT[r.County.FIPS] = r
			}
		}
		checked := 0
		for _, m := range ms {
			if !m.HasPoint || checked == 3 {
				continue
			}
			s, err := eng.Map.Locate(m.Point)
			if err != nil {
				continue
			}
			eval[bool](t, tb, `document.querySelector("button[aria-label^='Fit']").click(), true`) // Fit
			xy := eval[[]float64](t, tb, fmt.Sprintf(`geoaccessReport.screenOf(%f, %f)`, m.Point.Lon, m.Point.Lat))
			if len(xy) != 2 || xy[1] < 0 || xy[1] > 900 {
				continue
			}
			// Zoom in around it so that the pointer is well inside.
			for range 3 {
				tb.do(t, wheel(xy[0], xy[1], -300))
				eval[bool](t, tb, afterPaint)
				xy = eval[[]float64](t, tb, fmt.Sprintf(`geoaccessReport.screenOf(%f, %f)`, m.Point.Lon, m.Point.Lat))
			}
			tb.do(t, mouseMove(xy[0], xy[1]))
			tip := eval[string](t, tb, `(() => { const t = document.querySelector(".tip"); return t.hidden ? "" : t.textContent })()`)
			r := rowsPT[s.FIPS]
			want := fmt.Sprintf("%s, %s (%s)", s.Name, s.State, s.FIPS)
			if !strings.Contains(tip, want) || !strings.Contains(tip, fmt.Sprintf("%d of %d served", r.Served, r.Members)) {
				t.Errorf("hover at a member of %s: tip %q", want, tip)
			}
			checked++
		}
		if checked == 0 {
			t.Error("no member point to hover over")
		}
		if p := tb.Problems(); len(p) > 0 {
			t.Errorf("console: %q", p)
		}
	})

	t.Run("show on map", func(t *testing.T) {
		// A worst county's name opens it on the map, in its discipline,
		// with its details, by keyboard as by mouse.
		worst := rep.Worst(1)
		if len(worst) == 0 {
			t.Skip("every county passes")
		}
		w := worst[0]
		eval[bool](t, tb, `document.querySelector("#worst button.show").focus(), true`)
		tb.do(t, chromedp.KeyEvent("\r"))
		eval[bool](t, tb, afterPaint)
		label := fmt.Sprintf("%s, %s (%s)", w.County.Name, w.County.State, w.County.FIPS)
		tip := eval[string](t, tb, `(() => { const t = document.querySelector(".tip"); return t.hidden ? "" : t.textContent })()`)
		if !strings.Contains(tip, label) || !strings.Contains(tip, fmt.Sprintf("%s: %d of %d served", w.Key(), w.Served, w.Members)) {
			t.Errorf("after showing %s (%s): tip %q", label, w.Key(), tip)
		}
		if z := eval[string](t, tb, `document.querySelector("canvas.map-canvas").dataset.zoom`); z == "1.000" {
			t.Error("the map did not zoom to the county")
		}
		if on := eval[string](t, tb, `document.querySelector("fieldset.layers input:checked").value`); on != w.Key() {
			t.Errorf("layer %s shown for a %s row", on, w.Key())
		}
	})

	t.Run("service layer", func(t *testing.T) {
		// The switcher and the table's layer filter list the service after
		// the disciplines; the service's layer shows its own rows.
		labels := eval[[]string](t, tb, `Array.from(document.querySelectorAll("fieldset.layers label")).map(l => l.textContent.trim())`)
		want := []string{}
		for _, s := range rep.Subjects {
			want = append(want, s.Name()+" ("+s.Key()+")")
		}
		if !slices.Equal(labels, want) {
			t.Errorf("switcher %q, want %q", labels, want)
		}
		opts := eval[[]string](t, tb, `Array.from(document.querySelectorAll("#counties .filters select")[0].options).map(o => o.textContent)`)
		if !slices.Contains(opts, "Lymphedema therapy (complete decongestive therapy) (lymphedema)") {
			t.Errorf("layer filter options %q", opts)
		}
		if h := eval[string](t, tb, `document.querySelectorAll("#counties th")[5].textContent`); !strings.HasPrefix(h, "Discipline or service") {
			t.Errorf("the subject column is headed %q", h)
		}
		li := len(rep.Subjects) - 1
		eval[bool](t, tb, fmt.Sprintf(`(() => { const s = document.querySelectorAll("#counties .filters select")[0]; s.value = "%d"; s.dispatchEvent(new Event("change")); return true })()`, li))
		shown := eval[[]pageRow](t, tb, readCountyRows)
		var svc []row
		for _, r := range rows {
			if r.layer == li {
				svc = append(svc, r)
			}
		}
		if len(shown) == 0 || len(shown) != min(100, len(svc)) {
			t.Errorf("lymphedema filter shows %d rows, want %d", len(shown), min(100, len(svc)))
		}
		for _, r := range shown {
			if r.Discipline != "lymphedema" {
				t.Errorf("lymphedema filter shows %v", r)
			}
		}
		eval[bool](t, tb, `(() => { const s = document.querySelectorAll("#counties .filters select")[0]; s.value = "-1"; s.dispatchEvent(new Event("change")); return true })()`)
		eval[bool](t, tb, `document.querySelectorAll("fieldset.layers input")[0].click(), true`)
		eval[bool](t, tb, afterPaint)
		before := eval[string](t, tb, `document.querySelector("canvas.map-canvas").toDataURL()`)
		eval[bool](t, tb, fmt.Sprintf(`document.querySelectorAll("fieldset.layers input")[%d].click(), true`, li))
		eval[bool](t, tb, afterPaint)
		if eval[string](t, tb, `document.querySelector("canvas.map-canvas").toDataURL()`) == before {
			t.Error("the map did not change with the service layer")
		}
		if l := eval[string](t, tb, `document.querySelector("canvas.map-canvas").getAttribute("aria-label")`); !strings.Contains(l, "Lymphedema therapy") {
			t.Errorf("map label %q", l)
		}
		eval[bool](t, tb, `document.querySelectorAll("fieldset.layers input")[0].click(), true`)
	})

	t.Run("phone", func(t *testing.T) {
		phone := openTab(t, browser, page, 390, 844)
		widths := eval[[]float64](t, phone, `[document.documentElement.scrollWidth, document.documentElement.clientWidth, document.querySelector("canvas.map-canvas").getBoundingClientRect().width]`)
		if widths[0] > widths[1] {
			t.Errorf("at 390 px the page is %.0f px wide (viewport %.0f)", widths[0], widths[1])
		}
		if widths[2] > widths[1] || widths[2] < 300 {
			t.Errorf("map %.0f px wide in a %.0f px viewport", widths[2], widths[1])
		}
		if p := phone.Problems(); len(p) > 0 {
			t.Errorf("console: %q", p)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A report in which no member could be evaluated still makes a page that
// loads quietly and says so.
func TestPageNoMembers(t *testing.T) {
	eng, _, _, _ := sampleReport(t)
	asOf, _ := adequacy.ParseDate("2026-11-24")
	rep, err := eng.Gap(t.Context(), []adequacy.GapMember{{ID: "X", Line: 2, Point: geo.Point{Lat: 91}, HasPoint: true}}, adequacy.GapOptions{AsOf: asOf})
	if err == nil || rep == nil {
		t.Fatalf("a report of one bad member: %v", err)
	}
	dir := writeReport(t, eng, rep, nil, []Rejected{{Line: 2, MemberID: "X", Column: "lat", Reason: "out of range"}})
	tb := openTab(t, newBrowser(t), filepath.Join(dir, "index.html"), 1280, 900)
	if p := tb.Problems(); len(p) > 0 {
		t.Errorf("console: %q", p)
	}
	if got := eval[string](t, tb, `document.querySelector(".meta").textContent`); !strings.Contains(got, "0 members evaluated, 1 rows rejected") {
		t.Errorf("page says %q", got)
	}
	if n := eval[int](t, tb, `document.querySelectorAll("#counties tbody tr").length`); n != 0 {
		t.Errorf("%d county rows", n)
	}
}
