package adequacy

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/geo"
)

// Places far enough apart that no test move brings one near another.
var (
	nyc     = geo.Point{Lat: 40.7505, Lon: -73.9934}
	buffalo = geo.Point{Lat: 42.8864, Lon: -78.8784}
	albany  = geo.Point{Lat: 42.6526, Lon: -73.7562}
)

// offset moves p about miles miles north.
func offset(p geo.Point, miles float64) geo.Point {
	return geo.Point{Lat: p.Lat + miles/69.05, Lon: p.Lon}
}

func prov(npi string, d Discipline, at geo.Point) Provider {
	return Provider{NPI: npi, Discipline: d, Location: at, Name: "P " + npi, CountyFIPS: "36061",
		Participating: true, AcceptingNewPatients: true}
}

func with(p Provider, f func(*Provider)) Provider { f(&p); return p }

// summary renders a diff compactly for table tests.
func summary(d RosterDiff) string {
	var parts []string
	for _, p := range d.Added {
		parts = append(parts, "+"+p.NPI+p.Discipline.String())
	}
	for _, p := range d.Removed {
		parts = append(parts, "-"+p.NPI+p.Discipline.String())
	}
	for _, c := range d.Moved {
		s := fmt.Sprintf("~%s%s %.0fmi", c.New.NPI, c.New.Discipline, c.Miles)
		if len(c.Fields) > 0 {
			s += " " + strings.Join(c.Fields, ",")
		}
		parts = append(parts, s)
	}
	for _, c := range d.Changed {
		parts = append(parts, "*"+c.New.NPI+c.New.Discipline.String()+" "+strings.Join(c.Fields, ","))
	}
	return strings.Join(parts, " ")
}

