package adequacy_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/geo"
)

// synthNetwork is an engine serving a synthetic roster in a few states,
// with synthetic members there.
func synthNetwork(t testing.TB, seed uint64, states []string, providers, members int) (*adequacy.Engine, []adequacy.GapMember) {
	t.Helper()
	eng, ct, err := data.NewEngine(data.Setup{})
	if err != nil {
		t.Fatal(err)
	}
	w := &synth.World{Counties: ct.Counties, Map: eng.Map, ZIPs: eng.ZIPs}
	ps, err := w.Providers(synth.Config{Seed: seed, States: states, Count: providers, NonParticipating: 0.15, TelehealthOnly: 0.05, Terminated: 0.05, ByZIP: true})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := w.Members(synth.Config{Seed: seed + 1, States: states, Count: members, ByZIP: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := adequacy.NewNetwork(&adequacy.Roster{Version: "synth", Providers: ps}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gm := make([]adequacy.GapMember, len(ms))
	for i, m := range ms {
		gm[i] = adequacy.GapMember{ID: m.ID, Line: i + 2, Point: m.Point, HasPoint: true, CountyFIPS: m.CountyFIPS}
	}
	return eng.WithNetwork(n), gm
}

// bruteServing is the oracle for CountyProviders: every member × every
// counting provider, exact distance, within the member's county's radius.
func bruteServing(t *testing.T, eng *adequacy.Engine, members []adequacy.GapMember, ds []adequacy.Discipline) map[string]bool {
	t.Helper()
	prof, _ := eng.Profiles.Get("cms-ma")
	out := map[string]bool{}
	for _, m := range members {
		c, err := eng.Counties.Lookup(m.CountyFIPS)
		if err != nil {
			t.Fatal(err)
		}
		for pi := range eng.Network.Roster.Providers {
			p := &eng.Network.Roster.Providers[pi]
			if !slices.Contains(ds, p.Discipline) || !prof.Counting.Counts(p, asOf) {
				continue
			}
			rule, _ := adequacy.RuleFor(prof, c, p.Discipline)
			if geo.Distance(m.Point, p.Location) <= rule.RadiusMiles {
				out[fmt.Sprintf("%s %s %d", c.FIPS, p.Discipline, pi)] = true
			}
		}
	}
	return out
}

// CountyProviders equals a brute-force scan, and each county row counts
// exactly its entries.
func TestCountyProvidersBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		seed   uint64
		states []string
	}{{"rural west", 41, []string{"WY", "MT"}}, {"dense east", 42, []string{"RI", "CT"}}, {"islands and the antimeridian", 43, []string{"AK", "HI"}}} {
		t.Run(tc.name, func(t *testing.T) {
			eng, members := synthNetwork(t, tc.seed, tc.states, 700, 400)
			rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf})
			if err != nil {
				t.Fatal(err)
			}
			got, err := rep.CountyProviders()
			if err != nil {
				t.Fatal(err)
			}
			want := bruteServing(t, eng, members, adequacy.Disciplines)
			counted := map[string]int{}
			seen := map[string]bool{}
			for i, cp := range got {
				pos := cp.RosterRow
				if &eng.Network.Roster.Providers[pos] != cp.Provider {
					t.Fatalf("entry %d: roster row %d is not its provider", i, pos)
				}
				k := fmt.Sprintf("%s %s %d", cp.County.FIPS, cp.Discipline, pos)
				if !want[k] || seen[k] {
					t.Errorf("entry %s: in brute force %v, repeated %v", k, want[k], seen[k])
				}
				seen[k] = true
				counted[cp.County.FIPS+" "+cp.Discipline.String()]++
				if i > 0 {
					p := got[i-1]
					if c := cmp.Or(strings.Compare(p.County.FIPS, cp.County.FIPS), cmp.Compare(p.Discipline, cp.Discipline),
						strings.Compare(p.Provider.NPI, cp.Provider.NPI), cmp.Compare(p.RosterRow, cp.RosterRow)); c >= 0 {
						t.Errorf("entries %d and %d out of order", i-1, i)
					}
				}
			}
			if len(seen) != len(want) {
				t.Errorf("%d entries, brute force %d", len(seen), len(want))
			}
			for _, r := range rep.Counties {
				if n := counted[r.County.FIPS+" "+r.Discipline.String()]; n != r.Counted {
					t.Errorf("%s %s: counted %d, entries %d", r.County.FIPS, r.Discipline, r.Counted, n)
				}
			}
			if len(want) == 0 {
				t.Fatal("no provider serves any county: the test proves nothing")
			}
			// Every participating provider is listed or said why not, once.
			unlisted, err := rep.Unlisted()
			if err != nil {
				t.Fatal(err)
			}
			listed := map[*adequacy.Provider]bool{}
			for _, cp := range got {
				listed[cp.Provider] = true
			}
			prof, _ := eng.Profiles.Get("cms-ma")
			for _, u := range unlisted {
				if listed[u.Provider] || !u.Provider.Participating || u.Reason == "" {
					t.Errorf("unlisted %+v: listed %v", u, listed[u.Provider])
				}
				if counts := prof.Counting.Counts(u.Provider, asOf); counts != strings.HasPrefix(u.Reason, "no one in the census") {
					t.Errorf("unlisted %s counts %v, reason %q", u.Provider.NPI, counts, u.Reason)
				}
				listed[u.Provider] = true
			}
			for i := range eng.Network.Roster.Providers {
				if p := &eng.Network.Roster.Providers[i]; p.Participating != listed[p] {
					t.Errorf("provider %d (participating %v) listed %v", i, p.Participating, listed[p])
				}
			}
		})
	}
}

