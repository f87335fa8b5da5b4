package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

const testAsOf = "2026-06-01"

// TestCheckAccessMatchesEngine compares the service's answers with the
// core's for sample members located three ways, under every profile and
// every discipline the profile covers.
func TestCheckAccessMatchesEngine(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	ref := sampleEngine(t)
	members := sampleMembers(t)
	asOf, _ := adequacy.ParseDate(testAsOf)
	step := 7
	if testing.Short() {
		step = 41
	}
	calls := 0
	for _, p := range ref.Profiles.All() {
		discs := p.CoveredDisciplines()
		for i := 0; i < len(members); i += step {
			m := members[i]
			req, dreq := checkPair(m, i%3, p.Name, discs, asOf)
			want, err := ref.Decide(dreq)
			if err != nil {
				t.Fatalf("%s member %d: core: %v", p.Name, i, err)
			}
			got, err := c.CheckAccess(ctx, req)
			if err != nil {
				t.Fatalf("%s member %d: %v", p.Name, i, err)
			}
			compareResponse(t, got, want)
			calls++
		}
	}
	t.Logf("%d calls compared", calls)
}

// checkPair builds the same request for the service and the core:
// variant 0 by point, 1 by ZIP only, 2 by point with the county given.
func checkPair(m member, variant int, profile string, discs []adequacy.Discipline, asOf adequacy.Date) (*pb.CheckAccessRequest, adequacy.Request) {
	req := &pb.CheckAccessRequest{Profile: profile, AsOf: asOf.String(), K: 3}
	dreq := adequacy.Request{Profile: profile, AsOf: asOf, K: 3, Disciplines: discs}
	for _, d := range discs {
		req.Disciplines = append(req.Disciplines, pb.Discipline(pb.Discipline_value["DISCIPLINE_"+d.String()]))
	}
	switch variant {
	case 0:
		req.Location = &pb.LatLng{Latitude: m.lat, Longitude: m.lon}
		dreq.Member.Point = &geo.Point{Lat: m.lat, Lon: m.lon}
	case 1:
		req.Zip, dreq.Member.ZIP = m.zip, m.zip
	default:
		req.Location = &pb.LatLng{Latitude: m.lat, Longitude: m.lon}
		dreq.Member.Point = &geo.Point{Lat: m.lat, Lon: m.lon}
		req.CountyFips, dreq.Member.CountyFIPS = m.county, m.county
	}
	return req, dreq
}

func compareResponse(t *testing.T, got *pb.CheckAccessResponse, want []adequacy.Decision) {
	t.Helper()
	if len(got.Decisions) != len(want) {
		t.Fatalf("%d decisions, want %d", len(got.Decisions), len(want))
	}
	w := want[0]
	if got.Profile != w.Profile || got.ProfileVersion != w.ProfileVersion || got.RosterVersion != w.RosterVersion || got.AsOf != w.AsOf.String() {
		t.Errorf("versions %s %s %s %s, want %s %s %s %s", got.Profile, got.ProfileVersion, got.RosterVersion, got.AsOf,
			w.Profile, w.ProfileVersion, w.RosterVersion, w.AsOf)
	}
	for i := range want {
		compareDecision(t, got.Decisions[i], &want[i])
	}
}

// enumName is the protocol enum value name the domain word maps to.
func enumName(prefix, word string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(word, " ", "_"))
}

func compareDecision(t *testing.T, g *pb.AccessDecision, w *adequacy.Decision) {
	t.Helper()
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s %s: got %v, want %v", w.Discipline, what, got, want)
		}
	}
	wantDisc := enumName("DISCIPLINE_", w.Discipline.String())
	if w.Discipline == adequacy.AnyDiscipline { // a service across its disciplines
		wantDisc = pb.Discipline_DISCIPLINE_UNSPECIFIED.String()
	}
	check("discipline", g.Discipline.String(), wantDisc)
	check("status", g.Status.String(), enumName("ACCESS_STATUS_", w.Status.String()))
	check("served", g.Served, w.Served())
	check("explanation", g.Explanation, w.Explain())
	check("providers within", int(g.ProvidersWithin), w.ProvidersWithin)
	check("time model", g.TimeModel, w.TimeModel)
	check("time estimated", g.TimeEstimated, w.TimeEstimated)
	check("location source", g.LocationSource.String(), enumName("LOCATION_SOURCE_", w.Location.Source.String()))
	check("location approximate", g.LocationApproximate, w.Location.Approximate)
	compareCounty(check, g.County, &w.County)
	if w.Status != adequacy.Indeterminate && w.Status != adequacy.OutOfServiceArea {
		r := g.GetRule()
		check("rule county type", r.GetCountyType().String(), enumName("COUNTY_TYPE_", w.Rule.CountyType.Key()))
		check("rule max miles", r.GetMaxMiles(), w.Rule.MaxMiles)
		check("rule max minutes", r.GetMaxMinutes(), w.Rule.MaxMinutes)
		check("rule providers required", int(r.GetProvidersRequired()), w.Rule.ProvidersRequired)
		check("rule served share", r.GetServedShare(), w.Rule.ServedShare)
		check("rule radius", r.GetRadiusMiles(), w.Rule.RadiusMiles)
		check("rule source official", r.GetSource() == pb.RuleSource_RULE_SOURCE_OFFICIAL_COUNTY_STANDARD, w.Rule.Source == adequacy.RuleOfficial)
	}
	if len(g.Nearest) != len(w.Nearest) {
		t.Fatalf("%s: %d nearest, want %d", w.Discipline, len(g.Nearest), len(w.Nearest))
	}
	for j, n := range w.Nearest {
		gn := g.Nearest[j]
		check("nearest npi", gn.Npi, n.NPI)
		check("nearest name", gn.Name, n.Name)
		check("nearest miles", gn.Miles, n.Miles)
		check("nearest minutes", gn.Minutes, n.Minutes)
		check("nearest county", gn.CountyFips, n.CountyFIPS)
		check("nearest within", gn.WithinStandard, n.WithinStandard)
	}
}