func TestDiffRosters(t *testing.T) {
	a := prov("1234567893", PT, nyc)
	b := prov("1245319599", OT, buffalo)
	date := func(s string) Date { d, _ := ParseDate(s); return d }
	tests := []struct {
		name      string
		old, new  []Provider
		moveMiles float64
		want      string
		unchanged int
	}{
		{"identical", []Provider{a, b}, []Provider{b, a}, 0.1, "", 2},
		{"added and removed", []Provider{a}, []Provider{b}, 0.1, "+1245319599OT -1234567893PT", 0},
		{"moved past the threshold", []Provider{a}, []Provider{with(a, func(p *Provider) { p.Location = offset(nyc, 2) })}, 0.1, "~1234567893PT 2mi", 0},
		{"a shift within the threshold is nothing", []Provider{a}, []Provider{with(a, func(p *Provider) { p.Location = offset(nyc, 0.05) })}, 0.1, "", 1},
		{"threshold 0: every shift is a move", []Provider{a}, []Provider{with(a, func(p *Provider) { p.Location = offset(nyc, 0.05) })}, 0, "~1234567893PT 0mi", 0},
		{"participation", []Provider{a}, []Provider{with(a, func(p *Provider) { p.Participating = false })}, 0.1, "*1234567893PT participating", 0},
		{"telehealth and accepting", []Provider{a}, []Provider{with(a, func(p *Provider) { p.TelehealthOnly, p.AcceptingNewPatients = true, false })}, 0.1,
			"*1234567893PT telehealth_only,accepting_new_patients", 0},
		{"dates", []Provider{a}, []Provider{with(a, func(p *Provider) { p.Effective, p.Termination = date("2026-01-01"), date("2027-01-01") })}, 0.1,
			"*1234567893PT effective_date,termination_date", 0},
		{"name, address, county, networks", []Provider{a}, []Provider{with(a, func(p *Provider) {
			p.Name, p.Address.ZIP, p.CountyFIPS, p.Networks = "New Name", "10001", "36047", []string{"HMO"}
		})}, 0.1, "*1234567893PT name,address,county_fips,networks", 0},
		{"a designation gained", []Provider{a}, []Provider{with(a, func(p *Provider) { p.Designations = []string{"CLT"} })}, 0.1,
			"*1234567893PT designations", 0},
		{"a service dropped, a network added", []Provider{with(a, func(p *Provider) { p.Services, p.Networks = []string{"vestibular"}, []string{"A"} })},
			[]Provider{with(a, func(p *Provider) { p.Networks = []string{"A", "B"} })}, 0.1, "*1234567893PT networks,services", 0},
		{"the same lists are no change", []Provider{with(a, func(p *Provider) { p.Designations, p.Networks = []string{"CLT", "OCS"}, []string{"A"} })},
			[]Provider{with(a, func(p *Provider) { p.Designations, p.Networks = []string{"CLT", "OCS"}, []string{"A"} })}, 0.1, "", 1},
		{"moved and changed is a move that lists the changes", []Provider{a}, []Provider{with(a, func(p *Provider) {
			p.Location, p.Participating = offset(nyc, 3), false
		})}, 0.1, "~1234567893PT 3mi participating", 0},
		{"a small shift with a change is a change", []Provider{a}, []Provider{with(a, func(p *Provider) {
			p.Location, p.Participating = offset(nyc, 0.01), false
		})}, 0.1, "*1234567893PT participating", 0},
		{"another discipline is another row", []Provider{a}, []Provider{with(a, func(p *Provider) { p.Discipline = OT })}, 0.1,
			"+1234567893OT -1234567893PT", 0},
		{"nil rosters", nil, nil, 0.1, "", 0},
	}
	// Multi-location NPIs: rows pair by nearest location within the NPI
	// and discipline, never crossing to another site.
	m1, m2, m3 := prov("1003000126", DC, nyc), prov("1003000126", DC, buffalo), prov("1003000126", DC, albany)
	tests = append(tests, []struct {
		name      string
		old, new  []Provider
		moveMiles float64
		want      string
		unchanged int
	}{
		{"multi-site: one site moves, the other stays", []Provider{m1, m2}, []Provider{with(m1, func(p *Provider) { p.Location = offset(nyc, 1) }), m2}, 0.1,
			"~1003000126DC 1mi", 1},
		{"multi-site: a site closes", []Provider{m1, m2, m3}, []Provider{m3, m1}, 0.1, "-1003000126DC", 2},
		{"multi-site: a site opens", []Provider{m1}, []Provider{m2, m1}, 0.1, "+1003000126DC", 1},
		{"multi-site: both move, each to its nearest", []Provider{m1, m2},
			[]Provider{with(m2, func(p *Provider) { p.Location = offset(buffalo, 4) }), with(m1, func(p *Provider) { p.Location = offset(nyc, 2) })}, 0.1,
			"~1003000126DC 2mi ~1003000126DC 4mi", 0},
		{"multi-site: a one-for-one swap of sites is a move", []Provider{m1, m2},
			[]Provider{with(m2, func(p *Provider) { p.Location = offset(buffalo, 0.01) }), m3}, 0.1, "~1003000126DC 132mi", 1},
		{"multi-site: one site's participation changes", []Provider{m1, m2}, []Provider{m1, with(m2, func(p *Provider) { p.Participating = false })}, 0.1,
			"*1003000126DC participating", 1},
		{"two rows at one point pair up", []Provider{m1, m1}, []Provider{m1, with(m1, func(p *Provider) { p.Name = "Other" })}, 0.1,
			"*1003000126DC name", 1},
	}...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var old, new *Roster
			if tc.old != nil {
				old = &Roster{Version: "v1", Providers: tc.old}
			}
			if tc.new != nil {
				new = &Roster{Version: "v2", Providers: tc.new}
			}
			d := DiffRosters(old, new, tc.moveMiles)
			if got := summary(d); got != tc.want {
				t.Errorf("diff = %q, want %q", got, tc.want)
			}
			if d.Total.Unchanged != tc.unchanged {
				t.Errorf("unchanged = %d, want %d", d.Total.Unchanged, tc.unchanged)
			}
			checkDiffSums(t, d, len(tc.old), len(tc.new))
		})
	}
}

