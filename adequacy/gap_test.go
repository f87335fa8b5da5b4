package adequacy_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
)

// sampleGapMembers reads the first n rows of the embedded member file.
func sampleGapMembers(t testing.TB, n int) []adequacy.GapMember {
	t.Helper()
	b, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	var out []adequacy.GapMember
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		if len(out) == n {
			break
		}
		f := strings.Split(line, ",")
		lat, _ := strconv.ParseFloat(f[1], 64)
		lon, _ := strconv.ParseFloat(f[2], 64)
		out = append(out, adequacy.GapMember{ID: f[0], Line: i + 2, Point: geo.Point{Lat: lat, Lon: lon}, HasPoint: true, ZIP: f[3]})
	}
	return out
}

// Every member × discipline answer of a gap report equals Decide's, and
// the county rows equal a brute-force roll-up.
func TestGapEqualsDecide(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 600)
	// Some ZIP-only members, one with a given county, some bad ones.
	members = append(members,
		adequacy.GapMember{ID: "Z1", Line: 9001, ZIP: "10001"},
		adequacy.GapMember{ID: "Z2", Line: 9002, ZIP: "79830"},
		adequacy.GapMember{ID: "C1", Line: 9003, Point: geo.Point{Lat: 40.75, Lon: -73.99}, HasPoint: true, CountyFIPS: "36005"},
		adequacy.GapMember{ID: "BAD1", Line: 9004, ZIP: "00000"},
		adequacy.GapMember{ID: "BAD2", Line: 9005, Point: geo.Point{Lat: 35, Lon: -50}, HasPoint: true},
		adequacy.GapMember{ID: "BAD3", Line: 9006, Point: geo.Point{Lat: 40, Lon: -74}, HasPoint: true, CountyFIPS: "99999"},
	)
	for _, profile := range []string{"cms-ma", "tx-medicaid", "commercial-example"} {
		rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{Profile: profile, AsOf: asOf, Detail: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rejected) != 3 || rep.Members != len(members)-3 {
			t.Fatalf("%s: rejected %+v", profile, rep.Rejected)
		}
		for i, want := range []string{"zip: unknown ZIP code 00000", ": the location is in no county polygon", "county_fips: unknown county 99999"} {
			if got := rep.Rejected[i].Field + ": " + rep.Rejected[i].Reason; !strings.Contains(got, want) {
				t.Errorf("rejection %d: %+v, want %q", i, rep.Rejected[i], want)
			}
		}
		byID := map[string]adequacy.GapMember{}
		for _, m := range members {
			byID[m.ID] = m
		}
		type key struct {
			fips string
			d    adequacy.Discipline
		}
		members, served := map[key]int{}, map[key]int{}
		var access []adequacy.AccessRow
		if err := rep.EachAccess(func(a *adequacy.AccessRow) error { access = append(access, *a); return nil }); err != nil {
			t.Fatal(err)
		}
		for _, a := range access {
			m := byID[a.MemberID]
			mem := adequacy.Member{ZIP: m.ZIP, CountyFIPS: m.CountyFIPS}
			if m.HasPoint {
				mem.Point = &m.Point
			}
			ds, err := eng.Decide(adequacy.Request{Member: mem, Disciplines: []adequacy.Discipline{a.Discipline}, Profile: profile, AsOf: asOf, K: 1})
			if err != nil {
				t.Fatal(err)
			}
			d := ds[0]
			nearestNPI, nearestMiles := "", math.Inf(1)
			if len(d.Nearest) > 0 {
				nearestNPI, nearestMiles = d.Nearest[0].NPI, d.Nearest[0].Miles
			}
			if a.Served != d.Served() || a.ProvidersWithin != d.ProvidersWithin || a.CountyFIPS != d.County.FIPS ||
				a.NearestNPI != nearestNPI || a.NearestMiles != nearestMiles {
				t.Errorf("%s %s %s: gap %+v, Decide served %v within %d county %s nearest %s %.6f", profile, a.MemberID, a.Discipline,
					a, d.Served(), d.ProvidersWithin, d.County.FIPS, nearestNPI, nearestMiles)
			}
			k := key{a.CountyFIPS, a.Discipline}
			members[k]++
			if a.Served {
				served[k]++
			}
		}
		for _, r := range rep.Counties {
			k := key{r.County.FIPS, r.Discipline}
			if r.Members != members[k] || r.Served != served[k] {
				t.Errorf("%s %s %s: members %d served %d, want %d %d", profile, k.fips, k.d, r.Members, r.Served, members[k], served[k])
			}
			if want := r.Served*10000 >= int(math.Round(r.RequiredPct*100))*r.Members; r.Pass != want {
				t.Errorf("%s %s %s: pass %v with %.2f%% of %.2f%%", profile, k.fips, k.d, r.Pass, r.ServedPct, r.RequiredPct)
			}
		}
	}
}