func compareCounty(check func(string, any, any), g *pb.County, w *adequacy.CountyEvidence) {
	if w.FIPS == "" {
		check("county set", g != nil, false)
		return
	}
	check("county fips", g.GetFips(), w.FIPS)
	check("county name", g.GetName(), w.Name)
	check("county state", g.GetState(), w.State)
	check("county type", g.GetType().String(), enumName("COUNTY_TYPE_", w.Type.Key()))
	check("county type official", g.GetTypeOfficial(), w.TypeOfficial)
	check("county type basis", g.GetTypeBasis(), w.TypeBasis)
	check("county source", g.GetSource().String(), enumName("COUNTY_SOURCE_", w.Source.String()))
	check("county snap", g.GetSnapMiles(), w.SnapMiles)
	check("county note", g.GetNote(), w.Note)
}

// TestDefaultAsOfUsesTimeZone: with no as_of the date is today in the
// configured zone, not UTC.
func TestDefaultAsOfUsesTimeZone(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip("no zoneinfo:", err)
	}
	now := func() time.Time { return time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC) } // 7 pm on May 31 in Los Angeles
	_, addr := startServer(t, server.Config{Location: la, Now: now}, false)
	got, err := client(t, addr).CheckAccess(ctxFor(t), &pb.CheckAccessRequest{Zip: "10001",
		Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}})
	if err != nil {
		t.Fatal(err)
	}
	if got.AsOf != "2026-05-31" {
		t.Errorf("as_of %s, want 2026-05-31", got.AsOf)
	}
}

// TestProfiles lists and fetches every profile and checks the tables
// against the core's.
func TestProfiles(t *testing.T) {
	_, addr := startServer(t, server.Config{}, true) // profiles serve before any roster
	c := client(t, addr)
	ctx := ctxFor(t)
	list, err := c.ListProfiles(ctx, &pb.ListProfilesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ref := baseEngine(t).Profiles.All()
	if len(list.Profiles) != len(ref) || list.DefaultProfile != "cms-ma" {
		t.Fatalf("%d profiles, default %q; want %d, cms-ma", len(list.Profiles), list.DefaultProfile, len(ref))
	}
	for i, p := range ref {
		if list.Profiles[i].Name != p.Name || list.Profiles[i].Version != p.Version {
			t.Errorf("profile %d: %s %s, want %s %s", i, list.Profiles[i].Name, list.Profiles[i].Version, p.Name, p.Version)
		}
		got, err := c.GetProfile(ctx, &pb.GetProfileRequest{Name: p.Name})
		if err != nil {
			t.Fatal(err)
		}
		compareProfile(t, got.Profile, p)
	}
}

func compareProfile(t *testing.T, g *pb.Profile, p *adequacy.Profile) {
	t.Helper()
	if g.Summary.EffectiveFrom != p.Effective.From.String() || g.Summary.Source != p.Source || g.OfficialCountyStandards != p.OfficialCountyStandards {
		t.Errorf("%s: summary %v", p.Name, g.Summary)
	}
	if g.Counting.InPersonOnly != p.Counting.InPersonOnly || g.Counting.AcceptingNewPatients != p.Counting.AcceptingNewPatients {
		t.Errorf("%s: counting %v", p.Name, g.Counting)
	}
	if g.TimeModel.Description != p.Time.Name() {
		t.Errorf("%s: time model %q", p.Name, g.TimeModel.Description)
	}
	if len(g.Disciplines) != len(p.CoveredDisciplines()) || len(g.Credits) != len(p.Credits) {
		t.Fatalf("%s: %d disciplines, %d credits", p.Name, len(g.Disciplines), len(g.Credits))
	}
	for i, d := range p.CoveredDisciplines() {
		for j, ct := range adequacy.CountyTypes {
			s, w := g.Disciplines[i].Standards[j], p.Disciplines[d].ByType[ct]
			if s.MaxMiles != w.MaxMiles || s.MaxMinutes != w.MaxMinutes || int(s.ProvidersRequired) != w.ProvidersRequired || s.ServedShare != w.ServedShare {
				t.Errorf("%s %s %s: %v, want %+v", p.Name, d, ct, s, w)
			}
		}
	}
}

// TestIndeterminateDecision: a point in no county is not a caller error;
// the decision is INDETERMINATE with no county and no rule, and says why.
func TestIndeterminateDecision(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	got, err := client(t, addr).CheckAccess(ctxFor(t), &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 0, Longitude: 0},
		Disciplines: []pb.Discipline{pt}, AsOf: testAsOf})
	if err != nil {
		t.Fatal(err)
	}
	d := got.Decisions[0]
	if d.Status != pb.AccessStatus_ACCESS_STATUS_INDETERMINATE || d.Served || d.County != nil || d.Rule != nil || !strings.Contains(d.Explanation, "county") {
		t.Errorf("decision %v", d)
	}
	ref := sampleEngine(t)
	asOf, _ := adequacy.ParseDate(testAsOf)
	want, err := ref.Decide(adequacy.Request{Member: adequacy.Member{Point: &geo.Point{}}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	compareResponse(t, got, want)
}