// checkDiffSums checks the counts against the rows and the roster sizes.
func checkDiffSums(t *testing.T, d RosterDiff, nOld, nNew int) {
	t.Helper()
	var sum DiffCounts
	for _, disc := range Disciplines {
		c, ok := d.Counts[disc]
		if !ok {
			t.Errorf("no counts for %s", disc)
		}
		sum.Added += c.Added
		sum.Removed += c.Removed
		sum.Moved += c.Moved
		sum.Changed += c.Changed
		sum.Unchanged += c.Unchanged
	}
	if sum != d.Total {
		t.Errorf("discipline counts add to %+v, total %+v", sum, d.Total)
	}
	if d.Total.Added != len(d.Added) || d.Total.Removed != len(d.Removed) || d.Total.Moved != len(d.Moved) || d.Total.Changed != len(d.Changed) {
		t.Errorf("counts %+v disagree with the rows", d.Total)
	}
	if got := d.Total.Removed + d.Total.Moved + d.Total.Changed + d.Total.Unchanged; got != nOld {
		t.Errorf("old rows accounted for: %d of %d", got, nOld)
	}
	if got := d.Total.Added + d.Total.Moved + d.Total.Changed + d.Total.Unchanged; got != nNew {
		t.Errorf("new rows accounted for: %d of %d", got, nNew)
	}
	for _, c := range d.Moved {
		if c.Miles <= d.MoveMiles || c.Miles != geo.Distance(c.Old.Location, c.New.Location) {
			t.Errorf("move of %v miles (threshold %v)", c.Miles, d.MoveMiles)
		}
	}
}

// mutation is what the oracle did to one row.
type mutation int

const (
	keep mutation = iota
	remove
	move
	shift       // below the threshold: no change at all
	change      // fields only
	shiftChange // below the threshold, and fields
	moveChange  // past the threshold, and fields
	numMutations
)

type rowKey struct {
	npi  string
	d    Discipline
	at   geo.Point
	name string
}