func TestServiceArea(t *testing.T) {
	eng := engine(t, nil)
	la, _ := eng.Counties.Lookup("06037") // Los Angeles: SSA 05200 and 05210
	a, err := adequacy.NewServiceArea(eng.Counties, []string{"ssa:05200", "fips:36061", "01000"}, "given")
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]bool{"05200": true, "05210": false, "33420": true, "01000": true, "01010": false} {
		if a.HasSSA(code) != want {
			t.Errorf("HasSSA(%s) = %v", code, !want)
		}
	}
	if got := a.SSAOf(la); !slices.Equal(got, []string{"05200"}) {
		t.Errorf("SSAOf(Los Angeles) = %v", got)
	}
	if got := len(a.Counties()); got != 3 {
		t.Errorf("%d counties", got)
	}
	baldwin, _ := eng.Counties.Lookup("01003")
	if got := a.SSAOf(baldwin); !slices.Equal(got, []string{"01010"}) || a.HasCounty(baldwin) {
		t.Errorf("a county outside: SSAOf %v, HasCounty %v", got, a.HasCounty(baldwin))
	}
	whole := adequacy.ServiceAreaOf([]*adequacy.County{la}, "members")
	if !whole.HasSSA("05200") || !whole.HasSSA("05210") || whole.SSACodes() != 2 {
		t.Errorf("whole Los Angeles: %d codes", whole.SSACodes())
	}
	for _, tc := range []struct {
		codes []string
		want  string
	}{
		{[]string{"1234"}, `"1234" is not a county code`},
		{[]string{"ssa:01001"}, "01001 is not a SSA county code of the county table"},
		{[]string{"zip:10001"}, `"zip:10001" is not a county code`},
		{[]string{"99999"}, "99999 is not a SSA or FIPS county code"},
		{nil, "no county codes"},
	} {
		_, err := adequacy.NewServiceArea(eng.Counties, tc.codes, "given")
		if !errors.Is(err, adequacy.ErrServiceArea) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.codes, err, tc.want)
		}
	}
	// A bare code that is an SSA code of one county and the FIPS code of
	// another is refused.
	var amb string
	for _, c := range eng.Counties.All() {
		for _, s := range c.CMSCounties {
			if o, err := eng.Counties.Lookup(s); err == nil && o != c {
				amb = s
			}
		}
	}
	if amb == "" {
		t.Fatal("no code is both an SSA and a FIPS code")
	}
	if _, err := adequacy.NewServiceArea(eng.Counties, []string{amb}, "given"); err == nil || !strings.Contains(err.Error(), "write ssa:"+amb+" or fips:"+amb) {
		t.Errorf("ambiguous %s: %v", amb, err)
	}
}

