package adequacy_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
)

var asOf = mustDate("2026-11-24")

func mustDate(s string) adequacy.Date {
	d, err := adequacy.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// engine returns the embedded engine serving roster (the sample when nil).
func engine(t testing.TB, roster *adequacy.Roster) *adequacy.Engine {
	t.Helper()
	eng, _, err := data.NewEngine(data.Setup{})
	if err != nil {
		t.Fatal(err)
	}
	if roster == nil {
		if roster, err = data.SampleRoster(); err != nil {
			t.Fatal(err)
		}
	}
	n, err := adequacy.NewNetwork(roster, nil)
	if err != nil {
		t.Fatal(err)
	}
	return eng.WithNetwork(n)
}

func pt(lat, lon float64) *geo.Point { return &geo.Point{Lat: lat, Lon: lon} }

// bruteForce decides with no index: every provider of the roster, exact
// distance, the profile's counting rules applied one by one.
func bruteForce(t *testing.T, eng *adequacy.Engine, p geo.Point, county string, d adequacy.Discipline, profile string, k int) (within int, nearest []string, miles []float64) {
	prof, err := eng.Profiles.Get(profile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := eng.Counties.Lookup(county)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := adequacy.RuleFor(prof, c, d)
	if err != nil {
		t.Fatal(err)
	}
	type cand struct {
		npi   string
		miles float64
	}
	var all []cand
	for i := range eng.Network.Roster.Providers {
		pr := &eng.Network.Roster.Providers[i]
		if pr.Discipline != d || !prof.Counting.Counts(pr, asOf) {
			continue
		}
		m := geo.Distance(p, pr.Location)
		if m <= rule.RadiusMiles {
			within++
		}
		all = append(all, cand{pr.NPI, m})
	}
	slices.SortStableFunc(all, func(a, b cand) int {
		switch {
		case a.miles < b.miles:
			return -1
		case a.miles > b.miles:
			return 1
		}
		return 0
	})
	for _, c := range all[:min(k, len(all))] {
		nearest = append(nearest, c.npi)
		miles = append(miles, c.miles)
	}
	return within, nearest, miles
}

// Decisions equal a brute-force scan of the roster, for members across
// the sample states and every discipline and profile.
func TestDecideOracle(t *testing.T) {
	eng := engine(t, nil)
	members, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	var pts []geo.Point
	for _, line := range strings.Split(string(members), "\n")[1:151] {
		var lat, lon float64
		f := strings.Split(line, ",")
		fmt.Sscan(f[1], &lat)
		fmt.Sscan(f[2], &lon)
		pts = append(pts, geo.Point{Lat: lat, Lon: lon})
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 { // anywhere in the lower 48, served or not
		pts = append(pts, geo.Point{Lat: 26 + 22*r.Float64(), Lon: -124 + 57*r.Float64()})
	}
	checked := 0
	for i, p := range pts {
		for _, profile := range []string{"cms-ma", "qhp-ffe", "tx-medicaid", "commercial-example"} {
			prof, _ := eng.Profiles.Get(profile)
			ds, err := eng.Decide(adequacy.Request{Member: adequacy.Member{Point: &p}, Disciplines: prof.CoveredDisciplines(), Profile: profile, AsOf: asOf, K: 3})
			if err != nil {
				t.Fatalf("member %d: %v", i, err)
			}
			for _, d := range ds {
				if d.Status == adequacy.Indeterminate {
					continue // offshore: checked elsewhere
				}
				within, npis, miles := bruteForce(t, eng, p, d.County.FIPS, d.Discipline, profile, 3)
				if d.ProvidersWithin != within {
					t.Errorf("member %d %s %s: within %d, brute force %d", i, profile, d.Discipline, d.ProvidersWithin, within)
				}
				if want := within >= d.Rule.ProvidersRequired; d.Served() != want {
					t.Errorf("member %d %s %s: served %v, brute force %v", i, profile, d.Discipline, d.Served(), want)
				}
				var got []string
				for j, n := range d.Nearest {
					got = append(got, n.NPI)
					if math.Abs(n.Miles-miles[j]) > 1e-9 {
						t.Errorf("member %d: nearest %d at %.6f mi, brute force %.6f", i, j, n.Miles, miles[j])
					}
				}
				if !slices.Equal(got, npis) {
					t.Errorf("member %d %s %s: nearest %v, brute force %v", i, profile, d.Discipline, got, npis)
				}
				checked++
			}
		}
	}
	t.Logf("%d decisions checked against brute force", checked)
}

func TestDecideEvidence(t *testing.T) {
	eng := engine(t, nil)
	ds, err := eng.Decide(adequacy.Request{Member: adequacy.Member{Point: pt(40.75, -73.99)}, Disciplines: []adequacy.Discipline{adequacy.DC, adequacy.PT}, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	dc, ptd := ds[0], ds[1]
	if dc.County.FIPS != "36061" || dc.County.Type != adequacy.LargeMetro || !dc.County.TypeOfficial || dc.County.Source != adequacy.CountyPolygon {
		t.Errorf("county evidence %+v", dc.County)
	}
	if dc.Rule.MaxMiles != 15 || dc.Rule.MaxMinutes != 30 || ptd.Rule.MaxMiles != 10 || ptd.Rule.MaxMinutes != 20 || dc.Rule.ProvidersRequired != 1 {
		t.Errorf("rules DC %+v PT %+v", dc.Rule, ptd.Rule)
	}
	if dc.Rule.Source != adequacy.RuleOfficial || dc.Rule.Source.String() != "official county standard" || dc.Location.Source != adequacy.LocatedByPoint {
		t.Errorf("rule source %q, location source %q", dc.Rule.Source, dc.Location.Source)
	}
	if dc.Profile != "cms-ma" || dc.ProfileVersion != "2026.1" || dc.RosterVersion != "sample-2026.11" || !dc.TimeEstimated || dc.AsOf != asOf {
		t.Errorf("versions %+v", dc)
	}
	if len(dc.Nearest) != adequacy.DefaultK || !slices.IsSortedFunc(dc.Nearest, func(a, b adequacy.NearbyProvider) int { return int(math.Copysign(1, a.Miles-b.Miles)) }) {
		t.Errorf("nearest %+v", dc.Nearest)
	}
	for _, n := range dc.Nearest {
		// County ratio time model: minutes are miles × 30/15.
		if math.Abs(n.Minutes-2*n.Miles) > 1e-9 || n.WithinStandard != (n.Miles <= 15) {
			t.Errorf("nearest %+v", n)
		}
	}
}

func TestDecideLocationAndCounty(t *testing.T) {
	eng := engine(t, nil)
	tests := []struct {
		name       string
		m          adequacy.Member
		status     adequacy.Status
		county     string
		source     adequacy.CountySource
		approx     bool
		typeSource bool
	}{
		{"ZIP only, approximate", adequacy.Member{ZIP: "10001"}, adequacy.Served, "36061", adequacy.CountyPolygon, true, true},
		{"given county is trusted", adequacy.Member{Point: pt(40.75, -73.99), CountyFIPS: "36005"}, adequacy.Served, "36005", adequacy.CountyGiven, false, true},
		{"Saipan: the CNMI's one CMS county", adequacy.Member{Point: pt(15.19, 145.75)}, adequacy.NotServed, "69110", adequacy.CountyPolygon, false, true},
		{"just off Miami Beach: nearest county", adequacy.Member{Point: pt(25.79, -80.115)}, adequacy.NotServed, "12086", adequacy.CountyNearest, false, true},
		{"mid-Atlantic: indeterminate", adequacy.Member{Point: pt(35, -50)}, adequacy.Indeterminate, "", 0, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := eng.Decide(adequacy.Request{Member: tc.m, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf})
			if err != nil {
				t.Fatal(err)
			}
			d := ds[0]
			if d.Status != tc.status || d.County.FIPS != tc.county || d.County.Source != tc.source || d.Location.Approximate != tc.approx ||
				(d.Location.Source == adequacy.LocatedByZIP) != tc.approx ||
				(tc.county != "" && d.County.TypeOfficial != tc.typeSource) {
				t.Errorf("got status %v county %q source %q approx %v official %v (%s); reason %q", d.Status, d.County.FIPS, d.County.Source,
					d.Location.Approximate, d.County.TypeOfficial, d.County.TypeBasis, d.Reason)
			}
			if tc.status == adequacy.Indeterminate && !strings.Contains(d.Reason, "no county") {
				t.Errorf("reason %q", d.Reason)
			}
		})
	}
}

func TestDecideInvalidRequests(t *testing.T) {
	eng := engine(t, nil)
	ok := adequacy.Request{Member: adequacy.Member{Point: pt(40.75, -73.99)}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf}
	tests := []struct {
		name     string
		edit     func(r *adequacy.Request)
		field    string
		notFound bool
	}{
		{"latitude out of range", func(r *adequacy.Request) { r.Member.Point = pt(91, 0) }, "location.latitude", false},
		{"NaN longitude", func(r *adequacy.Request) { r.Member.Point = pt(40, math.NaN()) }, "location.longitude", false},
		{"infinite latitude", func(r *adequacy.Request) { r.Member.Point = pt(math.Inf(1), 0) }, "location.latitude", false},
		{"no location", func(r *adequacy.Request) { r.Member.Point = nil }, "location", false},
		{"unknown ZIP", func(r *adequacy.Request) { r.Member = adequacy.Member{ZIP: "00000"} }, "zip", false},
		{"malformed ZIP", func(r *adequacy.Request) { r.Member = adequacy.Member{ZIP: "ABCDE"} }, "zip", false},
		{"unknown county", func(r *adequacy.Request) { r.Member.CountyFIPS = "99999" }, "county_fips", false},
		{"malformed county", func(r *adequacy.Request) { r.Member.CountyFIPS = "NYC" }, "county_fips", false},
		{"no discipline", func(r *adequacy.Request) { r.Disciplines = nil }, "disciplines", false},
		{"unknown discipline", func(r *adequacy.Request) { r.Disciplines = []adequacy.Discipline{9} }, "disciplines[0]", false},
		{"repeated discipline", func(r *adequacy.Request) { r.Disciplines = []adequacy.Discipline{adequacy.PT, adequacy.PT} }, "disciplines[1]", false},
		{"discipline outside profile", func(r *adequacy.Request) {
			r.Profile = "tx-medicaid"
			r.Disciplines = []adequacy.Discipline{adequacy.DC}
		}, "disciplines[0]", false},
		{"unknown profile", func(r *adequacy.Request) { r.Profile = "nope" }, "profile", true},
		{"k too large", func(r *adequacy.Request) { r.K = 500 }, "k", false},
		{"no as-of", func(r *adequacy.Request) { r.AsOf = adequacy.Date{} }, "as_of", false},
		{"as-of outside profile", func(r *adequacy.Request) { r.AsOf = mustDate("2025-06-01") }, "as_of", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			_, err := eng.Decide(r)
			var ir *adequacy.InvalidRequest
			if !errors.As(err, &ir) || !errors.Is(err, adequacy.ErrInvalidRequest) {
				t.Fatalf("err = %v, want *InvalidRequest", err)
			}
			if len(ir.Violations) != 1 || ir.Violations[0].Field != tc.field {
				t.Errorf("violations %+v, want one on %s", ir.Violations, tc.field)
			}
			if errors.Is(err, adequacy.ErrUnknownProfile) != tc.notFound {
				t.Errorf("ErrUnknownProfile = %v, want %v", errors.Is(err, adequacy.ErrUnknownProfile), tc.notFound)
			}
		})
	}
	var noRoster adequacy.Engine = *engine(t, nil)
	noRoster.Network = nil
	if _, err := noRoster.Decide(ok); !errors.Is(err, adequacy.ErrNoRoster) {
		t.Errorf("no roster: %v", err)
	}
}

// Providers that do not count: telehealth-only, terminated, not yet
// effective, not participating, not accepting (where the profile asks).
func TestCountingRules(t *testing.T) {
	here := geo.Point{Lat: 31.0, Lon: -100.0} // rural West Texas
	mk := func(npi string, edit func(p *adequacy.Provider)) adequacy.Provider {
		p := adequacy.Provider{NPI: npi, Discipline: adequacy.PT, Location: geo.Point{Lat: 31.01, Lon: -100.0}, Participating: true, AcceptingNewPatients: true}
		edit(&p)
		return p
	}
	roster := &adequacy.Roster{Version: "test-1", Providers: []adequacy.Provider{
		mk("1234567893", func(p *adequacy.Provider) { p.TelehealthOnly = true }),
		mk("1245319599", func(p *adequacy.Provider) { p.Termination = mustDate("2026-01-01") }),
		mk("1003000126", func(p *adequacy.Provider) { p.Effective = mustDate("2027-01-01") }),
		mk("1003000134", func(p *adequacy.Provider) { p.Participating = false }),
		mk("1003000142", func(p *adequacy.Provider) { p.AcceptingNewPatients = false }),
	}}
	eng := engine(t, roster)
	decide := func(profile string, when adequacy.Date) adequacy.Decision {
		ds, err := eng.Decide(adequacy.Request{Member: adequacy.Member{Point: &here}, Disciplines: []adequacy.Discipline{adequacy.PT}, Profile: profile, AsOf: when})
		if err != nil {
			t.Fatal(err)
		}
		return ds[0]
	}
	// cms-ma: only the provider not accepting new patients counts.
	if d := decide("cms-ma", asOf); d.ProvidersWithin != 1 || !d.Served() || d.Nearest[0].NPI != "1003000142" {
		t.Errorf("cms-ma: %d within, nearest %+v", d.ProvidersWithin, d.Nearest)
	}
	// Before the termination date the terminated provider counts too.
	if d := decide("cms-ma", mustDate("2026-06-01")); d.ProvidersWithin != 1 {
		t.Errorf("cms-ma mid-2026: %d within", d.ProvidersWithin)
	}
	if d := decide("cms-ma", mustDate("2026-03-01")); d.ProvidersWithin != 1 {
		t.Errorf("cms-ma March: %d within", d.ProvidersWithin)
	}
	// The commercial profile counts only providers accepting new patients.
	if d := decide("commercial-example", asOf); d.ProvidersWithin != 0 || d.Served() {
		t.Errorf("commercial: %d within", d.ProvidersWithin)
	}
}

// A routing engine's times are not a function of distance: every provider
// within the distance bound is timed one by one.
type detour struct{ factor float64 }

func (detour) Name() string       { return "test detour model" }
func (detour) Estimated() bool    { return true }
func (detour) DistanceOnly() bool { return false }
func (m detour) Minutes(member, provider geo.Point, miles float64, r adequacy.Rule) float64 {
	// Going east costs more: not a function of distance alone.
	f := 1.0
	if provider.Lon > member.Lon {
		f = m.factor
	}
	return miles * f * r.MaxMinutes / r.MaxMiles
}
func (detour) ReachMiles(r adequacy.Rule) float64 { return r.MaxMiles }

func TestRoutedTimeModel(t *testing.T) {
	eng := engine(t, nil)
	prof, _ := eng.Profiles.Get("cms-ma")
	routed := *prof
	routed.Name, routed.Time = "routed", detour{factor: 1.5}
	ps, err := adequacy.NewProfiles(prof, &routed)
	if err != nil {
		t.Fatal(err)
	}
	e2 := *eng
	e2.Profiles = ps
	home := geo.Point{Lat: 40.75, Lon: -73.99}
	ds, err := e2.Decide(adequacy.Request{Member: adequacy.Member{Point: &home}, Disciplines: []adequacy.Discipline{adequacy.PT}, Profile: "routed", AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, p := range eng.Network.Roster.Providers {
		if p.Discipline != adequacy.PT || !prof.Counting.Counts(&p, asOf) {
			continue
		}
		m := geo.Distance(home, p.Location)
		f := 1.0
		if p.Location.Lon > home.Lon {
			f = 1.5
		}
		if m <= 10 && m*f*2 <= 20 {
			want++
		}
	}
	if ds[0].ProvidersWithin != want || want == 0 {
		t.Errorf("routed: %d within, brute force %d", ds[0].ProvidersWithin, want)
	}
}

func TestDecideConcurrent(t *testing.T) {
	eng := engine(t, nil)
	req := adequacy.Request{Member: adequacy.Member{Point: pt(29.76, -95.37)}, Disciplines: adequacy.Disciplines, AsOf: asOf}
	want, _ := eng.Decide(req)
	done := make(chan string)
	for range 8 {
		go func() {
			for range 100 {
				got, err := eng.Decide(req)
				if err != nil || got[1].ProvidersWithin != want[1].ProvidersWithin || got[3].Nearest[0].NPI != want[3].Nearest[0].NPI {
					done <- fmt.Sprint("differs: ", err)
					return
				}
			}
			done <- ""
		}()
	}
	deadline := time.After(time.Minute)
	for range 8 {
		select {
		case msg := <-done:
			if msg != "" {
				t.Error(msg)
			}
		case <-deadline:
			t.Fatal("timeout")
		}
	}
}

// Any input gets an answer or a clear error, never a panic.
func FuzzDecide(f *testing.F) {
	eng := engine(f, nil)
	f.Add(40.75, -73.99, "", "", uint8(1), "cms-ma", 5)
	f.Add(91.0, 0.0, "10001", "36061", uint8(9), "nope", -1)
	f.Add(math.NaN(), math.Inf(1), "ABCDE", "NYC", uint8(0), "", 500)
	f.Add(51.5, 180.0, "", "02016", uint8(3), "tx-medicaid", 0)
	f.Fuzz(func(t *testing.T, lat, lon float64, zip, county string, disc uint8, profile string, k int) {
		req := adequacy.Request{Member: adequacy.Member{Point: &geo.Point{Lat: lat, Lon: lon}, ZIP: zip, CountyFIPS: county},
			Disciplines: []adequacy.Discipline{adequacy.Discipline(disc % 6)}, Profile: profile, AsOf: asOf, K: k}
		if lat == 0 && lon == 0 {
			req.Member.Point = nil
		}
		ds, err := eng.Decide(req)
		if err != nil {
			var ir *adequacy.InvalidRequest
			if !errors.As(err, &ir) || len(ir.Violations) == 0 {
				t.Fatalf("error without field violations: %v", err)
			}
			return
		}
		if len(ds) != 1 || (ds[0].Status != adequacy.Indeterminate && ds[0].County.FIPS == "") {
			t.Fatalf("odd decision %+v", ds)
		}
	})
}

// Every wrong location field is reported, not only the first.
func TestDecideReportsEveryLocationFault(t *testing.T) {
	eng := engine(t, nil)
	tests := []struct {
		name   string
		member adequacy.Member
		fields []string
	}{
		{"latitude and longitude", adequacy.Member{Point: pt(91, 200)}, []string{"location.latitude", "location.longitude"}},
		{"NaN both", adequacy.Member{Point: pt(math.NaN(), math.Inf(-1))}, []string{"location.latitude", "location.longitude"}},
		{"longitude and county", adequacy.Member{Point: pt(40, -181), CountyFIPS: "99999"}, []string{"location.longitude", "county_fips"}},
		{"point and malformed ZIP", adequacy.Member{Point: pt(40.75, -73.99), ZIP: "1000"}, []string{"zip"}},
		{"all four", adequacy.Member{Point: pt(-95, 190), ZIP: "x", CountyFIPS: "NYC"}, []string{"location.latitude", "location.longitude", "zip", "county_fips"}},
		{"unknown ZIP and county", adequacy.Member{ZIP: "00000", CountyFIPS: "99999"}, []string{"zip", "county_fips"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := eng.Decide(adequacy.Request{Member: tc.member, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf})
			var ir *adequacy.InvalidRequest
			if !errors.As(err, &ir) {
				t.Fatalf("err = %v, want *InvalidRequest", err)
			}
			var got []string
			for _, v := range ir.Violations {
				got = append(got, v.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Errorf("fields %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
	// The negotiation gate: the provider's and the member's faults at once.
	_, err := eng.Negotiate(adequacy.NegotiationRequest{Member: adequacy.Member{Point: pt(91, 0)}, Discipline: adequacy.PT, AsOf: asOf,
		ProviderNPI: "1234567893", ProviderAt: pt(-91, 181)})
	var ir *adequacy.InvalidRequest
	if !errors.As(err, &ir) {
		t.Fatalf("negotiation: %v", err)
	}
	var got []string
	for _, v := range ir.Violations {
		got = append(got, v.Field)
	}
	if want := []string{"provider.location.latitude", "provider.location.longitude", "location.latitude"}; !slices.Equal(got, want) {
		t.Errorf("negotiation fields %v, want %v", got, want)
	}
}

// A caller's value comes back in an error cut to a short prefix, however
// long it is.
func TestErrorsEchoAnExcerpt(t *testing.T) {
	eng := engine(t, nil)
	long := strings.Repeat("é", 2<<20) // 4 MB
	_, err := eng.Decide(adequacy.Request{Member: adequacy.Member{ZIP: long, CountyFIPS: long}, Profile: long,
		Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf})
	if err == nil || len(err.Error()) > 1000 {
		t.Fatalf("error of %d bytes", len(err.Error()))
	}
	if !strings.Contains(err.Error(), `"`+strings.Repeat("é", 30)+`…"`) || !utf8.ValidString(err.Error()) {
		t.Errorf("no excerpt of the value: %v", err)
	}
	for _, fn := range []func(string) error{
		func(s string) error { _, err := adequacy.ParseDiscipline(s); return err },
		func(s string) error { _, err := adequacy.ParseDate(s); return err },
		func(s string) error { _, err := adequacy.ParseCountyType(s); return err },
	} {
		if err := fn(long); err == nil || len(err.Error()) > 300 {
			t.Errorf("error of %d bytes", len(err.Error()))
		}
	}
	if got := adequacy.Excerpt("short"); got != "short" {
		t.Errorf("Excerpt(short) = %q", got)
	}
}