// genRosters makes a roster of NPIs with one to three sites per
// discipline, every site of an NPI at least 50 miles from its others, and
// a second roster derived from it by known mutations: rows kept, removed,
// moved 1–5 miles, shifted less than 0.05 mile, changed in their fields,
// and new sites and new NPIs added. It returns the rosters and the diff
// the construction implies.
func genRosters(seed uint64, npis int) (old, new *Roster, want RosterDiff) {
	r := rand.New(rand.NewPCG(seed, 42))
	const moveMiles = 0.5
	want = RosterDiff{Old: "old", New: "new", MoveMiles: moveMiles, Counts: map[Discipline]DiffCounts{}}
	var counts [numDisciplines]DiffCounts
	randomPoint := func() geo.Point {
		return geo.Point{Lat: 30 + 15*r.Float64(), Lon: -120 + 45*r.Float64()}
	}
	farFrom := func(others []geo.Point) geo.Point {
		for {
			p := randomPoint()
			ok := true
			for _, o := range others {
				if geo.Distance(p, o) < 50 {
					ok = false
					break
				}
			}
			if ok {
				return p
			}
		}
	}
	jump := func(p geo.Point, miles float64) geo.Point {
		θ := 2 * math.Pi * r.Float64()
		return geo.Point{Lat: p.Lat + miles*math.Cos(θ)/69.05, Lon: p.Lon + miles*math.Sin(θ)/(69.05*math.Cos(p.Lat*math.Pi/180))}
	}
	alter := func(p *Provider) []string {
		switch r.IntN(4) {
		case 0:
			p.Participating = !p.Participating
			return []string{"participating"}
		case 1:
			p.Name += " II"
			p.AcceptingNewPatients = !p.AcceptingNewPatients
			return []string{"name", "accepting_new_patients"}
		case 2:
			p.Termination, _ = ParseDate("2027-01-01")
			return []string{"termination_date"}
		default:
			p.CountyFIPS, p.TelehealthOnly = "48201", !p.TelehealthOnly
			return []string{"county_fips", "telehealth_only"}
		}
	}
	var op, np []Provider
	for n := range npis {
		npi := fmt.Sprintf("%010d", 1_000_000_000+n*7919)
		for _, d := range Disciplines {
			if r.IntN(3) != 0 {
				continue
			}
			var sites []geo.Point
			for range 1 + r.IntN(3) {
				sites = append(sites, farFrom(sites))
			}
			removedAny := false
			for _, at := range sites {
				p := Provider{NPI: npi, Discipline: d, Location: at, Name: "Provider " + npi, CountyFIPS: "36061",
					Participating: r.IntN(8) != 0, AcceptingNewPatients: true}
				op = append(op, p)
				q := p
				m := mutation(r.IntN(int(numMutations)))
				if m >= numMutations/2 && r.IntN(2) == 0 {
					m = keep // mostly unchanged, as real rosters are
				}
				c := &counts[d]
				switch m {
				case keep:
					c.Unchanged++
				case remove:
					removedAny = true
					want.Removed = append(want.Removed, p)
					c.Removed++
					continue
				case move:
					q.Location = jump(at, 1+4*r.Float64())
					want.Moved = append(want.Moved, ProviderChange{Old: p, New: q})
					c.Moved++
				case shift:
					q.Location = jump(at, 0.05*r.Float64())
					c.Unchanged++
				case change:
					f := alter(&q)
					want.Changed = append(want.Changed, ProviderChange{Old: p, New: q, Fields: f})
					c.Changed++
				case shiftChange:
					q.Location = jump(at, 0.05*r.Float64())
					f := alter(&q)
					want.Changed = append(want.Changed, ProviderChange{Old: p, New: q, Fields: f})
					c.Changed++
				case moveChange:
					q.Location = jump(at, 1+4*r.Float64())
					f := alter(&q)
					want.Moved = append(want.Moved, ProviderChange{Old: p, New: q, Fields: f})
					c.Moved++
				}
				np = append(np, q)
			}
			// A new site, only where none closed: a closure and an
			// opening in one NPI and discipline pair up as a move.
			if !removedAny && r.IntN(10) == 0 {
				q := Provider{NPI: npi, Discipline: d, Location: farFrom(sites), Name: "New site", Participating: true}
				np = append(np, q)
				want.Added = append(want.Added, q)
				counts[d].Added++
			}
		}
	}
	for _, d := range Disciplines {
		want.Counts[d] = counts[d]
		want.Total.Added += counts[d].Added
		want.Total.Removed += counts[d].Removed
		want.Total.Moved += counts[d].Moved
		want.Total.Changed += counts[d].Changed
		want.Total.Unchanged += counts[d].Unchanged
	}
	r.Shuffle(len(np), func(i, j int) { np[i], np[j] = np[j], np[i] })
	return &Roster{Version: "old", Providers: op}, &Roster{Version: "new", Providers: np}, want
}

func keyOf(p Provider) rowKey { return rowKey{p.NPI, p.Discipline, p.Location, p.Name} }

