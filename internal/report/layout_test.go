package report

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
)

// planOf is a report whose rows are the counties of the given states (all
// of them when none are given), for the layout alone.
func planOf(t *testing.T, states ...string) (*adequacy.GapReport, *geo.CountyMap) {
	t.Helper()
	g, err := data.EmbeddedGeography()
	if err != nil {
		t.Fatal(err)
	}
	ct, err := data.EmbeddedCounties()
	if err != nil {
		t.Fatal(err)
	}
	r := &adequacy.GapReport{}
	for _, s := range g.Counties.Shapes() {
		if len(states) > 0 && !slices.Contains(states, s.State) {
			continue
		}
		c, err := ct.Counties.Lookup(s.FIPS)
		if err != nil {
			t.Fatal(err)
		}
		r.Counties = append(r.Counties, adequacy.CountyRow{County: c, Discipline: adequacy.PT, Members: 1})
	}
	return r, g.Counties
}

// A national plan gets a panel per region, none overlapping another or
// another's name, every name within its slot, and every county in a
// panel.
func TestLayoutNational(t *testing.T) {
	r, m := planOf(t)
	l := layout(r, m)
	var names []string
	for _, p := range l.panels {
		names = append(names, p.name)
	}
	want := []string{"Contiguous states", "Alaska", "Hawaii", "Puerto Rico and Virgin Islands", "Guam and Northern Mariana Islands", "American Samoa"}
	if !slices.Equal(names, want) {
		t.Fatalf("panels %q, want %q", names, want)
	}
	if a, b, ok := l.overlapping(); ok {
		t.Errorf("panels %q and %q overlap", a, b)
	}
	for _, p := range l.panels {
		if p.x0 < 0 || p.x0+math.Max(p.w, labelWidth(p.name)) > l.width || p.y0+p.h > l.height {
			t.Errorf("%s (%.0f,%.0f %.0f×%.0f) outside the %.0f×%.0f composite", p.name, p.x0, p.y0, p.w, p.h, l.width, l.height)
		}
	}
	drawn := map[int]bool{}
	for _, p := range l.panels {
		for _, si := range p.shapes {
			if drawn[si] {
				t.Errorf("county %s drawn twice", m.Shapes()[si].FIPS)
			}
			drawn[si] = true
		}
	}
	if len(drawn) != m.Len() {
		t.Errorf("%d of %d counties drawn", len(drawn), m.Len())
	}
}

// A regional plan is framed to its own counties, not the nation, and the
// neighbouring states' outlines show around it.
func TestLayoutRegional(t *testing.T) {
	r, m := planOf(t, "NY")
	l := layout(r, m)
	if len(l.panels) != 1 {
		t.Fatalf("%d panels for New York alone", len(l.panels))
	}
	p := l.panels[0]
	if span := p.maxLon - p.minLon; span > 10 {
		t.Errorf("New York framed over %.1f° of longitude", span)
	}
	for _, row := range r.Counties {
		s, _ := m.Shape(row.County.FIPS)
		if b := p.bound(s.Shape); b.Min[0] < p.minLon || b.Max[0] > p.maxLon || b.Min[1] < p.minLat || b.Max[1] > p.maxLat {
			t.Errorf("%s outside the frame", s.FIPS)
		}
	}
	seen := map[string]bool{}
	for _, sl := range stateOutlines(m) {
		if region(sl.state) == p.region && p.overlaps(sl.bound) {
			seen[sl.state] = true
		}
	}
	for _, st := range []string{"NY", "PA", "NJ", "CT", "VT", "MA"} {
		if !seen[st] {
			t.Errorf("no outline of %s around New York (have %v)", st, seen)
		}
	}
	// A plan with New York and Guam: two panels, each framed to its own.
	r2, _ := planOf(t, "NY", "GU")
	l2 := layout(r2, m)
	if len(l2.panels) != 2 || !strings.HasPrefix(l2.panels[1].name, "Guam") {
		t.Fatalf("panels for New York and Guam: %d", len(l2.panels))
	}
	if a, b, ok := l2.overlapping(); ok {
		t.Errorf("panels %q and %q overlap", a, b)
	}
}

// State outlines: no edge inside a state survives the dissolve; every
// state border and coastline edge is kept exactly once; the straight
// Colorado–Wyoming border is there.
func TestStateOutlines(t *testing.T) {
	_, m := planOf(t)
	lines := stateOutlines(m)
	type edge struct{ a, b orb.Point }
	norm := func(a, b orb.Point) edge {
		if b[0] < a[0] || (b[0] == a[0] && b[1] < a[1]) {
			a, b = b, a
		}
		return edge{a, b}
	}
	states := map[edge]map[string]int{}
	for _, s := range m.Shapes() {
		for _, poly := range s.Shape {
			for _, ring := range poly {
				for i := 1; i < len(ring); i++ {
					e := norm(ring[i-1], ring[i])
					if states[e] == nil {
						states[e] = map[string]int{}
					}
					states[e][s.State]++
				}
			}
		}
	}
	kept := map[edge]int{}
	coWy := false
	for _, sl := range lines {
		for i := 1; i < len(sl.pts); i++ {
			e := norm(sl.pts[i-1], sl.pts[i])
			kept[e]++
			if math.Abs(e.a[1]-41) < 0.01 && math.Abs(e.b[1]-41) < 0.01 && e.a[0] > -109.1 && e.b[0] < -102 {
				coWy = true
			}
		}
	}
	for e, by := range states {
		inner := len(by) == 1 && func() bool {
			for _, n := range by {
				return n > 1
			}
			return false
		}()
		anti := e.a[0] == e.b[0] && math.Abs(e.a[0]) == 180
		switch {
		case inner || anti:
			if kept[e] > 0 {
				t.Errorf("edge %v inside %v kept", e, by)
			}
		case kept[e] != 1:
			t.Errorf("edge %v of %v kept %d times", e, by, kept[e])
		}
	}
	if !coWy {
		t.Error("no Colorado–Wyoming border")
	}
}

