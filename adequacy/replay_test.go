package adequacy_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

// withVersions returns eng deciding with cms-ma's built-in version
// (2026.1) and the given others beside it.
func withVersions(t *testing.T, eng *adequacy.Engine, extra ...*adequacy.Profile) *adequacy.Engine {
	t.Helper()
	ps, err := adequacy.NewProfiles(append(eng.Profiles.All(), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	e := *eng
	e.Profiles = ps
	return &e
}

// stricter is a cms-ma version whose limits are half the 2026 ones and
// which ignores the official county limits: its decisions differ.
func stricter(t *testing.T, eng *adequacy.Engine, v, from, to string) *adequacy.Profile {
	p := version(t, eng, v, from, to)
	p.OfficialCountyStandards = false
	ds := make(map[adequacy.Discipline]*adequacy.DisciplineStandards, len(p.Disciplines))
	for d, s := range p.Disciplines {
		c := *s
		for i := range c.ByType {
			c.ByType[i].MaxMiles /= 2
			c.ByType[i].MaxMinutes /= 2
		}
		ds[d] = &c
	}
	p.Disciplines = ds
	return p
}

// A request naming a profile version decides with it even after a newer
// one is loaded, exactly as the live decision of that day did: the same
// Decision, field for field. A decision made while the year's version was
// missing (carried forward) replays the same way, flagged.
func TestReplayProfileVersion(t *testing.T) {
	only26 := engine(t, nil) // cms-ma 2026.1 alone, as the server had it
	both := withVersions(t, only26, stricter(t, only26, "2027.1", "2027-01-01", "2027-12-31"))
	req := func(day, version string, today bool) adequacy.Request {
		return adequacy.Request{Member: adequacy.Member{Point: pt(40.75, -73.99)}, Disciplines: []adequacy.Discipline{adequacy.PT, adequacy.DC},
			AsOf: mustDate(day), AsOfToday: today, ProfileVersion: version, K: 3}
	}
	decide := func(eng *adequacy.Engine, r adequacy.Request) []adequacy.Decision {
		t.Helper()
		ds, err := eng.Decide(r)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	tests := []struct {
		name     string
		original []adequacy.Decision // the live decision of the day
		replay   adequacy.Request    // against both versions
	}{
		{"in effect", decide(only26, req("2026-06-01", "", false)), req("2026-06-01", "2026.1", false)},
		{"in effect, for today", decide(only26, req("2026-06-01", "", true)), req("2026-06-01", "2026.1", false)},
		{"carried forward", decide(only26, req("2027-01-03", "", true)), req("2027-01-03", "2026.1", false)},
		{"the newer version", decide(both, req("2027-02-01", "", false)), req("2027-02-01", "2027.1", false)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decide(both, tc.replay)
			if !reflect.DeepEqual(got, tc.original) {
				t.Errorf("replay differs from the original:\n got  %+v\n want %+v", got, tc.original)
			}
			if got[0].ProfileVersion != tc.replay.ProfileVersion {
				t.Errorf("version %s, want %s", got[0].ProfileVersion, tc.replay.ProfileVersion)
			}
		})
	}
	// The carried replay is flagged as the original was; live, the same
	// day now takes the 2027 version, whose stricter limits change the rule.
	carried := decide(both, req("2027-01-03", "2026.1", false))
	live := decide(both, req("2027-01-03", "", true))
	if !carried[0].ProfileExpired || live[0].ProfileExpired || live[0].ProfileVersion != "2027.1" || live[0].Rule == carried[0].Rule {
		t.Errorf("carried %s expired=%v %+v; live %s expired=%v %+v", carried[0].ProfileVersion, carried[0].ProfileExpired, carried[0].Rule,
			live[0].ProfileVersion, live[0].ProfileExpired, live[0].Rule)
	}
}

// A named version must have applied on the as-of date; the errors name
// the field and the version's period.
func TestReplayProfileVersionErrors(t *testing.T) {
	base := engine(t, nil)
	eng := withVersions(t, base, stricter(t, base, "2027.1", "2027-01-01", "2027-12-31"))
	fail := *eng
	fail.Expiry = adequacy.FailExpired
	tests := []struct {
		name     string
		eng      *adequacy.Engine
		profile  string
		version  string
		day      string
		field    string
		want     string
		notFound bool
	}{
		{"before the version", eng, "", "2027.1", "2026-06-01", "profile_version", "profile cms-ma version 2027.1 is in effect 2027-01-01 to 2027-12-31, not on 2026-06-01", false},
		{"not the one carried", eng, "", "2026.1", "2028-03-01", "profile_version", "profile cms-ma version 2026.1 is in effect 2026-01-01 to 2026-12-31, not on 2028-03-01", false},
		{"carrying refused by policy", &fail, "", "2026.1", "2027-01-03", "profile_version", "not on 2027-01-03", false},
		{"unknown version", eng, "", "2025.9", "2026-06-01", "profile_version", `cms-ma has no version "2025.9" (loaded: 2026.1, 2027.1)`, true},
		{"unknown profile", eng, "nope", "2026.1", "2026-06-01", "profile", `unknown profile "nope"`, true},
		{"no date", eng, "", "2026.1", "", "as_of", "is required", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := adequacy.Request{Member: adequacy.Member{Point: pt(40.75, -73.99)}, Disciplines: []adequacy.Discipline{adequacy.PT},
				Profile: tc.profile, ProfileVersion: tc.version}
			if tc.day != "" {
				r.AsOf = mustDate(tc.day)
			}
			_, err := tc.eng.Decide(r)
			bad, ok := errors.AsType[*adequacy.InvalidRequest](err)
			if !ok || len(bad.Violations) != 1 || bad.Violations[0].Field != tc.field || !strings.Contains(bad.Violations[0].Reason, tc.want) {
				t.Fatalf("err = %v, want %s: %q", err, tc.field, tc.want)
			}
			if bad.NotFound != tc.notFound || tc.notFound != errors.Is(err, adequacy.ErrUnknownProfile) {
				t.Errorf("not found = %v, want %v", bad.NotFound, tc.notFound)
			}
			if !tc.notFound && tc.field == "profile_version" && !errors.Is(err, adequacy.ErrInvalidRequest) {
				t.Errorf("err = %v", err)
			}
		})
	}
	// The same refusals hold for gap reports and the negotiation gate.
	members := []adequacy.GapMember{{ID: "m1", Point: *pt(40.75, -73.99), HasPoint: true}}
	if _, err := eng.Gap(t.Context(), members, adequacy.GapOptions{AsOf: mustDate("2026-06-01"), ProfileVersion: "2027.1"}); err == nil ||
		!strings.Contains(err.Error(), "profile_version: profile cms-ma version 2027.1 is in effect") {
		t.Errorf("gap: %v", err)
	}
	_, err := eng.Negotiate(adequacy.NegotiationRequest{Member: adequacy.Member{Point: pt(40.75, -73.99)}, Discipline: adequacy.PT,
		AsOf: mustDate("2026-06-01"), ProfileVersion: "2027.1", ProviderNPI: "1234567893"})
	if err == nil || !strings.Contains(err.Error(), "profile_version: profile cms-ma version 2027.1 is in effect") {
		t.Errorf("negotiate: %v", err)
	}
}

// Gap reports and the gate take the named version too.
func TestReplayProfileVersionGapAndGate(t *testing.T) {
	base := engine(t, nil)
	eng := withVersions(t, base, stricter(t, base, "2027.1", "2027-01-01", "2027-12-31"))
	members := []adequacy.GapMember{{ID: "m1", Point: *pt(40.75, -73.99), HasPoint: true}, {ID: "m2", ZIP: "79830"}, {ID: "m3", ZIP: "99762"}}
	orig, err := base.Gap(t.Context(), members, adequacy.GapOptions{AsOf: mustDate("2027-01-03"), AsOfToday: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.Gap(t.Context(), members, adequacy.GapOptions{AsOf: mustDate("2027-01-03"), ProfileVersion: "2026.1"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Profile.Version != "2026.1" || !rep.ProfileExpired || !reflect.DeepEqual(rep.Counties, orig.Counties) || !reflect.DeepEqual(rep.Unserved, orig.Unserved) {
		t.Errorf("gap replay: version %s expired %v; rows equal %v, unserved equal %v", rep.Profile.Version, rep.ProfileExpired,
			reflect.DeepEqual(rep.Counties, orig.Counties), reflect.DeepEqual(rep.Unserved, orig.Unserved))
	}
	nreq := adequacy.NegotiationRequest{Member: adequacy.Member{ZIP: "99762"}, Discipline: adequacy.PT, AsOf: mustDate("2027-01-03"), AsOfToday: true,
		ProviderNPI: "1234567893", Attestations: adequacy.Attestations{}}
	want, err := base.Negotiate(nreq)
	if err != nil {
		t.Fatal(err)
	}
	nreq.ProfileVersion, nreq.AsOfToday = "2026.1", false
	got, err := eng.Negotiate(nreq)
	if err != nil {
		t.Fatal(err)
	}
	if got.GeoAccess.ProfileVersion != "2026.1" || !reflect.DeepEqual(got, want) {
		t.Errorf("gate replay:\n got  %+v\n want %+v", got, want)
	}
}

// A plan that pins a version agrees with a request naming it and refuses
// another; a plan's decisions cite the registry's version.
func TestReplayPlanPinsVersion(t *testing.T) {
	base := engine(t, nil)
	eng := withVersions(t, base, stricter(t, base, "2027.1", "2027-01-01", "2027-12-31"))
	plans, err := adequacy.NewPlans("pg:7", "plans.yaml", []adequacy.Plan{
		{ID: "acme-ma", Name: "Acme", ProductLine: adequacy.MedicareAdvantage, Profile: "cms-ma", ProfileVersion: "2026.1", Networks: []string{"ACME-MA"}},
	}, eng.Profiles)
	if err != nil {
		t.Fatal(err)
	}
	eng = eng.WithPlans(plans)
	r := adequacy.Request{Member: adequacy.Member{Point: pt(40.75, -73.99)}, Disciplines: []adequacy.Discipline{adequacy.PT},
		AsOf: mustDate("2026-06-01"), Plan: "acme-ma", ProfileVersion: "2026.1"}
	ds, err := eng.Decide(r)
	if err != nil {
		t.Fatal(err)
	}
	if ds[0].PlansVersion != "pg:7" || ds[0].Plan != "acme-ma" || ds[0].ProfileVersion != "2026.1" {
		t.Errorf("plan decision: plans %q plan %q version %q", ds[0].PlansVersion, ds[0].Plan, ds[0].ProfileVersion)
	}
	r.ProfileVersion = "2027.1"
	_, err = eng.Decide(r)
	if bad, ok := errors.AsType[*adequacy.InvalidRequest](err); !ok || bad.Violations[0].Field != "profile_version" ||
		bad.Violations[0].Reason != "the plan's contract pins cms-ma version 2026.1, not 2027.1" {
		t.Errorf("conflicting pin: %v", err)
	}
	// No plan, no plans version in the evidence.
	ds, err = eng.Decide(adequacy.Request{Member: adequacy.Member{Point: pt(40.75, -73.99)}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: mustDate("2026-06-01")})
	if err != nil || ds[0].PlansVersion != "" {
		t.Errorf("without a plan: %q, %v", ds[0].PlansVersion, err)
	}
}