// Each field edit, one record at a time.
func TestHSDEdits(t *testing.T) {
	eng := engine(t, nil)
	area, err := adequacy.NewServiceArea(eng.Counties, []string{"fips:36061"}, "given (--service-area)")
	if err != nil {
		t.Fatal(err)
	}
	good := adequacy.HSDRecord{Table: adequacy.FacilityTable, Discipline: adequacy.PT, SSA: "33420", Name: "Good PT", NPI: "1234567893",
		Specialty: "Physical Therapy", SpecialtyCode: "049", Street: "1 Penn Plaza", City: "New York", State: "NY", ZIP: "10119",
		AcceptsNewPatients: "Y", LocationState: "NY"}
	if e := good.Edits(area); len(e) != 0 {
		t.Fatalf("good record fails %+v", e)
	}
	for _, tc := range []struct {
		name  string
		edit  func(r *adequacy.HSDRecord)
		field adequacy.HSDField
		want  string
	}{
		{"NPI check digit", func(r *adequacy.HSDRecord) { r.NPI = "1234567890" }, adequacy.FieldNPI, "not a valid NPI: NPI 1234567890 fails its check digit (want 3)"},
		{"NPI length", func(r *adequacy.HSDRecord) { r.NPI = "12345" }, adequacy.FieldNPI, `not a valid NPI: an NPI is 10 digits (got "12345")`},
		{"unknown code", func(r *adequacy.HSDRecord) { r.SpecialtyCode = "999" }, adequacy.FieldSpecialtyCode, `specialty code "999" is not a code of the facility table (049, 050, 051)`},
		{"code of the other table", func(r *adequacy.HSDRecord) { r.SpecialtyCode = "010" }, adequacy.FieldSpecialtyCode, `specialty code "010" is not a code of the facility table`},
		{"provider table", func(r *adequacy.HSDRecord) { r.Table = adequacy.ProviderTable }, adequacy.FieldSpecialtyCode, `specialty code "049" is not a code of the provider table (010)`},
		{"specialty name", func(r *adequacy.HSDRecord) { r.Specialty = "Physiotherapy" }, adequacy.FieldSpecialty, `specialty "Physiotherapy" does not match code 049 (Physical Therapy)`},
		{"outside the service area", func(r *adequacy.HSDRecord) { r.SSA = "33330" }, adequacy.FieldSSA, "SSA county 33330 is outside the service area (given (--service-area))"},
		{"no SSA code", func(r *adequacy.HSDRecord) { r.SSA = "" }, adequacy.FieldSSA, "no SSA county code"},
		{"no street", func(r *adequacy.HSDRecord) { r.Street = "" }, adequacy.FieldStreet, "the service street address is empty"},
		{"no city", func(r *adequacy.HSDRecord) { r.City = "" }, adequacy.FieldCity, "the service city is empty"},
		{"no state", func(r *adequacy.HSDRecord) { r.State = "" }, adequacy.FieldState, "the service state is empty"},
		{"bad state", func(r *adequacy.HSDRecord) { r.State = "New York" }, adequacy.FieldState, `"New York" is not a two-letter state code`},
		{"state of another county", func(r *adequacy.HSDRecord) { r.State = "NJ" }, adequacy.FieldState, "state NJ differs from NY, the state of the county the service location lies in"},
		{"location in no county", func(r *adequacy.HSDRecord) { r.LocationState = "" }, adequacy.FieldState, "the service location lies in no county"},
		{"no ZIP", func(r *adequacy.HSDRecord) { r.ZIP = "" }, adequacy.FieldZIP, "the service ZIP code is empty"},
		{"short ZIP", func(r *adequacy.HSDRecord) { r.ZIP = "1011" }, adequacy.FieldZIP, `"1011" is not a 5-digit ZIP code`},
		{"ZIP+4 not filed as five digits", func(r *adequacy.HSDRecord) { r.ZIP = "10119-0001" }, adequacy.FieldZIP, `"10119-0001" is not a 5-digit ZIP code`},
		{"letters in the ZIP", func(r *adequacy.HSDRecord) { r.ZIP = "1O119" }, adequacy.FieldZIP, `"1O119" is not a 5-digit ZIP code`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.edit(&r)
			e := r.Edits(area)
			if len(e) != 1 || e[0].Field != tc.field || !strings.Contains(e[0].Reason, tc.want) {
				t.Errorf("got %+v\nwant one %s edit with %q", e, tc.field, tc.want)
			}
		})
	}
	// Several faults: every one is reported, in field order.
	r := good
	r.NPI, r.Street, r.ZIP = "", "", "x"
	r.SSA = "33330"
	if e := r.Edits(area); len(e) != 4 || e[0].Field != adequacy.FieldSSA || e[1].Field != adequacy.FieldNPI || e[2].Field != adequacy.FieldStreet || e[3].Field != adequacy.FieldZIP {
		t.Errorf("three faults: %+v", e)
	}
}