// Integer streams round-trip, and small deltas take few characters.
func TestIntStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var want []int
	var s intStream
	for i := range 10000 {
		v := rng.IntN(1<<uint(i%40)) - 1<<uint(i%40)/2
		want = append(want, v)
		s.put(v)
	}
	for _, v := range []int{0, -1, 1, 15, -16, 16, math.MaxInt32, math.MinInt32} {
		want = append(want, v)
		s.put(v)
	}
	got, err := decodeInts(s.String())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatal("round trip differs")
	}
	var small intStream
	for v := -15; v <= 15; v++ {
		small.put(v)
	}
	if len(small.b) != 31 {
		t.Errorf("-15..15 took %d characters, want 31", len(small.b))
	}
	if strings.ContainsAny(s.String(), "\\\"<>&") {
		t.Error("a stream holds a character that needs escaping in JSON or HTML")
	}
}

func FuzzDecodeInts(f *testing.F) {
	f.Add("AgBC_-9z")
	f.Add("")
	f.Add("gggggggggggggggggA")
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := decodeInts(s)
		if err != nil {
			return
		}
		var re intStream
		for _, v := range vs {
			re.put(v)
		}
		back, err := decodeInts(re.String())
		if err != nil || !slices.Equal(back, vs) {
			t.Fatalf("%q: decoded %v, re-encoded %q, decoded again %v (%v)", s, vs, re.String(), back, err)
		}
	})
}

// The page's streams decode to what the report holds: every unserved
// member-discipline counted once in the cells, every counting provider
// once, every county's rings.
func TestPageModelStreams(t *testing.T) {
	eng, rep, picks, _ := sampleReport(t)
	providers := rep.CountingProviders()
	m := buildPage(rep, eng.Map, providers, picks, MaxPicks)
	l := layout(rep, eng.Map)
	if len(rep.Subjects) != len(rep.Disciplines)+1 {
		t.Fatalf("subjects %v", rep.Subjects)
	}
	for li, s := range rep.Subjects {
		d := s.Key()
		L := m.Layers[li]
		kind := "discipline"
		if s.Service != nil {
			kind = "service"
		}
		if L.Key != d || L.Kind != kind || L.Name != s.Name() {
			t.Errorf("layer %d: %s %s %s", li, L.Key, L.Kind, L.Name)
		}
		cells, err := decodeInts(L.Cells)
		if err != nil {
			t.Fatal(err)
		}
		sum, k := 0, 0
		for range m.Panels {
			n := cells[k]
			k++
			for range n {
				sum += cells[k+2]
				k += 3
			}
		}
		unserved := 0
		for _, u := range rep.Unserved {
			if u.Key() == d {
				unserved++
			}
		}
		if k != len(cells) || sum != unserved {
			t.Errorf("%s: cells count %d unserved (want %d), %d of %d values read", d, sum, unserved, k, len(cells))
		}
		pts, err := decodeInts(L.Providers)
		if err != nil {
			t.Fatal(err)
		}
		inPanels := 0
		for _, p := range providers[d] {
			if l.panelOf(p.Lon, p.Lat) >= 0 {
				inPanels++
			}
		}
		got, k := 0, 0
		for range m.Panels {
			n := pts[k]
			got += n
			k += 1 + 2*n
		}
		if k != len(pts) || got != inPanels || got == 0 {
			t.Errorf("%s: %d providers in the stream, want %d", d, got, inPanels)
		}
		if len(L.Rows.County) == 0 {
			t.Errorf("%s: no rows", d)
		}
		for r, c := range L.Rows.County {
			if m.Counties.FIPS[c] == "" || L.Rows.Members[r] < L.Rows.Served[r] {
				t.Errorf("%s row %d: county %d, %d of %d", d, r, c, L.Rows.Served[r], L.Rows.Members[r])
			}
		}
	}
	geom, err := decodeInts(m.Counties.Geom)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for c, fips := range m.Counties.FIPS {
		s, _ := eng.Map.Shape(fips)
		want := 0
		for _, poly := range s.Shape {
			for _, ring := range poly {
				if len(ring) >= 4 {
					want++
				}
			}
		}
		if geom[k] != want {
			t.Fatalf("county %d (%s): %d rings, want %d", c, fips, geom[k], want)
		}
		nr := geom[k]
		k++
		for range nr {
			k += 1 + 2*geom[k]
		}
	}
	if k != len(geom) {
		t.Errorf("geometry: %d of %d values read", k, len(geom))
	}
}