func keys(ps []Provider) []rowKey {
	out := make([]rowKey, len(ps))
	for i, p := range ps {
		out[i] = keyOf(p)
	}
	slices.SortFunc(out, func(a, b rowKey) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out
}

type changeKey struct {
	old, new rowKey
	fields   string
}

func changeKeys(cs []ProviderChange) []changeKey {
	out := make([]changeKey, len(cs))
	for i, c := range cs {
		f := slices.Clone(c.Fields)
		slices.Sort(f)
		out[i] = changeKey{keyOf(c.Old), keyOf(c.New), strings.Join(f, ",")}
	}
	slices.SortFunc(out, func(a, b changeKey) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return out
}

// The diff of two generated rosters is exactly the mutations that made
// one from the other.
func TestDiffOracle(t *testing.T) {
	for seed := range uint64(5) {
		old, new, want := genRosters(seed, 800)
		got := DiffRosters(old, new, want.MoveMiles)
		if !reflect.DeepEqual(got.Counts, want.Counts) || got.Total != want.Total {
			t.Errorf("seed %d: counts\n got %+v %+v\nwant %+v %+v", seed, got.Counts, got.Total, want.Counts, want.Total)
		}
		if !reflect.DeepEqual(keys(got.Added), keys(want.Added)) {
			t.Errorf("seed %d: added differ", seed)
		}
		if !reflect.DeepEqual(keys(got.Removed), keys(want.Removed)) {
			t.Errorf("seed %d: removed differ", seed)
		}
		if !reflect.DeepEqual(changeKeys(got.Moved), changeKeys(want.Moved)) {
			t.Errorf("seed %d: moved differ", seed)
		}
		if !reflect.DeepEqual(changeKeys(got.Changed), changeKeys(want.Changed)) {
			t.Errorf("seed %d: changed differ", seed)
		}
		checkDiffSums(t, got, len(old.Providers), len(new.Providers))
		if want.Total.Moved == 0 || want.Total.Changed == 0 || want.Total.Added == 0 || want.Total.Removed == 0 {
			t.Errorf("seed %d: the generator made no %+v", seed, want.Total)
		}
		// The diff does not depend on row order.
		again := DiffRosters(new, old, want.MoveMiles)
		if again.Total.Added != got.Total.Removed || again.Total.Moved != got.Total.Moved || again.Total.Changed != got.Total.Changed {
			t.Errorf("seed %d: reversed diff %+v vs %+v", seed, again.Total, got.Total)
		}
	}
}

// Large groups (an organisation NPI re-geocoded at thousands of sites)
// take the bounded-memory path and still pair each site with its own.
func TestDiffLargeGroup(t *testing.T) {
	var old, new []Provider
	for i := range 1100 {
		at := geo.Point{Lat: 25 + float64(i%40), Lon: -120 + float64(i/40)}
		p := prov("1003000126", PT, at)
		old = append(old, p)
		new = append(new, with(p, func(p *Provider) { p.Location = offset(at, 0.2) }))
	}
	if len(old)*len(new) <= maxPairs {
		t.Fatal("the group is too small to test the large-group path")
	}
	d := DiffRosters(&Roster{Providers: old}, &Roster{Providers: new}, 0.1)
	if d.Total.Moved != len(old) || d.Total.Added != 0 || d.Total.Removed != 0 {
		t.Fatalf("total %+v", d.Total)
	}
	for _, c := range d.Moved {
		if c.Miles > 0.3 {
			t.Fatalf("paired sites %.1f miles apart", c.Miles)
		}
	}
}

func TestCheckShrink(t *testing.T) {
	stats := func(dc, pt, ot, st int) NetworkStats {
		var s NetworkStats
		s.Participating = [numDisciplines]int{dc, pt, ot, st}
		return s
	}
	tests := []struct {
		name     string
		old, new NetworkStats
		max      float64
		want     string // "" = allowed
	}{
		{"no change", stats(10, 10, 10, 10), stats(10, 10, 10, 10), 0.2, ""},
		{"exactly the limit", stats(10, 10, 10, 10), stats(8, 10, 10, 10), 0.2, ""},
		{"past the limit", stats(10, 10, 10, 10), stats(7, 10, 10, 10), 0.2, "DC participating 10 → 7 (−30.0%)"},
		{"two disciplines", stats(10, 100, 10, 10), stats(10, 50, 10, 0), 0.2, "PT participating 100 → 50 (−50.0%), ST participating 10 → 0 (−100.0%)"},
		{"growth", stats(10, 10, 10, 10), stats(20, 30, 10, 10), 0, ""},
		{"none before", stats(0, 0, 0, 0), stats(0, 5, 0, 0), 0, ""},
		{"zero allows no fall", stats(10, 10, 10, 10), stats(10, 9, 10, 10), 0, "PT participating 10 → 9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckShrink(tc.old, tc.new, tc.max)
			if tc.want == "" {
				if err != nil {
					t.Errorf("err = %v", err)
				}
				return
			}
			var se *ShrinkError
			if !errors.As(err, &se) || !errors.Is(err, ErrShrink) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// One million rows against a mutated copy, as a nightly reload would.
func BenchmarkDiffRosters(b *testing.B) {
	old, new, want := genRosters(1, 375_000)
	b.ReportMetric(float64(len(old.Providers)), "rows")
	b.ResetTimer()
	for b.Loop() {
		d := DiffRosters(old, new, want.MoveMiles)
		if d.Total != want.Total {
			b.Fatal("wrong diff")
		}
	}
}