// HSDTables files each serving provider once per SSA code of the county in
// the area, in the right table, with the roster's values, and the fast
// path from the report equals filing CountyProviders' list.
func TestHSDTables(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 2000)
	rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	serving, err := rep.CountyProviders()
	if err != nil {
		t.Fatal(err)
	}
	var counties []*adequacy.County
	for _, r := range rep.Counties {
		counties = append(counties, r.County)
	}
	area := adequacy.ServiceAreaOf(counties, "the member file's counties")
	h := adequacy.NewHSDTables(serving, area, eng.Counties)
	fast, err := rep.HSDTables(area, eng.Counties)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(h.Rows[0]) + len(h.Rows[1]); n != len(serving) { // the sample's states have no shared polygons
		t.Fatalf("%d rows for %d serving entries", n, len(serving))
	}
	for _, tab := range []adequacy.HSDTable{adequacy.ProviderTable, adequacy.FacilityTable} {
		if len(fast.Rows[tab]) != len(h.Rows[tab]) {
			t.Fatalf("%s table: %d rows from the report, %d from the list", tab, len(fast.Rows[tab]), len(h.Rows[tab]))
		}
		var edits, fastEdits []adequacy.HSDEdit
		for i := range h.Rows[tab] {
			r := h.Row(tab, i)
			if fr := fast.Row(tab, i); fr.SSA != r.SSA || fr.Provider != r.Provider {
				t.Fatalf("%s row %d: %s %s from the report, %s %s from the list", tab, i, fr.SSA, fr.NPI, r.SSA, r.NPI)
			}
			p := r.Provider
			if (r.Table == adequacy.ProviderTable) != (r.Discipline == adequacy.DC) || r.Table != tab || r.SpecialtyCode != r.Discipline.CMSSpecialty() ||
				r.NPI != p.NPI || r.Name != p.Name || r.AcceptsNewPatients != map[bool]string{true: "Y", false: "N"}[p.AcceptingNewPatients] {
				t.Fatalf("row %+v of %+v", r, p)
			}
			if i > 0 {
				q := h.Row(tab, i-1)
				if c := cmp.Or(strings.Compare(q.SSA, r.SSA), cmp.Compare(q.Discipline, r.Discipline), strings.Compare(q.NPI, r.NPI)); c > 0 {
					t.Fatalf("rows %d and %d out of order", i-1, i)
				}
			}
			edits = h.Edits(tab, i, area, edits[:0])
			fastEdits = fast.Edits(tab, i, area, fastEdits[:0])
			if !slices.Equal(edits, r.Edits(area)) || !slices.Equal(fastEdits, edits) {
				t.Fatalf("row %d edits %+v, record %+v", i, edits, r.Edits(area))
			}
			for _, e := range edits {
				if e.Field == adequacy.FieldSSA || e.Field == adequacy.FieldNPI || e.Field == adequacy.FieldSpecialtyCode {
					t.Errorf("row %d: edit %+v", i, e)
				}
			}
		}
	}
	// A Los Angeles provider is filed under both of the county's SSA codes
	// when the area is the whole county, under one when it names one.
	la, _ := eng.Counties.Lookup("06037")
	p := &adequacy.Provider{NPI: "1234567893", Discipline: adequacy.PT, Name: "LA PT", CountyFIPS: "06037",
		Address: adequacy.Address{Line1: "1 Main St", Line2: "Suite 2", City: "Los Angeles", State: "ca", ZIP: "90012-1234"}}
	one := []adequacy.CountyProvider{{County: la, Discipline: adequacy.PT, Provider: p}}
	h = adequacy.NewHSDTables(one, adequacy.ServiceAreaOf([]*adequacy.County{la}, "whole"), eng.Counties)
	if len(h.Rows[adequacy.FacilityTable]) != 2 || h.Row(adequacy.FacilityTable, 0).SSA != "05200" || h.Row(adequacy.FacilityTable, 1).SSA != "05210" {
		t.Fatalf("whole Los Angeles: %+v", h.Rows)
	}
	if r := h.Row(adequacy.FacilityTable, 0); r.Street != "1 Main St, Suite 2" || r.State != "CA" || r.ZIP != "90012" || r.LocationState != "CA" {
		t.Errorf("values as filed: %+v", r)
	}
	part, _ := adequacy.NewServiceArea(eng.Counties, []string{"ssa:05210"}, "given")
	if h = adequacy.NewHSDTables(one, part, eng.Counties); len(h.Rows[adequacy.FacilityTable]) != 1 || h.Row(adequacy.FacilityTable, 0).SSA != "05210" {
		t.Errorf("one SSA code of Los Angeles: %+v", h.Rows)
	}
}