// Providers counted (422.116(e)) equal a brute-force scan: counting
// providers within a county's standard of at least one of its members.
func TestGapProvidersCounted(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 300)
	rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf, Disciplines: []adequacy.Discipline{adequacy.DC, adequacy.ST}})
	if err != nil {
		t.Fatal(err)
	}
	prof, _ := eng.Profiles.Get("cms-ma")
	county := make([]string, len(members))
	for i, m := range members {
		if c, err := eng.Map.Locate(m.Point); err == nil {
			county[i] = c.FIPS
		}
	}
	for _, r := range rep.Counties {
		rule, _ := adequacy.RuleFor(prof, r.County, r.Discipline)
		want := 0
		for pi := range eng.Network.Roster.Providers {
			p := &eng.Network.Roster.Providers[pi]
			if p.Discipline != r.Discipline || !prof.Counting.Counts(p, asOf) {
				continue
			}
			for i, m := range members {
				if county[i] == r.County.FIPS && geo.Distance(m.Point, p.Location) <= rule.RadiusMiles {
					want++
					break
				}
			}
		}
		if r.Counted != want {
			t.Errorf("%s %s: counted %d, brute force %d", r.County.FIPS, r.Discipline, r.Counted, want)
		}
		if r.MinSource != adequacy.MinimumOfficial || r.MinPass != (r.Counted >= r.MinRequired) {
			t.Errorf("%s %s: minimum %d (%s) pass %v", r.County.FIPS, r.Discipline, r.MinRequired, r.MinSource, r.MinPass)
		}
	}
}

