package adequacy_test

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
)

// testVocabulary is a small vocabulary for the oracle: services held by
// designation, by declaration only, across disciplines, and one with a
// similar service.
func testVocabulary(t testing.TB) *adequacy.Vocabulary {
	t.Helper()
	D := func(ds ...adequacy.Discipline) []adequacy.Discipline { return ds }
	v, err := adequacy.NewVocabulary("test-1", "test", []adequacy.SpecialtyDesignation{
		{Code: "CLT", Name: "Certified Lymphedema Therapist", Disciplines: D(adequacy.PT, adequacy.OT)},
		{Code: "CHT", Name: "Certified Hand Therapist", Disciplines: D(adequacy.PT, adequacy.OT)},
		{Code: "OCS", Name: "Orthopaedic Clinical Specialist", Disciplines: D(adequacy.PT)},
		{Code: "DABCO", Name: "Diplomate, American Board of Chiropractic Orthopedists", Disciplines: D(adequacy.DC)},
		{Code: "SCS", Name: "Sports Clinical Specialist", Disciplines: D(adequacy.PT)},
	}, []adequacy.Service{
		{Code: "lymphedema", Name: "lymphedema therapy", Disciplines: D(adequacy.PT, adequacy.OT), Designations: []string{"CLT"}},
		{Code: "hand", Name: "hand therapy", Disciplines: D(adequacy.PT, adequacy.OT), Designations: []string{"CHT"}},
		{Code: "orthopedic", Name: "orthopedic", Disciplines: D(adequacy.PT, adequacy.DC), Designations: []string{"OCS", "DABCO"}},
		{Code: "sports", Name: "sports", Disciplines: D(adequacy.PT, adequacy.DC), Designations: []string{"SCS"}, Similar: []string{"orthopedic"}},
		{Code: "vestibular", Name: "vestibular rehabilitation", Disciplines: D(adequacy.PT)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var testNetworks = []string{"ACME-MA", "ACME-COMM", "LONE-STAR", "NORTH"}

// dressRoster gives the sample roster's providers designations, declared
// services (some without a designation, some outside their discipline)
// and networks, reproducibly.
func dressRoster(t testing.TB, seed uint64) *adequacy.Roster {
	t.Helper()
	base, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, seed+1))
	out := *base
	out.Providers = slices.Clone(base.Providers)
	for i := range out.Providers {
		p := &out.Providers[i]
		for _, d := range []string{"CLT", "CHT", "OCS", "DABCO", "SCS"} {
			if r.IntN(12) == 0 {
				p.Designations = append(p.Designations, d)
			}
		}
		for _, s := range []string{"lymphedema", "vestibular", "hand", "sports"} {
			if r.IntN(25) == 0 {
				p.Services = append(p.Services, s)
			}
		}
		p.Networks = []string{testNetworks[r.IntN(len(testNetworks))]}
		if r.IntN(3) == 0 {
			p.Networks = append(p.Networks, testNetworks[r.IntN(len(testNetworks))])
		}
		if r.IntN(40) == 0 {
			p.Networks = nil // in no network: counts for no plan
		}
	}
	return &out
}

func scopedEngine(t testing.TB, roster *adequacy.Roster, plans ...adequacy.Plan) *adequacy.Engine {
	t.Helper()
	eng, _, err := data.NewEngine(data.Setup{})
	if err != nil {
		t.Fatal(err)
	}
	eng.Vocabulary = testVocabulary(t)
	if len(plans) > 0 {
		if eng.Plans, err = adequacy.NewPlans("test", "test", plans, eng.Profiles); err != nil {
			t.Fatal(err)
		}
	}
	n, err := eng.NewNetwork(roster)
	if err != nil {
		t.Fatal(err)
	}
	return eng.WithNetwork(n)
}

// offers is the oracle's own reading of "offers the same or a similar
// service": declared, or a qualifying designation its discipline holds.
func offers(v *adequacy.Vocabulary, p *adequacy.Provider, svc *adequacy.Service) bool {
	codes := append([]string{svc.Code}, svc.Similar...)
	for _, code := range codes {
		s, _ := v.Service(code)
		if !slices.Contains(s.Disciplines, p.Discipline) {
			continue
		}
		if slices.Contains(p.Services, s.Code) {
			return true
		}
		for _, dc := range p.Designations {
			d, ok := v.Designation(dc)
			if ok && slices.Contains(s.Designations, d.Code) && slices.Contains(d.Disciplines, p.Discipline) {
				return true
			}
		}
	}
	return false
}

type near struct {
	npi   string
	miles float64
}

// bruteScoped decides one discipline by scanning the whole roster.
func bruteScoped(t *testing.T, eng *adequacy.Engine, pt geo.Point, county string, d adequacy.Discipline, prof *adequacy.Profile,
	svc *adequacy.Service, plan *adequacy.Plan, asOf adequacy.Date) (adequacy.Rule, int, []near) {
	t.Helper()
	c, err := eng.Counties.Lookup(county)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := adequacy.RuleForService(prof, c, d, svc)
	if err != nil {
		t.Fatal(err)
	}
	within := 0
	var all []near
	for i := range eng.Network.Roster.Providers {
		p := &eng.Network.Roster.Providers[i]
		if p.Discipline != d || !prof.Counting.Counts(p, asOf) {
			continue
		}
		if svc != nil && !offers(eng.Vocabulary, p, svc) {
			continue
		}
		if plan != nil && !slices.ContainsFunc(p.Networks, func(n string) bool { return slices.Contains(plan.Networks, n) }) {
			continue
		}
		m := geo.Distance(pt, p.Location)
		if m <= rule.RadiusMiles {
			within++
		}
		all = append(all, near{p.NPI, m})
	}
	slices.SortStableFunc(all, func(a, b near) int { return cmp.Compare(a.miles, b.miles) })
	return rule, within, all
}

func sameNearest(got []adequacy.NearbyProvider, want []near, k int) error {
	want = want[:min(k, len(want))]
	if len(got) != len(want) {
		return fmt.Errorf("%d nearest, brute force %d", len(got), len(want))
	}
	for i := range want {
		// Ties in distance may order NPIs differently: compare distances,
		// and NPIs where the distance is unique.
		if got[i].Miles != want[i].miles {
			return fmt.Errorf("nearest[%d]: %s at %.6f mi, brute force %s at %.6f mi", i, got[i].NPI, got[i].Miles, want[i].npi, want[i].miles)
		}
	}
	return nil
}

// Service and plan decisions equal a brute-force scan over the roster
// filtered to the providers who offer the service (same or similar) and
// share a network with the plan: one discipline, and across the service's
// disciplines; Decide and DecideBatch alike.
func TestDecideScopedOracle(t *testing.T) {
	plans := []adequacy.Plan{
		{ID: "acme-ma", Name: "acme-ma", ProductLine: adequacy.MedicareAdvantage, Profile: "cms-ma", Networks: []string{"ACME-MA"}},
		{ID: "acme-both", Name: "acme-both", ProductLine: adequacy.Commercial, Profile: "commercial-example", Networks: []string{"ACME-MA", "ACME-COMM"}},
		{ID: "nowhere", Name: "nowhere", ProductLine: adequacy.Commercial, Profile: "cms-ma", Networks: []string{"NOT-IN-ROSTER"}},
	}
	eng := scopedEngine(t, dressRoster(t, 7), plans...)
	r := rand.New(rand.NewPCG(3, 4))
	members := sampleMemberPoints(t)
	type combo struct {
		service string
		plan    string
		disc    []adequacy.Discipline
	}
	combos := []combo{
		{"lymphedema", "", []adequacy.Discipline{adequacy.PT}},
		{"lymphedema", "", nil},
		{"vestibular", "", []adequacy.Discipline{adequacy.PT}},
		{"sports", "", nil}, // similar: orthopedic providers count
		{"", "acme-ma", []adequacy.Discipline{adequacy.PT, adequacy.DC, adequacy.OT, adequacy.ST}},
		{"", "acme-both", []adequacy.Discipline{adequacy.PT, adequacy.OT}},
		{"hand", "acme-both", nil},
		{"orthopedic", "acme-ma", []adequacy.Discipline{adequacy.DC}},
		{"", "nowhere", []adequacy.Discipline{adequacy.PT}},
	}
	var reqs []adequacy.Request
	for i := 0; i < 240; i++ {
		m := members[r.IntN(len(members))]
		cb := combos[i%len(combos)]
		req := adequacy.Request{Member: adequacy.Member{Point: &m}, Disciplines: cb.disc, AsOf: asOf, Service: cb.service, Plan: cb.plan, K: 1 + i%6}
		reqs = append(reqs, req)
		ds, err := eng.Decide(req)
		if err != nil {
			t.Fatalf("%+v: %v", cb, err)
		}
		checkScoped(t, eng, req, ds, fmt.Sprintf("request %d %+v", i, cb))
	}
	batch, errs := eng.DecideBatch(reqs)
	for i := range reqs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		checkScoped(t, eng, reqs[i], batch[i], fmt.Sprintf("batch %d", i))
	}
}

func checkScoped(t *testing.T, eng *adequacy.Engine, req adequacy.Request, ds []adequacy.Decision, label string) {
	t.Helper()
	var svc *adequacy.Service
	if req.Service != "" {
		svc, _ = eng.Vocabulary.Service(req.Service)
	}
	var plan *adequacy.Plan
	profile := "cms-ma"
	if req.Plan != "" {
		plan, _ = eng.Plans.Get(req.Plan)
		profile = plan.Profile
	}
	prof, _ := eng.Profiles.Get(profile)
	k := req.K
	if k == 0 {
		k = adequacy.DefaultK
	}
	for _, d := range ds {
		if d.Status == adequacy.Indeterminate {
			continue
		}
		if d.Service != req.Service || d.Plan != req.Plan || d.Profile != profile {
			t.Errorf("%s: evidence service %q plan %q profile %q", label, d.Service, d.Plan, d.Profile)
		}
		discs := []adequacy.Discipline{d.Discipline}
		if d.Discipline == adequacy.AnyDiscipline {
			discs = svc.Disciplines
			if len(d.Components) != len(discs) {
				t.Fatalf("%s: %d components for %v", label, len(d.Components), discs)
			}
		}
		total, required := 0, 0
		var all []near
		for ci, dd := range discs {
			rule, within, nearest := bruteScoped(t, eng, *req.Member.Point, d.County.FIPS, dd, prof, svc, plan, req.AsOf)
			total += within
			required = max(required, rule.ProvidersRequired)
			all = append(all, nearest...)
			if d.Discipline == adequacy.AnyDiscipline {
				c := d.Components[ci]
				if c.Discipline != dd || c.ProvidersWithin != within || c.Rule != rule {
					t.Errorf("%s: component %s within %d rule %+v, brute force %d %+v", label, c.Discipline, c.ProvidersWithin, c.Rule, within, rule)
				}
			} else if d.Rule != rule {
				t.Errorf("%s: rule %+v, brute force %+v", label, d.Rule, rule)
			}
		}
		slices.SortStableFunc(all, func(a, b near) int { return cmp.Compare(a.miles, b.miles) })
		if d.ProvidersWithin != total {
			t.Errorf("%s %s: within %d, brute force %d", label, d.Discipline, d.ProvidersWithin, total)
		}
		if want := total >= required; d.Served() != want {
			t.Errorf("%s %s: served %v, brute force %v", label, d.Discipline, d.Served(), want)
		}
		if err := sameNearest(d.Nearest, all, k); err != nil {
			t.Errorf("%s %s: %v", label, d.Discipline, err)
		}
		for _, nb := range d.Nearest {
			if svc != nil && !slices.ContainsFunc(nb.Services, func(c string) bool { return c == svc.Code || slices.Contains(svc.Similar, c) }) {
				t.Errorf("%s: nearest %s lists services %v, not %s", label, nb.NPI, nb.Services, svc.Code)
			}
		}
	}
}

func sampleMemberPoints(t testing.TB) []geo.Point {
	t.Helper()
	b, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	ms, _, err := data.ReadMembers(strings.NewReader(string(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []geo.Point
	for _, m := range ms {
		if m.HasPoint {
			out = append(out, m.Point)
		}
	}
	return out
}

// Two plans with different profiles and overlapping networks on one
// roster give different answers, each right; a plan's service area and
// its contract's profile are enforced.
func TestPlans(t *testing.T) {
	plans := []adequacy.Plan{
		{ID: "acme-ma", Name: "acme-ma", ProductLine: adequacy.MedicareAdvantage, Profile: "cms-ma", Networks: []string{"ACME-MA", "NORTH"}},
		{ID: "acme-tx", Name: "acme-tx", ProductLine: adequacy.Medicaid, Profile: "tx-medicaid", Networks: []string{"ACME-MA"}, ServiceArea: []string{"48141"}},
	}
	eng := scopedEngine(t, dressRoster(t, 11), plans...)
	elPaso := geo.Point{Lat: 31.77, Lon: -106.44}
	req := func(plan string) adequacy.Request {
		return adequacy.Request{Member: adequacy.Member{Point: &elPaso}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf, Plan: plan}
	}
	ma, err := eng.Decide(req("acme-ma"))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := eng.Decide(req("acme-tx"))
	if err != nil {
		t.Fatal(err)
	}
	if ma[0].Profile != "cms-ma" || tx[0].Profile != "tx-medicaid" || ma[0].Rule.ProvidersRequired == tx[0].Rule.ProvidersRequired {
		t.Errorf("plans' profiles: %s (%d required), %s (%d required)", ma[0].Profile, ma[0].Rule.ProvidersRequired, tx[0].Profile, tx[0].Rule.ProvidersRequired)
	}
	if ma[0].ProvidersWithin == tx[0].ProvidersWithin && ma[0].Rule == tx[0].Rule {
		t.Errorf("two plans, same answer: %+v", ma[0])
	}
	checkScoped(t, eng, req("acme-ma"), ma, "acme-ma")
	checkScoped(t, eng, req("acme-tx"), tx, "acme-tx")
	if !strings.Contains(ma[0].Explain(), "plan acme-ma: networks ACME-MA, NORTH") {
		t.Errorf("explanation %q", ma[0].Explain())
	}
	// Outside the service area: a clear status, never a silent decision.
	nyc := geo.Point{Lat: 40.75, Lon: -73.99}
	out := req("acme-tx")
	out.Member.Point = &nyc
	ds, err := eng.Decide(out)
	if err != nil {
		t.Fatal(err)
	}
	if ds[0].Status != adequacy.OutOfServiceArea || !strings.Contains(ds[0].Explain(), "outside plan acme-tx's service area") || ds[0].Served() {
		t.Errorf("out of area: %v %q", ds[0].Status, ds[0].Explain())
	}
	// Unknown plan; plan and profile that disagree; agree.
	_, err = eng.Decide(req("nope"))
	var bad *adequacy.InvalidRequest
	if !errors.Is(err, adequacy.ErrUnknownPlan) || !errors.As(err, &bad) || !bad.NotFound || bad.Violations[0].Field != "plan" {
		t.Errorf("unknown plan: %v", err)
	}
	both := req("acme-ma")
	both.Profile = "tx-medicaid"
	if _, err := eng.Decide(both); err == nil || !strings.Contains(err.Error(), "profile: plan acme-ma's contract mandates profile cms-ma") {
		t.Errorf("disagreeing profile: %v", err)
	}
	both.Profile = "cms-ma"
	if _, err := eng.Decide(both); err != nil {
		t.Errorf("agreeing profile: %v", err)
	}
}

// Bad service requests name the field.
func TestServiceRequestErrors(t *testing.T) {
	eng := scopedEngine(t, dressRoster(t, 1))
	nyc := geo.Point{Lat: 40.75, Lon: -73.99}
	tests := []struct {
		name  string
		req   adequacy.Request
		field string
		want  string
	}{
		{"unknown service", adequacy.Request{Service: "reiki", Disciplines: []adequacy.Discipline{adequacy.PT}}, "service", `unknown service "reiki" (known: lymphedema, hand`},
		{"discipline cannot offer it", adequacy.Request{Service: "lymphedema", Disciplines: []adequacy.Discipline{adequacy.DC}}, "disciplines[0]", "lymphedema is offered by PT, OT, not DC"},
		{"no discipline, no service", adequacy.Request{}, "disciplines", "or a service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Member, tc.req.AsOf = adequacy.Member{Point: &nyc}, asOf
			_, err := eng.Decide(tc.req)
			var bad *adequacy.InvalidRequest
			if !errors.As(err, &bad) || bad.Violations[0].Field != tc.field || !strings.Contains(bad.Violations[0].Reason, tc.want) {
				t.Errorf("err = %v, want %s: %s", err, tc.field, tc.want)
			}
		})
	}
}

// The gate three ways: PTs in reach but nobody offering the service
// (supported on geo-access), someone offering it in reach (not
// supported), no service given (the discipline's answer, as before).
func TestGateService(t *testing.T) {
	roster := dressRoster(t, 5)
	// Nobody offers vestibular rehabilitation; one PT near Manhattan
	// offers lymphedema therapy.
	nyc := geo.Point{Lat: 40.75, Lon: -73.99}
	closest, best := -1, 1e9
	for i := range roster.Providers {
		p := &roster.Providers[i]
		p.Services = slices.DeleteFunc(p.Services, func(s string) bool { return s == "vestibular" || s == "lymphedema" })
		p.Designations = slices.DeleteFunc(p.Designations, func(s string) bool { return s == "CLT" })
		if p.Discipline == adequacy.PT && p.Participating && !p.TelehealthOnly && p.Termination.IsZero() {
			if m := geo.Distance(nyc, p.Location); m < best {
				closest, best = i, m
			}
		}
	}
	roster.Providers[closest].Designations = append(roster.Providers[closest].Designations, "CLT")
	eng := scopedEngine(t, roster)
	yes := true
	no := false
	att := adequacy.Attestations{HealthcareRequirement: &yes, WithinScope: &yes, SuperiorOutcomes: &yes, BenefitCoversNegotiation: &yes,
		SolelyComfortOrConvenience: &no, TechniquePreference: &no, Investigational: &no, EquivalentOutcomesAvailable: &no, MedicallyNecessary: &yes}
	ask := func(service string) adequacy.GateResult {
		t.Helper()
		g, err := eng.Negotiate(adequacy.NegotiationRequest{Member: adequacy.Member{Point: &nyc}, Discipline: adequacy.PT, AsOf: asOf,
			ProviderNPI: "1234567893", Attestations: att, Service: service})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	geoCrit := func(g adequacy.GateResult) adequacy.CriterionResult {
		for _, c := range g.Criteria {
			if c.ID == adequacy.CritGeoAccessNotMet {
				return c
			}
		}
		t.Fatal("no geo-access criterion")
		return adequacy.CriterionResult{}
	}
	nobody := ask("vestibular")
	if !nobody.Supported || geoCrit(nobody).Outcome != adequacy.Pass || nobody.DisciplineAccess == nil || !nobody.DisciplineAccess.Served() {
		t.Errorf("PTs in reach, none offering vestibular: supported=%v %+v", nobody.Supported, geoCrit(nobody))
	}
	if d := geoCrit(nobody).Detail; !strings.Contains(d, "participating PT provider(s) within 10 miles and 20 minutes; 0 offering vestibular rehabilitation") {
		t.Errorf("detail %q", d)
	}
	someone := ask("lymphedema")
	if someone.Supported || geoCrit(someone).Outcome != adequacy.Fail || someone.GeoAccess.ProvidersWithin != 1 {
		t.Errorf("a CLT in reach: supported=%v within %d", someone.Supported, someone.GeoAccess.ProvidersWithin)
	}
	plain := ask("")
	if plain.Supported || plain.DisciplineAccess != nil || plain.GeoAccess.Service != "" || geoCrit(plain).Outcome != adequacy.Fail {
		t.Errorf("no service: %+v", geoCrit(plain))
	}
}

// A profile's own standard for a service replaces the discipline's for
// that service alone.
func TestServiceStandard(t *testing.T) {
	eng := scopedEngine(t, dressRoster(t, 9))
	base, _ := eng.Profiles.Get("cms-ma")
	p := *base
	var ss adequacy.DisciplineStandards
	for i := range ss.ByType {
		ss.ByType[i] = adequacy.Standard{MaxMiles: 25, MaxMinutes: 40, ProvidersRequired: 2, ServedShare: 0.8}
	}
	p.Services = map[string]*adequacy.DisciplineStandards{"lymphedema": &ss}
	var all []*adequacy.Profile
	for _, q := range eng.Profiles.All() {
		if q.Name != "cms-ma" {
			all = append(all, q)
		}
	}
	ps, err := adequacy.NewProfiles(append(all, &p)...)
	if err != nil {
		t.Fatal(err)
	}
	e := *eng
	e.Profiles = ps
	nyc := geo.Point{Lat: 40.75, Lon: -73.99}
	for _, req := range []adequacy.Request{
		{Member: adequacy.Member{Point: &nyc}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf, Service: "lymphedema"},
		{Member: adequacy.Member{Point: &nyc}, AsOf: asOf, Service: "lymphedema"},
		{Member: adequacy.Member{Point: &nyc}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf, Service: "hand"},
	} {
		ds, err := e.Decide(req)
		if err != nil {
			t.Fatal(err)
		}
		checkScoped(t, &e, req, ds, "service standard "+req.Service)
		rule := ds[0].Rule
		if len(ds[0].Components) > 0 {
			rule = ds[0].Components[0].Rule
		}
		wantSource := adequacy.RuleServiceStandard
		if req.Service == "hand" {
			wantSource = adequacy.RuleOfficial
		}
		if rule.Source != wantSource || (req.Service == "lymphedema" && (rule.MaxMiles != 25 || ds[0].Rule.ProvidersRequired != 2)) {
			t.Errorf("%s: rule %+v", req.Service, rule)
		}
	}
}