// The preview has a row per SSA county × discipline, with the gap report's
// own numbers.
func TestPreview(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 500)
	rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	empty, _ := eng.Counties.Lookup("06037")
	counties := []*adequacy.County{empty}
	for _, r := range rep.Counties {
		counties = append(counties, r.County)
	}
	area := adequacy.ServiceAreaOf(counties, "test")
	rows := rep.Preview(area)
	if want := (len(rep.Counties)/len(rep.Disciplines) + 2) * len(rep.Disciplines); len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	by := map[string]adequacy.CountyRow{}
	for _, r := range rep.Counties {
		by[r.County.FIPS+r.Discipline.String()] = r
	}
	for _, p := range rows {
		r, ok := by[p.County.FIPS+p.Discipline.String()]
		if ok != p.HasMembers || (ok && (p.Row.Served != r.Served || p.Row.Members != r.Members || p.TimeDistanceMet != r.Pass ||
			p.MinimumMet != r.MinPass || p.Pass != (r.Pass && r.MinPass))) {
			t.Errorf("%s %s: %+v vs %+v", p.SSA, p.Discipline, p, r)
		}
		if p.County == empty && (p.HasMembers || p.Pass) {
			t.Errorf("a county without members: %+v", p)
		}
	}
}

// PopulationCensus places one member at each ZIP point of the area.
func TestPopulationCensus(t *testing.T) {
	eng := engine(t, nil)
	c, _ := eng.Counties.Lookup("02185") // North Slope, AK
	ms := eng.PopulationCensus(adequacy.ServiceAreaOf([]*adequacy.County{c}, "test"))
	want := 0
	for _, z := range eng.ZIPs.All() {
		if z.CountyFIPS == "02185" {
			want++
		}
	}
	if len(ms) != want || want == 0 {
		t.Fatalf("%d members, %d ZIPs", len(ms), want)
	}
	for _, m := range ms {
		if m.CountyFIPS != "02185" || !strings.HasPrefix(m.ID, "zip:") || !m.HasPoint {
			t.Errorf("%+v", m)
		}
	}
}

