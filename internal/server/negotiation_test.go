package server_test

import (
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// nonParticipatingNPI is the n-th non-participating PT provider's NPI in
// the sample roster.
func nonParticipatingNPI(t testing.TB, n int) string {
	baseEngine(t)
	for _, p := range fixture.roster.Providers {
		if !p.Participating && p.Discipline == adequacy.PT {
			if n--; n <= 0 {
				return p.NPI
			}
		}
	}
	t.Fatal("no non-participating PT provider in the sample roster")
	return ""
}

// TestEvaluateNegotiationMatchesEngine compares the gate's answer over
// gRPC with the core's, for attestations set, unset and failing, in a
// served and an unserved place.
func TestEvaluateNegotiationMatchesEngine(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ref := sampleEngine(t)
	yes, no := true, false
	allYes := &pb.Attestations{HealthcareRequirement: &yes, WithinScope: &yes, SuperiorOutcomes: &yes, BenefitCoversNegotiation: &yes,
		SolelyComfortOrConvenience: &no, TechniquePreference: &no, Investigational: &no, EquivalentOutcomesAvailable: &no, MedicallyNecessary: &yes}
	places := []geo.Point{{Lat: 40.75, Lon: -73.99}, {Lat: 31.0, Lon: -100.0}, {Lat: 64.84, Lon: -147.72}}
	atts := []*pb.Attestations{nil, allYes, {HealthcareRequirement: &no, Investigational: &yes}}
	asOf, _ := adequacy.ParseDate(testAsOf)
	npi := nonParticipatingNPI(t, 3)
	for _, pt := range places {
		for _, a := range atts {
			req := &pb.EvaluateNegotiationRequest{Location: &pb.LatLng{Latitude: pt.Lat, Longitude: pt.Lon}, Discipline: pb.Discipline_DISCIPLINE_PT,
				AsOf: testAsOf, Provider: &pb.RequestedProvider{Npi: npi, Location: &pb.LatLng{Latitude: pt.Lat + 0.1, Longitude: pt.Lon}}, Attestations: a}
			got, err := c.EvaluateNegotiation(ctxFor(t), req)
			if err != nil {
				t.Fatal(err)
			}
			p, at := pt, geo.Point{Lat: pt.Lat + 0.1, Lon: pt.Lon}
			want, err := ref.Negotiate(adequacy.NegotiationRequest{Member: adequacy.Member{Point: &p}, Discipline: adequacy.PT, AsOf: asOf,
				ProviderNPI: npi, ProviderAt: &at, Attestations: domainAttestations(a)})
			if err != nil {
				t.Fatal(err)
			}
			compareGate(t, got, &want)
		}
	}
}

func domainAttestations(a *pb.Attestations) adequacy.Attestations {
	if a == nil {
		return adequacy.Attestations{}
	}
	return adequacy.Attestations{HealthcareRequirement: a.HealthcareRequirement, WithinScope: a.WithinScope, SuperiorOutcomes: a.SuperiorOutcomes,
		BenefitCoversNegotiation: a.BenefitCoversNegotiation, SolelyComfortOrConvenience: a.SolelyComfortOrConvenience,
		TechniquePreference: a.TechniquePreference, Investigational: a.Investigational,
		EquivalentOutcomesAvailable: a.EquivalentOutcomesAvailable, MedicallyNecessary: a.MedicallyNecessary}
}

func compareGate(t *testing.T, got *pb.EvaluateNegotiationResponse, want *adequacy.GateResult) {
	t.Helper()
	if got.Supported != want.Supported || got.Summary != want.Summary {
		t.Errorf("supported %v %q, want %v %q", got.Supported, got.Summary, want.Supported, want.Summary)
	}
	if len(got.Criteria) != len(want.Criteria) {
		t.Fatalf("%d criteria, want %d", len(got.Criteria), len(want.Criteria))
	}
	for i, w := range want.Criteria {
		g := got.Criteria[i]
		if g.Id != w.ID || g.Clause != w.Clause || g.Detail != w.Detail || g.Outcome.String() != enumName("CRITERION_OUTCOME_", string(w.Outcome)) ||
			g.Kind.String() != enumName("CRITERION_KIND_", string(w.Kind)) || (g.Attested == nil) != (w.Attested == nil) ||
			(w.Attested != nil && *g.Attested != *w.Attested) {
			t.Errorf("criterion %d: %v, want %+v", i, g, w)
		}
	}
	compareDecision(t, got.GeoAccess, &want.GeoAccess)
	if got.RosterVersion != want.GeoAccess.RosterVersion || got.AsOf != want.GeoAccess.AsOf.String() {
		t.Errorf("versions %s %s", got.RosterVersion, got.AsOf)
	}
}