func TestGapCredits(t *testing.T) {
	eng := engine(t, nil)
	m := []adequacy.GapMember{{ID: "DC1", Line: 2, Point: geo.Point{Lat: 38.9, Lon: -77.03}, HasPoint: true}}
	rep, err := eng.Gap(context.Background(), m, adequacy.GapOptions{AsOf: asOf, Credits: []string{"new_or_expanding_applicant"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Counties {
		// Washington DC: the CON credit for PT and OT (the CMS file's only
		// CON rows for our disciplines) plus the claimed credit.
		want := 80.0
		if r.Discipline == adequacy.PT || r.Discipline == adequacy.OT {
			want = 70
		}
		if r.RequiredPct != want {
			t.Errorf("%s: required %.1f%% (credits %v), want %.1f%%", r.Discipline, r.RequiredPct, r.Credits, want)
		}
	}
	_, err = eng.Gap(context.Background(), m, adequacy.GapOptions{AsOf: asOf, Credits: []string{"telehealth-please"}})
	var ir *adequacy.InvalidRequest
	if !errors.As(err, &ir) || ir.Violations[0].Field != "credits[0]" {
		t.Errorf("unknown credit: %v", err)
	}
}

// The ranking equals a naive greedy that recomputes every gain each round.
func TestRecruitGreedyOracle(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 2000)
	rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	var cands []adequacy.Provider
	for _, p := range eng.Network.Roster.Providers {
		if !p.Participating {
			cands = append(cands, p)
		}
	}
	picks, skip, err := rep.Recruit(context.Background(), cands)
	if err != nil {
		t.Fatal(err)
	}
	if len(picks) == 0 || skip.Participating != 0 {
		t.Fatalf("%d picks, skip %+v", len(picks), skip)
	}
	// Naive: which unserved (member, discipline) each candidate reaches.
	prof, _ := eng.Profiles.Get("cms-ma")
	unserved := map[string]bool{} // member|discipline
	for _, u := range rep.Unserved {
		unserved[u.MemberID+"|"+u.Discipline.String()] = true
	}
	byID := map[string]adequacy.GapMember{}
	for _, m := range members {
		byID[m.ID] = m
	}
	reach := make([][]string, len(cands))
	for ci, c := range cands {
		cc := c
		cc.Participating = true
		if !prof.Counting.Counts(&cc, asOf) {
			continue
		}
		for _, u := range rep.Unserved {
			if u.Discipline != c.Discipline {
				continue
			}
			m := byID[u.MemberID]
			county, _ := eng.Counties.Lookup(u.CountyFIPS)
			rule, _ := adequacy.RuleFor(prof, county, u.Discipline)
			if geo.Distance(m.Point, c.Location) <= rule.RadiusMiles {
				reach[ci] = append(reach[ci], u.MemberID+"|"+u.Discipline.String())
			}
		}
	}
	cum := 0
	for rank := 1; ; rank++ {
		best, bestGain := -1, 0
		for ci := range cands {
			g := 0
			for _, k := range reach[ci] {
				if unserved[k] {
					g++
				}
			}
			if g > bestGain {
				best, bestGain = ci, g
			}
		}
		if best < 0 {
			if rank-1 != len(picks) {
				t.Errorf("naive greedy made %d picks, Recruit %d", rank-1, len(picks))
			}
			break
		}
		p := picks[rank-1]
		cum += bestGain
		if p.NewlyServed != bestGain || p.CumulativeServed != cum {
			t.Fatalf("rank %d: Recruit %s newly %d cumulative %d; naive %s newly %d cumulative %d", rank, p.Provider.NPI, p.NewlyServed,
				p.CumulativeServed, cands[best].NPI, bestGain, cum)
		}
		for _, k := range reach[best] {
			delete(unserved, k)
		}
	}
}

// Without Detail, served members' nearest distances start as estimates;
// the quantiles and unserved rows must still equal the exact ones.
func TestGapQuantilesExact(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 2000)
	exact, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf, Detail: true})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if len(exact.Counties) != len(fast.Counties) || len(exact.Unserved) != len(fast.Unserved) {
		t.Fatalf("rows differ: %d/%d counties, %d/%d unserved", len(exact.Counties), len(fast.Counties), len(exact.Unserved), len(fast.Unserved))
	}
	same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
	for i, e := range exact.Counties {
		f := fast.Counties[i]
		if !same(e.NearestP50, f.NearestP50) || !same(e.NearestP90, f.NearestP90) || e.Served != f.Served || e.Counted != f.Counted {
			t.Errorf("%s %s: exact p50 %v p90 %v, fast p50 %v p90 %v", e.County.FIPS, e.Discipline, e.NearestP50, e.NearestP90, f.NearestP50, f.NearestP90)
		}
	}
	for i := range exact.Unserved {
		if exact.Unserved[i] != fast.Unserved[i] {
			t.Errorf("unserved %d: %+v vs %+v", i, exact.Unserved[i], fast.Unserved[i])
		}
	}
}

// The providers a report's maps show are the ones its rows count: the
// profile's counting rule on the report's date, not "participating and in
// person". A provider not accepting new patients, or not yet (or no
// longer) effective, is absent where the profile requires it.
func TestGapCountingProviders(t *testing.T) {
	nyc := geo.Point{Lat: 40.75, Lon: -73.99}
	near := func(i int) geo.Point { return geo.Point{Lat: nyc.Lat + 0.001*float64(i), Lon: nyc.Lon} }
	prov := func(i int, name string, f func(p *adequacy.Provider)) adequacy.Provider {
		p := adequacy.Provider{NPI: strconv.Itoa(1000000000 + i), Name: name, Discipline: adequacy.PT, Location: near(i),
			Participating: true, AcceptingNewPatients: true, Effective: mustDate("2020-01-01")}
		if f != nil {
			f(&p)
		}
		return p
	}
	roster := &adequacy.Roster{Version: "counting", Providers: []adequacy.Provider{
		prov(1, "counts", nil),
		prov(2, "not accepting", func(p *adequacy.Provider) { p.AcceptingNewPatients = false }),
		prov(3, "not yet effective", func(p *adequacy.Provider) { p.Effective = mustDate("2026-11-25") }),
		prov(4, "terminated", func(p *adequacy.Provider) { p.Termination = asOf }),
		prov(5, "telehealth only", func(p *adequacy.Provider) { p.TelehealthOnly = true }),
		prov(6, "not participating", func(p *adequacy.Provider) { p.Participating = false }),
		prov(7, "effective today", func(p *adequacy.Provider) { p.Effective = asOf }),
	}}
	eng := engine(t, roster)
	members := []adequacy.GapMember{{ID: "M1", Line: 2, Point: nyc, HasPoint: true}}
	for _, tc := range []struct {
		profile string
		want    []int // provider numbers on the map
	}{
		{"cms-ma", []int{1, 2, 7}},          // accepting new patients not required
		{"commercial-example", []int{1, 7}}, // required
		{"tx-medicaid", []int{1, 2, 7}},     // not required
	} {
		rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{Profile: tc.profile, AsOf: asOf, Disciplines: []adequacy.Discipline{adequacy.PT}})
		if err != nil {
			t.Fatal(err)
		}
		var want []geo.Point
		for _, i := range tc.want {
			want = append(want, near(i))
		}
		got := rep.CountingProviders()
		if len(got) != 1 || !slices.Equal(got["PT"], want) {
			t.Errorf("%s: map shows %v, want %v", tc.profile, got, want)
		}
		// The rows count the same providers: every one is within reach.
		if len(rep.Counties) != 1 || rep.Counties[0].Counted != len(tc.want) {
			t.Errorf("%s: rows count %+v, want %d", tc.profile, rep.Counties, len(tc.want))
		}
	}
}