// The exception evidence equals brute force: unserved members and their
// cells, the nearest contracted providers beyond the standard, and the
// candidates within it.
func TestExceptionsBruteForce(t *testing.T) {
	eng, members := synthNetwork(t, 77, []string{"NE", "KS", "SD"}, 500, 600)
	prof, _ := eng.Profiles.Get("cms-ma")
	rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	// Candidates: a synthetic roster of non-participating providers, with
	// statuses; a few telehealth-only ones that cannot count.
	ceng, _ := synthNetwork(t, 78, []string{"NE", "KS", "SD"}, 300, 1)
	var cands []adequacy.Candidate
	for i, p := range ceng.Network.Roster.Providers {
		p.Participating = false
		cands = append(cands, adequacy.Candidate{Provider: p, Status: adequacy.ContractStatus(1 + i%5), Line: i + 2})
	}
	const k = 5
	exs, skip, err := rep.Exceptions(context.Background(), cands, adequacy.ExceptionOptions{Nearest: k})
	if err != nil {
		t.Fatal(err)
	}
	failing := 0
	for _, r := range rep.Counties {
		if r.Failing() {
			failing++
		}
	}
	if len(exs) != failing || failing == 0 {
		t.Fatalf("%d exceptions, %d failing rows", len(exs), failing)
	}
	notCounting := 0
	for i := range cands {
		p := cands[i].Provider
		p.Participating = true
		if !prof.Counting.Counts(&p, asOf) {
			notCounting++
		}
	}
	if skip.NotCounting != notCounting {
		t.Errorf("skip %+v, want %d not counting", skip, notCounting)
	}
	unservedSomewhere := false
	for _, x := range exs {
		d, c := x.Row.Discipline, x.Row.County
		rule, _ := adequacy.RuleFor(prof, c, d)
		var in, unserved []geo.Point
		for _, m := range members {
			if m.CountyFIPS != c.FIPS {
				continue
			}
			in = append(in, m.Point)
			n := 0
			for pi := range eng.Network.Roster.Providers {
				p := &eng.Network.Roster.Providers[pi]
				if p.Discipline == d && prof.Counting.Counts(p, asOf) && geo.Distance(m.Point, p.Location) <= rule.RadiusMiles {
					n++
				}
			}
			if n < rule.ProvidersRequired {
				unserved = append(unserved, m.Point)
			}
		}
		if x.Unserved != len(unserved) || x.Unserved != x.Row.Members-x.Row.Served {
			t.Errorf("%s %s: unserved %d, brute force %d", c.FIPS, d, x.Unserved, len(unserved))
		}
		cells := 0
		for _, cell := range x.Cells {
			cells += cell.Unserved
		}
		if cells != len(unserved) {
			t.Errorf("%s %s: cells hold %d, want %d", c.FIPS, d, cells, len(unserved))
		}
		unservedSomewhere = unservedSomewhere || len(unserved) > 0
		ref := unserved
		if len(ref) == 0 {
			ref = in
		}
		// Nearest beyond the standard: counting providers within the
		// radius of no reference member, by distance to the closest.
		var dists []float64
		for pi := range eng.Network.Roster.Providers {
			p := &eng.Network.Roster.Providers[pi]
			if p.Discipline != d || !prof.Counting.Counts(p, asOf) {
				continue
			}
			best, ok := math.Inf(1), true
			for _, m := range ref {
				dd := geo.Distance(m, p.Location)
				ok = ok && dd > rule.RadiusMiles
				best = math.Min(best, dd)
			}
			if ok {
				dists = append(dists, best)
			}
		}
		slices.Sort(dists)
		dists = dists[:min(k, len(dists))]
		if len(x.Nearest) != len(dists) {
			t.Fatalf("%s %s: %d nearest, brute force %d", c.FIPS, d, len(x.Nearest), len(dists))
		}
		for i, n := range x.Nearest {
			if n.Miles != dists[i] || n.Miles <= rule.RadiusMiles {
				t.Errorf("%s %s nearest %d: %.6f mi, brute force %.6f", c.FIPS, d, i, n.Miles, dists[i])
			}
		}
		// Candidates within the standard of a member of the county.
		want := map[int]float64{}
		for i := range cands {
			p := cands[i].Provider
			p.Participating = true
			if p.Discipline != d || !prof.Counting.Counts(&p, asOf) {
				continue
			}
			for _, m := range in {
				if dd := geo.Distance(m, p.Location); dd <= rule.RadiusMiles {
					if v, ok := want[cands[i].Line]; !ok || dd < v {
						want[cands[i].Line] = dd
					}
				}
			}
		}
		if len(x.Candidates) != len(want) {
			t.Errorf("%s %s: %d candidates, brute force %d", c.FIPS, d, len(x.Candidates), len(want))
		}
		for i, nc := range x.Candidates {
			if w, ok := want[nc.Candidate.Line]; !ok || w != nc.Miles || (i > 0 && x.Candidates[i-1].Miles > nc.Miles) {
				t.Errorf("%s %s: candidate line %d at %.6f, brute force %.6f (%v)", c.FIPS, d, nc.Candidate.Line, nc.Miles, w, ok)
			}
		}
	}
	if !unservedSomewhere {
		t.Fatal("no failing county has unserved members: the test proves too little")
	}
}

func TestContractStatus(t *testing.T) {
	for in, want := range map[string]adequacy.ContractStatus{"declined": adequacy.StatusDeclined, "Not Credentialed": adequacy.StatusNotCredentialed,
		"closed_panel": adequacy.StatusClosedPanel, " no-response ": adequacy.StatusNoResponse, "OTHER": adequacy.StatusOther} {
		if got, err := adequacy.ParseContractStatus(in); err != nil || got != want {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "refused", "not"} {
		if _, err := adequacy.ParseContractStatus(bad); !errors.Is(err, adequacy.ErrContractStatus) {
			t.Errorf("%q accepted", bad)
		}
	}
}
