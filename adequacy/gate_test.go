package adequacy_test

import (
	"errors"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func allGood() adequacy.Attestations {
	return adequacy.Attestations{HealthcareRequirement: yes(), WithinScope: yes(), SuperiorOutcomes: yes(), BenefitCoversNegotiation: yes(),
		SolelyComfortOrConvenience: no(), TechniquePreference: no(), Investigational: no(), EquivalentOutcomesAvailable: no(), MedicallyNecessary: yes()}
}

func TestNegotiationGate(t *testing.T) {
	eng := engine(t, nil)
	remote := pt(71.29, -156.79)  // Utqiagvik, North Slope, AK: no PT within 100 miles in the sample
	midtown := pt(40.75, -73.99)  // Manhattan: served
	ocean := pt(35, -50)          // no county
	const outsider = "1003000126" // in no roster
	var participatingPT string
	for _, p := range eng.Network.Roster.Providers {
		if p.Discipline == adequacy.PT && p.Participating {
			participatingPT = p.NPI
			break
		}
	}
	tests := []struct {
		name      string
		at        *geo.Point
		npi       string
		edit      func(a *adequacy.Attestations)
		supported bool
		blocking  map[string]adequacy.Outcome
	}{
		{"not served, all criteria hold", remote, outsider, nil, true, nil},
		{"served", midtown, outsider, nil, false, map[string]adequacy.Outcome{adequacy.CritGeoAccessNotMet: adequacy.Fail}},
		{"no county: refer for review", ocean, outsider, nil, false, map[string]adequacy.Outcome{adequacy.CritGeoAccessNotMet: adequacy.Undecided}},
		{"provider already participating", remote, participatingPT, nil, false, map[string]adequacy.Outcome{adequacy.CritProviderNonPar: adequacy.Fail}},
		{"technique preference", remote, outsider, func(a *adequacy.Attestations) { a.TechniquePreference = yes() }, false,
			map[string]adequacy.Outcome{adequacy.CritTechniquePreference: adequacy.Fail}},
		{"comfort or convenience", remote, outsider, func(a *adequacy.Attestations) { a.SolelyComfortOrConvenience = yes() }, false,
			map[string]adequacy.Outcome{adequacy.CritComfortConvenience: adequacy.Fail}},
		{"investigational", remote, outsider, func(a *adequacy.Attestations) { a.Investigational = yes() }, false,
			map[string]adequacy.Outcome{adequacy.CritInvestigational: adequacy.Fail}},
		{"equivalent outcomes available", remote, outsider, func(a *adequacy.Attestations) { a.EquivalentOutcomesAvailable = yes() }, false,
			map[string]adequacy.Outcome{adequacy.CritEquivalentOutcomes: adequacy.Fail}},
		{"not medically necessary", remote, outsider, func(a *adequacy.Attestations) { a.MedicallyNecessary = no() }, false,
			map[string]adequacy.Outcome{adequacy.CritMedicallyNecessary: adequacy.Fail}},
		{"benefit does not cover", remote, outsider, func(a *adequacy.Attestations) { a.BenefitCoversNegotiation = no() }, false,
			map[string]adequacy.Outcome{adequacy.CritBenefitCovers: adequacy.Fail}},
		{"out of scope", remote, outsider, func(a *adequacy.Attestations) { a.WithinScope = no() }, false,
			map[string]adequacy.Outcome{adequacy.CritScopeOfPractice: adequacy.Fail}},
		{"no superior outcomes", remote, outsider, func(a *adequacy.Attestations) { a.SuperiorOutcomes = no() }, false,
			map[string]adequacy.Outcome{adequacy.CritSuperiorOutcomes: adequacy.Fail}},
		{"no healthcare requirement", remote, outsider, func(a *adequacy.Attestations) { a.HealthcareRequirement = no() }, false,
			map[string]adequacy.Outcome{adequacy.CritHealthcareRequirement: adequacy.Fail}},
		{"unattested criteria block", remote, outsider, func(a *adequacy.Attestations) { a.Investigational, a.WithinScope = nil, nil }, false,
			map[string]adequacy.Outcome{adequacy.CritInvestigational: adequacy.NotAttested, adequacy.CritScopeOfPractice: adequacy.NotAttested}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := allGood()
			if tc.edit != nil {
				tc.edit(&a)
			}
			res, err := eng.Negotiate(adequacy.NegotiationRequest{Member: adequacy.Member{Point: tc.at}, Discipline: adequacy.PT, AsOf: asOf,
				ProviderNPI: tc.npi, ProviderAt: pt(31.9, -103.5), Attestations: a})
			if err != nil {
				t.Fatal(err)
			}
			if res.Supported != tc.supported || res.Summary == "" {
				t.Errorf("supported = %v, want %v: %s", res.Supported, tc.supported, res.Summary)
			}
			if len(res.Criteria) != 11 {
				t.Errorf("%d criteria reported, want all 11", len(res.Criteria))
			}
			for _, c := range res.Criteria {
				want, blocks := tc.blocking[c.ID]
				if !blocks {
					want = adequacy.Pass
				}
				if c.Outcome != want || c.Clause == "" {
					t.Errorf("%s: %s (%s), want %s", c.ID, c.Outcome, c.Detail, want)
				}
			}
		})
	}
	_, err := eng.Negotiate(adequacy.NegotiationRequest{Member: adequacy.Member{Point: remote}, Discipline: adequacy.PT, AsOf: asOf, ProviderNPI: "1234567890"})
	var ir *adequacy.InvalidRequest
	if !errors.As(err, &ir) || ir.Violations[0].Field != "provider.npi" {
		t.Errorf("bad NPI: %v", err)
	}
}