// Under a choice-of-2 standard a pick can raise another candidate's gain:
// once A leaves member X one provider short, B (within reach of X alone)
// newly serves X, and must be picked before E, which serves no one and
// only brings two members a provider closer.
func TestRecruitChoiceOfTwo(t *testing.T) {
	base := geo.Point{Lat: 31.0, Lon: -102.0}
	eng := engine(t, nil)
	prof, _ := eng.Profiles.Get("tx-medicaid")
	radius := math.Inf(1)
	for _, lon := range []float64{-102.0, -101.0, -100.0} {
		for _, lat := range []float64{31.0, 34.0} {
			s, err := eng.Map.Locate(geo.Point{Lat: lat, Lon: lon})
			if err != nil {
				t.Fatal(err)
			}
			c, _ := eng.Counties.Lookup(s.FIPS)
			r, _ := adequacy.RuleFor(prof, c, adequacy.PT)
			radius = math.Min(radius, r.RadiusMiles)
		}
	}
	east := func(p geo.Point, k float64) geo.Point { // k radii east, along the parallel
		return geo.Point{Lat: p.Lat, Lon: p.Lon + k*radius/(69.17*math.Cos(p.Lat*math.Pi/180))}
	}
	x, y := base, east(base, 1.6)
	z := geo.Point{Lat: 34.0, Lon: -101.0}
	roster := &adequacy.Roster{Version: "t", Providers: []adequacy.Provider{{NPI: "1000000001", Name: "near Y", Discipline: adequacy.PT,
		Location: east(y, 0.3), Participating: true, AcceptingNewPatients: true}}}
	eng = engine(t, roster)
	members := []adequacy.GapMember{{ID: "X", Line: 2, Point: x, HasPoint: true}, {ID: "Y1", Line: 3, Point: y, HasPoint: true},
		{ID: "Y2", Line: 4, Point: y, HasPoint: true}, {ID: "Z1", Line: 5, Point: z, HasPoint: true}, {ID: "Z2", Line: 6, Point: z, HasPoint: true}}
	rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{Profile: "tx-medicaid", AsOf: asOf, Disciplines: []adequacy.Discipline{adequacy.PT}, Detail: true})
	if err != nil {
		t.Fatal(err)
	}
	within := map[string]int{}
	rep.EachAccess(func(a *adequacy.AccessRow) error { within[a.MemberID] = a.ProvidersWithin; return nil })
	if within["X"] != 0 || within["Y1"] != 1 || within["Z1"] != 0 {
		t.Fatalf("set-up: providers within %v", within)
	}
	cand := func(npi string, p geo.Point) adequacy.Provider {
		return adequacy.Provider{NPI: npi, Name: npi, Discipline: adequacy.PT, Location: p, AcceptingNewPatients: true}
	}
	cands := []adequacy.Provider{cand("1000000002", east(z, 0.1)), cand("1000000003", east(x, -0.8)), cand("1000000004", east(x, 0.8))} // E, B, A
	picks, _, err := rep.Recruit(context.Background(), cands)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range picks {
		got = append(got, fmt.Sprintf("%s+%d", p.Provider.NPI, p.NewlyServed))
	}
	if want := []string{"1000000004+2", "1000000003+1", "1000000002+0"}; !slices.Equal(got, want) {
		t.Errorf("picks %v, want %v (A, then B, then E)", got, want)
	}
}
