package adequacy_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// Plans of the gap-report oracle: a plan with a service area (New York
// and three Texas counties), one on a choice-of-2 profile, one whose
// network the roster lacks.
var gapPlans = []adequacy.Plan{
	{ID: "acme-ma", Name: "acme-ma", ProductLine: adequacy.MedicareAdvantage, Profile: "cms-ma", Networks: []string{"ACME-MA", "NORTH"},
		ServiceArea: nyAndSomeOfTexas()},
	{ID: "acme-tx", Name: "acme-tx", ProductLine: adequacy.Medicaid, Profile: "tx-medicaid", Networks: []string{"ACME-MA", "LONE-STAR"}},
	{ID: "nowhere", Name: "nowhere", ProductLine: adequacy.Commercial, Profile: "commercial-example", Networks: []string{"NOT-IN-ROSTER"}},
}

func nyAndSomeOfTexas() []string {
	// New York's 62 counties are 36001 … 36123 (odd codes); Texas: El Paso,
	// Harris, Travis.
	var out []string
	for c := 1; c <= 123; c += 2 {
		out = append(out, fmt.Sprintf("36%03d", c))
	}
	return append(out, "48141", "48201", "48453")
}

// gapCase is one report the oracle checks.
type gapCase struct {
	profile  string
	plan     string
	services []string
}

var gapCases = []gapCase{
	{"cms-ma", "", []string{"lymphedema", "sports", "vestibular"}},
	{"tx-medicaid", "", []string{"hand", "sports"}}, // choice of 2; sports without DC
	{"", "acme-ma", []string{"lymphedema", "orthopedic"}},
	{"", "acme-tx", []string{"hand"}},
	{"", "nowhere", []string{"lymphedema"}}, // nobody counts
}

// gapMembersFor is the sample's first members, a few located by ZIP only,
// one with a given county, and one of each kind of bad row.
func gapMembersFor(t testing.TB, n int) []adequacy.GapMember {
	ms := sampleGapMembers(t, n)
	return append(ms,
		adequacy.GapMember{ID: "Z1", Line: 9001, ZIP: "10001"},
		adequacy.GapMember{ID: "Z2", Line: 9002, ZIP: "79830"},
		adequacy.GapMember{ID: "C1", Line: 9003, Point: geo.Point{Lat: 40.75, Lon: -73.99}, HasPoint: true, CountyFIPS: "36005"},
		adequacy.GapMember{ID: "BAD1", Line: 9004, ZIP: "00000"},
		adequacy.GapMember{ID: "BAD2", Line: 9005, Point: geo.Point{Lat: 35, Lon: -50}, HasPoint: true},
	)
}

func memberOf(m adequacy.GapMember) adequacy.Member {
	mem := adequacy.Member{ZIP: m.ZIP, CountyFIPS: m.CountyFIPS}
	if m.HasPoint {
		pt := m.Point
		mem.Point = &pt
	}
	return mem
}

// Every member × discipline and member × service answer of a gap report
// with services and a plan equals Decide's (a service row: a Request with
// that Service and no Disciplines); members outside the plan's service
// area are rejected with Decide's reason, never decided; and the county
// rows, totals, unserved rows and cells equal a brute-force roll-up.
func TestGapScopedEqualsDecide(t *testing.T) {
	eng := scopedEngine(t, dressRoster(t, 21), gapPlans...)
	members := gapMembersFor(t, 700)
	byID := map[string]adequacy.GapMember{}
	for _, m := range members {
		byID[m.ID] = m
	}
	for _, tc := range gapCases {
		t.Run(tc.profile+tc.plan, func(t *testing.T) {
			rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{Profile: tc.profile, Plan: tc.plan, AsOf: asOf, Detail: true,
				Services: tc.services})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Subjects) != len(rep.Disciplines)+len(tc.services) || len(rep.Services) != len(tc.services) {
				t.Fatalf("subjects %v", rep.Subjects)
			}
			if (tc.plan != "") != (rep.Plan != nil) {
				t.Fatalf("plan %v", rep.Plan)
			}
			// Rejections: the two bad rows, and with a plan every member Decide
			// puts outside its service area, with Decide's reason.
			rejected := map[string]string{}
			for _, r := range rep.Rejected {
				rejected[r.MemberID] = r.Reason
			}
			if _, ok := rejected["BAD1"]; !ok {
				t.Error("BAD1 not rejected")
			}
			outside := 0
			for _, m := range members {
				if strings.HasPrefix(m.ID, "BAD") {
					continue
				}
				ds, err := eng.Decide(adequacy.Request{Member: memberOf(m), Disciplines: rep.Disciplines[:1], Profile: tc.profile, Plan: tc.plan, AsOf: asOf, K: 1})
				if err != nil {
					t.Fatal(err)
				}
				why, rej := rejected[m.ID]
				switch {
				case ds[0].Status == adequacy.OutOfServiceArea:
					outside++
					if !rej || why != ds[0].Explain() {
						t.Errorf("%s outside the service area: rejected %v %q, Decide %q", m.ID, rej, why, ds[0].Explain())
					}
				case rej:
					t.Errorf("%s rejected (%q) but Decide says %s", m.ID, why, ds[0].Status)
				}
			}
			if tc.plan == "acme-ma" && outside == 0 {
				t.Error("no member outside acme-ma's service area: the case tests nothing")
			}
			if rep.Members+len(rep.Rejected) != len(members) {
				t.Errorf("%d evaluated + %d rejected of %d", rep.Members, len(rep.Rejected), len(members))
			}
			var access []adequacy.AccessRow
			if err := rep.EachAccess(func(a *adequacy.AccessRow) error { access = append(access, *a); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(access) != rep.Members*len(rep.Subjects) {
				t.Fatalf("%d access rows for %d members × %d subjects", len(access), rep.Members, len(rep.Subjects))
			}
			for _, a := range access {
				req := adequacy.Request{Member: memberOf(byID[a.MemberID]), Profile: tc.profile, Plan: tc.plan, AsOf: asOf, K: 1, Service: a.Service}
				if a.Service == "" {
					req.Disciplines = []adequacy.Discipline{a.Discipline}
				}
				ds, err := eng.Decide(req)
				if err != nil {
					t.Fatal(err)
				}
				d := ds[0]
				nearestNPI, nearestMiles := "", math.Inf(1)
				if len(d.Nearest) > 0 {
					nearestNPI, nearestMiles = d.Nearest[0].NPI, d.Nearest[0].Miles
				}
				if a.Served != d.Served() || a.ProvidersWithin != d.ProvidersWithin || a.CountyFIPS != d.County.FIPS ||
					a.NearestNPI != nearestNPI || a.NearestMiles != nearestMiles || a.Discipline != d.Discipline {
					t.Errorf("%s %s%s: gap %+v, Decide %s served %v within %d county %s nearest %s %.6f", a.MemberID, a.Discipline, a.Service,
						a, d.Discipline, d.Served(), d.ProvidersWithin, d.County.FIPS, nearestNPI, nearestMiles)
				}
			}
			checkRollup(t, eng, rep, access, byID)
		})
	}
}

// checkRollup compares a report's rows with a brute-force roll-up of its
// access rows and of the roster.
func checkRollup(t *testing.T, eng *adequacy.Engine, rep *adequacy.GapReport, access []adequacy.AccessRow, byID map[string]adequacy.GapMember) {
	t.Helper()
	type key struct{ fips, subject string }
	members, served := map[key]int{}, map[key]int{}
	near := map[key][]float64{}
	var unserved []adequacy.AccessRow
	for _, a := range access {
		k := key{a.CountyFIPS, subjectOf(a.Discipline, a.Service)}
		members[k]++
		if a.Served {
			served[k]++
		} else {
			unserved = append(unserved, a)
		}
		if !math.IsInf(a.NearestMiles, 1) {
			near[k] = append(near[k], a.NearestMiles)
		}
	}
	// Unserved rows are the unserved access rows, in the same order.
	if len(unserved) != len(rep.Unserved) {
		t.Fatalf("%d unserved rows, %d unserved access rows", len(rep.Unserved), len(unserved))
	}
	for i, u := range rep.Unserved {
		a := unserved[i]
		if u.MemberID != a.MemberID || u.Discipline != a.Discipline || u.Service != a.Service || u.NearestNPI != a.NearestNPI || u.NearestMiles != a.NearestMiles {
			t.Errorf("unserved %d: %+v, access %+v", i, u, a)
		}
	}
	// Cells count the unserved by subject.
	cellSum := make([]int, len(rep.Subjects))
	for _, c := range rep.Cells {
		for s, n := range c.UnservedBy {
			cellSum[s] += n
		}
	}
	for s, sub := range rep.Subjects {
		want := 0
		for _, u := range rep.Unserved {
			if u.Key() == sub.Key() {
				want++
			}
		}
		if cellSum[s] != want {
			t.Errorf("%s: cells count %d unserved, rows %d", sub.Key(), cellSum[s], want)
		}
	}
	prof := rep.Profile
	counted := bruteCounted(t, eng, rep, byID)
	totals := map[string]adequacy.DisciplineTotal{}
	seen := map[key]bool{}
	for _, r := range rep.Counties {
		k := key{r.County.FIPS, r.Key()}
		seen[k] = true
		if r.Members != members[k] || r.Served != served[k] {
			t.Errorf("%s %s: members %d served %d, want %d %d", k.fips, k.subject, r.Members, r.Served, members[k], served[k])
		}
		if want := r.Served*10000 >= int(math.Round(r.RequiredPct*100))*r.Members; r.Pass != want {
			t.Errorf("%s %s: pass %v with %.2f%% of %.2f%%", k.fips, k.subject, r.Pass, r.ServedPct, r.RequiredPct)
		}
		if r.Counted != counted[k] {
			t.Errorf("%s %s: providers counted %d, brute force %d", k.fips, k.subject, r.Counted, counted[k])
		}
		if r.MinPass != (r.Counted >= r.MinRequired) {
			t.Errorf("%s %s: minimum %d, counted %d, pass %v", k.fips, k.subject, r.MinRequired, r.Counted, r.MinPass)
		}
		wantShare, wantMin, wantSource := bruteShareAndMinimum(t, prof, r)
		if r.RequiredPct != wantShare || r.MinRequired != wantMin || r.MinSource != wantSource {
			t.Errorf("%s %s: required %.2f%% minimum %d (%s), want %.2f%% %d (%s)", k.fips, k.subject, r.RequiredPct, r.MinRequired, r.MinSource,
				wantShare, wantMin, wantSource)
		}
		ns := slices.Sorted(slices.Values(near[k]))
		if p50, p90 := rank(ns, 0.5), rank(ns, 0.9); !sameMiles(r.NearestP50, p50) || !sameMiles(r.NearestP90, p90) {
			t.Errorf("%s %s: nearest p50 %v p90 %v, brute force %v %v", k.fips, k.subject, r.NearestP50, r.NearestP90, p50, p90)
		}
		t := totals[r.Key()]
		t.Members += r.Members
		t.Served += r.Served
		t.Counties++
		t.ProvidersCounted += r.Counted
		if r.Pass {
			t.CountiesPass++
		}
		if r.MinPass {
			t.CountiesMinPass++
		}
		totals[r.Key()] = t
	}
	if len(seen) != len(members) {
		t.Errorf("%d county rows, %d county × subject pairs with members", len(seen), len(members))
	}
	for i, tot := range rep.Totals {
		want := totals[rep.Subjects[i].Key()]
		if tot.Key() != rep.Subjects[i].Key() || tot.Members != want.Members || tot.Served != want.Served || tot.Counties != want.Counties ||
			tot.CountiesPass != want.CountiesPass || tot.CountiesMinPass != want.CountiesMinPass || tot.ProvidersCounted != want.ProvidersCounted {
			t.Errorf("total %s: %+v, brute force %+v", tot.Key(), tot, want)
		}
	}
}

func subjectOf(d adequacy.Discipline, service string) string {
	if service != "" {
		return service
	}
	return d.String()
}

func sameMiles(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// rank is the nearest-rank quantile of sorted values; NaN for none.
func rank(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	k := max(0, min(int(math.Ceil(q*float64(len(sorted))))-1, len(sorted)-1))
	return sorted[k]
}

// countsFor is the oracle's own reading of which providers a row's
// subject counts: participating, counting under the profile, in the
// plan's networks, of the subject's discipline or offering its service
// (same or similar) in one of the service's disciplines.
func countsFor(eng *adequacy.Engine, rep *adequacy.GapReport, s adequacy.Subject, p *adequacy.Provider) bool {
	if !rep.Profile.Counting.Counts(p, rep.AsOf) {
		return false
	}
	if rep.Plan != nil && !slices.ContainsFunc(p.Networks, rep.Plan.HasNetwork) {
		return false
	}
	if s.Service == nil {
		return p.Discipline == s.Discipline
	}
	return rep.Profile.Covers(p.Discipline) && slices.Contains(s.Service.Disciplines, p.Discipline) && offers(eng.Vocabulary, p, s.Service)
}

// bruteCounted counts, per county and subject, the counting providers
// within their own discipline's rule (the service's where the profile
// sets one) of at least one of the county's members.
func bruteCounted(t *testing.T, eng *adequacy.Engine, rep *adequacy.GapReport, byID map[string]adequacy.GapMember) map[struct{ fips, subject string }]int {
	t.Helper()
	type key = struct{ fips, subject string }
	rejected := map[string]bool{}
	for _, r := range rep.Rejected {
		rejected[r.MemberID] = true
	}
	byCounty := map[string][]geo.Point{}
	for id, m := range byID {
		if rejected[id] {
			continue
		}
		ds, err := eng.Decide(adequacy.Request{Member: memberOf(m), Disciplines: rep.Disciplines[:1], Profile: rep.Profile.Name, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		pt := m.Point
		if !m.HasPoint {
			z, err := eng.ZIPs.Lookup(m.ZIP)
			if err != nil {
				t.Fatal(err)
			}
			pt = z.Point
		}
		byCounty[ds[0].County.FIPS] = append(byCounty[ds[0].County.FIPS], pt)
	}
	out := map[key]int{}
	for fips, pts := range byCounty {
		c, err := eng.Counties.Lookup(fips)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range rep.Subjects {
			for i := range eng.Network.Roster.Providers {
				p := &eng.Network.Roster.Providers[i]
				if !countsFor(eng, rep, s, p) {
					continue
				}
				rule, err := adequacy.RuleForService(rep.Profile, c, p.Discipline, s.Service)
				if err != nil {
					t.Fatal(err)
				}
				for _, pt := range pts {
					if geo.Distance(pt, p.Location) <= rule.RadiusMiles {
						out[key{fips, s.Key()}]++
						break
					}
				}
			}
		}
	}
	return out
}

// bruteShareAndMinimum is a row's required share (the largest of its
// disciplines', less the credits that apply to every one of them) and its
// minimum count (the service's own where the profile sets one, else the
// largest of its disciplines').
func bruteShareAndMinimum(t *testing.T, p *adequacy.Profile, r adequacy.CountyRow) (float64, int, adequacy.MinimumSource) {
	t.Helper()
	var ds []adequacy.Discipline
	var svc *adequacy.Service
	if r.Service == "" {
		ds = []adequacy.Discipline{r.Discipline}
	} else {
		svc = serviceByCode(t, r.Service)
		for _, d := range svc.Disciplines {
			if p.Covers(d) {
				ds = append(ds, d)
			}
		}
	}
	share := 0.0
	for _, d := range ds {
		rule, err := adequacy.RuleForService(p, r.County, d, svc)
		if err != nil {
			t.Fatal(err)
		}
		share = math.Max(share, rule.ServedShare)
	}
	bp := int(math.Round(share * 10000))
	for _, c := range p.Credits {
		all := true
		for _, d := range ds {
			st, _ := r.County.Standard(d)
			all = all && slices.Contains(c.Disciplines, d) && c.AppliesWhen == adequacy.CreditCertificateOfNeed && st.CertificateOfNeed
		}
		if all {
			bp -= int(math.Round(c.Points * 100))
		}
	}
	minimum := func(mc adequacy.MinimumCount) (int, adequacy.MinimumSource) {
		switch mc.Rule {
		case adequacy.MinimumFixed:
			return mc.Fixed, adequacy.MinimumProfileFixed
		case adequacy.MinimumPer1000:
			if r.County.BeneficiariesRequired > 0 {
				return int(math.Ceil(mc.Ratio[r.County.Designation.Type] * float64(r.County.BeneficiariesRequired) / 1000)), adequacy.MinimumProfileRatio
			}
			return int(math.Ceil(mc.Ratio[r.County.Designation.Type] * float64(r.Members) / 1000)), adequacy.MinimumProfileRatioPlan
		}
		return 0, adequacy.MinimumNoRule
	}
	if svc != nil {
		if ss, ok := p.Services[svc.Code]; ok && ss.MinimumCount.Rule != adequacy.MinimumNone {
			n, src := minimum(ss.MinimumCount)
			return float64(max(bp, 0)) / 100, n, map[adequacy.MinimumSource]adequacy.MinimumSource{
				adequacy.MinimumProfileFixed: adequacy.MinimumServiceFixed, adequacy.MinimumProfileRatio: adequacy.MinimumServiceRatio,
				adequacy.MinimumProfileRatioPlan: adequacy.MinimumServiceRatioPlan}[src]
		}
	}
	best, src := -1, adequacy.MinimumNoRule
	for _, d := range ds {
		n, s := minimum(p.Disciplines[d].MinimumCount)
		if st, ok := r.County.Standard(d); ok && p.OfficialCountyStandards {
			n, s = st.MinProviders, adequacy.MinimumOfficial
		}
		if n > best {
			best, src = n, s
		}
	}
	return float64(max(bp, 0)) / 100, best, src
}

// serviceByCode is a service of the test vocabulary.
func serviceByCode(t *testing.T, code string) *adequacy.Service {
	t.Helper()
	s, ok := testVocabulary(t).Service(code)
	if !ok {
		t.Fatalf("no service %s", code)
	}
	return s
}

// Without Detail, served members' distances start as estimates — for a
// service, the least of its disciplines' —; the rows, quantiles and
// unserved rows must equal the exact report's.
func TestGapScopedQuantilesExact(t *testing.T) {
	eng := scopedEngine(t, dressRoster(t, 22), gapPlans...)
	members := sampleGapMembers(t, 2000)
	for _, tc := range gapCases[:3] {
		opts := adequacy.GapOptions{Profile: tc.profile, Plan: tc.plan, AsOf: asOf, Services: tc.services}
		fast, err := eng.Gap(context.Background(), members, opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.Detail = true
		exact, err := eng.Gap(context.Background(), members, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(exact.Counties) != len(fast.Counties) || len(exact.Unserved) != len(fast.Unserved) {
			t.Fatalf("rows differ: %d/%d counties, %d/%d unserved", len(exact.Counties), len(fast.Counties), len(exact.Unserved), len(fast.Unserved))
		}
		for i, e := range exact.Counties {
			f := fast.Counties[i]
			if !sameMiles(e.NearestP50, f.NearestP50) || !sameMiles(e.NearestP90, f.NearestP90) || e.Served != f.Served || e.Counted != f.Counted || e.Key() != f.Key() {
				t.Errorf("%s %s: exact p50 %v p90 %v, fast p50 %v p90 %v", e.County.FIPS, e.Key(), e.NearestP50, e.NearestP90, f.NearestP50, f.NearestP90)
			}
		}
		for i := range exact.Unserved {
			if exact.Unserved[i] != fast.Unserved[i] {
				t.Errorf("unserved %d: %+v vs %+v", i, exact.Unserved[i], fast.Unserved[i])
			}
		}
	}
}

// A report with services only adds rows: its discipline rows are those
// of the report without them, field for field.
func TestGapServicesLeaveDisciplineRows(t *testing.T) {
	eng := scopedEngine(t, dressRoster(t, 23))
	members := sampleGapMembers(t, 1500)
	plain, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	with, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf, Services: []string{"lymphedema", "hand"}})
	if err != nil {
		t.Fatal(err)
	}
	var rows []adequacy.CountyRow
	for _, r := range with.Counties {
		if r.Service == "" {
			rows = append(rows, r)
		}
	}
	if len(rows) != len(plain.Counties) || len(with.Counties) <= len(plain.Counties) {
		t.Fatalf("%d discipline rows of %d, want %d", len(rows), len(with.Counties), len(plain.Counties))
	}
	for i := range rows {
		a, b := rows[i], plain.Counties[i]
		if a.County != b.County || a.Discipline != b.Discipline || a.Served != b.Served || a.Counted != b.Counted || !sameMiles(a.NearestP50, b.NearestP50) ||
			!sameMiles(a.NearestP90, b.NearestP90) || a.MinRequired != b.MinRequired || a.RequiredPct != b.RequiredPct {
			t.Errorf("row %d: %+v, without services %+v", i, a, b)
		}
	}
	for i, tot := range plain.Totals {
		if with.Totals[i] != tot {
			t.Errorf("total %d: %+v, without services %+v", i, with.Totals[i], tot)
		}
	}
}

// A profile's own standard for a service sets the service rows' limits,
// required share and minimum count; without one, the minimum is the
// largest of its disciplines'. Credits apply to a service row when they
// apply to each of its disciplines (Washington DC's Certificate-of-Need
// credit is for PT and OT: lymphedema therapy, PT and OT, gets it; sports,
// PT and DC, does not).
func TestGapServiceStandardsAndCredits(t *testing.T) {
	eng := scopedEngine(t, dressRoster(t, 24))
	base, _ := eng.Profiles.Get("cms-ma")
	p := *base
	var ss adequacy.DisciplineStandards
	for i := range ss.ByType {
		ss.ByType[i] = adequacy.Standard{MaxMiles: 25, MaxMinutes: 40, ProvidersRequired: 2, ServedShare: 0.8}
	}
	ss.MinimumCount = adequacy.MinimumCount{Rule: adequacy.MinimumFixed, Fixed: 3}
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
	members := append(sampleGapMembers(t, 400),
		adequacy.GapMember{ID: "DC1", Line: 9001, Point: geo.Point{Lat: 38.9, Lon: -77.03}, HasPoint: true})
	rep, err := e.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf, Detail: true, Services: []string{"lymphedema", "sports"}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]adequacy.GapMember{}
	for _, m := range members {
		byID[m.ID] = m
	}
	var access []adequacy.AccessRow
	if err := rep.EachAccess(func(a *adequacy.AccessRow) error { access = append(access, *a); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, a := range access {
		if a.Service == "" {
			continue
		}
		ds, err := e.Decide(adequacy.Request{Member: memberOf(byID[a.MemberID]), AsOf: asOf, K: 1, Service: a.Service})
		if err != nil {
			t.Fatal(err)
		}
		if a.Served != ds[0].Served() || a.ProvidersWithin != ds[0].ProvidersWithin {
			t.Errorf("%s %s: gap served %v within %d, Decide %v %d", a.MemberID, a.Service, a.Served, a.ProvidersWithin, ds[0].Served(), ds[0].ProvidersWithin)
		}
	}
	checkRollup(t, &e, rep, access, byID)
	for _, r := range rep.Counties {
		switch r.Service {
		case "lymphedema":
			if r.MinRequired != 3 || r.MinSource != adequacy.MinimumServiceFixed {
				t.Errorf("%s lymphedema: minimum %d (%s)", r.County.FIPS, r.MinRequired, r.MinSource)
			}
			want := 80.0
			if r.County.FIPS == "11001" {
				want = 70 // the CON credit
			}
			if r.RequiredPct != want {
				t.Errorf("%s lymphedema: required %.1f%% (credits %v), want %.1f%%", r.County.FIPS, r.RequiredPct, r.Credits, want)
			}
		case "sports":
			if r.County.FIPS == "11001" && len(r.Credits) > 0 {
				t.Errorf("sports in DC got credits %v", r.Credits)
			}
			if r.MinSource != adequacy.MinimumOfficial {
				t.Errorf("%s sports: minimum from %s", r.County.FIPS, r.MinSource)
			}
		}
	}
}

// Bad service and plan options name the field; an unknown plan is
// ErrUnknownPlan (NotFound).
func TestGapScopeErrors(t *testing.T) {
	eng := scopedEngine(t, dressRoster(t, 25), gapPlans...)
	ms := sampleGapMembers(t, 5)
	tests := []struct {
		name  string
		opts  adequacy.GapOptions
		field string
		want  string
	}{
		{"unknown service", adequacy.GapOptions{Services: []string{"lymphedema", "reiki"}}, "services[1]", `unknown service "reiki"`},
		{"twice by alias", adequacy.GapOptions{Services: []string{"hand", "Hand"}}, "services[1]", "hand is listed twice (services[0])"},
		{"plan and profile disagree", adequacy.GapOptions{Plan: "acme-tx", Profile: "cms-ma"}, "profile", "plan acme-tx's contract mandates profile tx-medicaid"},
		{"unknown plan", adequacy.GapOptions{Plan: "nope"}, "plan", `unknown plan "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.AsOf = asOf
			_, err := eng.Gap(context.Background(), ms, tc.opts)
			var bad *adequacy.InvalidRequest
			if !errors.As(err, &bad) || bad.Violations[0].Field != tc.field || !strings.Contains(bad.Violations[0].Reason, tc.want) {
				t.Fatalf("err = %v, want %s: %s", err, tc.field, tc.want)
			}
			if (tc.field == "plan") != errors.Is(err, adequacy.ErrUnknownPlan) {
				t.Errorf("errors.Is(ErrUnknownPlan) = %v", errors.Is(err, adequacy.ErrUnknownPlan))
			}
		})
	}
	// A service none of whose disciplines the profile covers.
	v, err := adequacy.NewVocabulary("dc-only", "test", nil, []adequacy.Service{{Code: "spinal", Name: "spinal", Disciplines: []adequacy.Discipline{adequacy.DC}}})
	if err != nil {
		t.Fatal(err)
	}
	e := *eng
	e.Vocabulary = v
	n, err := e.NewNetwork(eng.Network.Roster)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.WithNetwork(n).Gap(context.Background(), ms, adequacy.GapOptions{AsOf: asOf, Profile: "tx-medicaid", Services: []string{"spinal"}})
	if err == nil || !strings.Contains(err.Error(), "services[0]: profile tx-medicaid has no standard for spinal's disciplines (DC)") {
		t.Errorf("uncovered service: %v", err)
	}
}

// Recruitment for a service equals a naive greedy: only candidates
// offering it (same or similar) count, each within its own discipline's
// standard, gains are the members newly served on the service's rows
// (choice-of-2 standards need two), ties go to roster order. With a plan,
// providers participating in other networks are candidates too.
func TestRecruitServiceOracle(t *testing.T) {
	roster := dressRoster(t, 26)
	eng := scopedEngine(t, roster, gapPlans...)
	members := sampleGapMembers(t, 3000)
	for _, tc := range []struct {
		profile, plan, service string
	}{
		{"cms-ma", "", "lymphedema"},
		{"tx-medicaid", "", "sports"},
		{"", "acme-ma", "orthopedic"},
	} {
		t.Run(tc.service, func(t *testing.T) {
			rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{Profile: tc.profile, Plan: tc.plan, AsOf: asOf, Detail: true,
				Services: []string{tc.service}})
			if err != nil {
				t.Fatal(err)
			}
			// Candidates: the roster's providers outside the plan (every
			// non-participating one without a plan), made non-counting
			// where the roster says so, with their designations.
			var cands []adequacy.Provider
			for _, p := range roster.Providers {
				if !p.Participating || (rep.Plan != nil && !slices.ContainsFunc(p.Networks, rep.Plan.HasNetwork)) {
					cands = append(cands, p)
				}
			}
			// Also some already participating (skipped as such).
			for _, p := range roster.Providers[:50] {
				if p.Participating && (rep.Plan == nil || slices.ContainsFunc(p.Networks, rep.Plan.HasNetwork)) {
					cands = append(cands, p)
				}
			}
			picks, skip, err := rep.RecruitService(context.Background(), tc.service, cands)
			if err != nil {
				t.Fatal(err)
			}
			svc := serviceByCode(t, tc.service)
			prof := rep.Profile
			need := map[string]int{}
			var access []adequacy.AccessRow
			if err := rep.EachAccess(func(a *adequacy.AccessRow) error {
				if a.Service == tc.service && !a.Served {
					access = append(access, *a)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			byID := map[string]adequacy.GapMember{}
			for _, m := range members {
				byID[m.ID] = m
			}
			for _, a := range access {
				c, _ := eng.Counties.Lookup(a.CountyFIPS)
				req := 0
				for _, d := range svc.Disciplines {
					if prof.Covers(d) {
						r, _ := adequacy.RuleForService(prof, c, d, svc)
						req = max(req, r.ProvidersRequired)
					}
				}
				need[a.MemberID] = req - a.ProvidersWithin
			}
			var wantSkip adequacy.RecruitSkip
			reach := make([][]string, len(cands))
			for ci := range cands {
				c := cands[ci]
				inPlan := rep.Plan == nil || slices.ContainsFunc(c.Networks, rep.Plan.HasNetwork)
				cc := c
				cc.Participating = true
				switch {
				case !slices.Contains(svc.Disciplines, c.Discipline) || !prof.Covers(c.Discipline):
					wantSkip.OtherDiscipline++
					continue
				case c.Participating && inPlan:
					wantSkip.Participating++
					continue
				case !offers(eng.Vocabulary, &c, svc):
					wantSkip.NotOffering++
					continue
				case !prof.Counting.Counts(&cc, asOf):
					wantSkip.NotCounting++
					continue
				}
				for _, a := range access {
					m := byID[a.MemberID]
					county, _ := eng.Counties.Lookup(a.CountyFIPS)
					rule, _ := adequacy.RuleForService(prof, county, c.Discipline, svc)
					if geo.Distance(m.Point, c.Location) <= rule.RadiusMiles {
						reach[ci] = append(reach[ci], a.MemberID)
					}
				}
			}
			if skip != wantSkip {
				t.Errorf("skip %+v, want %+v", skip, wantSkip)
			}
			cum := 0
			picked := make([]bool, len(cands))
			for rank := 1; ; rank++ {
				best, bestNew, bestRed := -1, 0, 0
				for ci := range cands {
					if picked[ci] {
						continue // a provider is recruited once
					}
					n, red := 0, 0
					for _, id := range reach[ci] {
						if need[id] == 1 {
							n++
						}
						if need[id] > 0 {
							red++
						}
					}
					if red > 0 && (n > bestNew || (n == bestNew && red > bestRed)) {
						best, bestNew, bestRed = ci, n, red
					}
				}
				if best < 0 {
					if rank-1 != len(picks) {
						t.Errorf("naive greedy made %d picks, RecruitService %d", rank-1, len(picks))
					}
					break
				}
				if rank > len(picks) {
					t.Fatalf("RecruitService stopped at %d picks; the naive greedy goes on", len(picks))
				}
				p := picks[rank-1]
				cum += bestNew
				if p.Provider.NPI != cands[best].NPI || p.NewlyServed != bestNew || p.CumulativeServed != cum || p.Service != tc.service {
					t.Fatalf("rank %d: RecruitService %s newly %d cumulative %d; naive %s newly %d cumulative %d", rank, p.Provider.NPI, p.NewlyServed,
						p.CumulativeServed, cands[best].NPI, bestNew, cum)
				}
				picked[best] = true
				for _, id := range reach[best] {
					if need[id] > 0 {
						need[id]--
					}
				}
			}
			if len(picks) == 0 {
				t.Error("no picks: the case tests nothing")
			}
		})
	}
	rep, err := eng.Gap(context.Background(), members[:10], adequacy.GapOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	var bad *adequacy.InvalidRequest
	if _, _, err := rep.RecruitService(context.Background(), "lymphedema", nil); !errors.As(err, &bad) || bad.Violations[0].Field != "service" {
		t.Errorf("a service the report lacks: %v", err)
	}
}

// The providers a report's maps show for a subject are those its rows
// count: for a service, those offering it; with a plan, in its networks.
func TestGapScopedCountingProviders(t *testing.T) {
	eng := scopedEngine(t, dressRoster(t, 27), gapPlans...)
	rep, err := eng.Gap(context.Background(), sampleGapMembers(t, 50), adequacy.GapOptions{Plan: "acme-ma", AsOf: asOf, Services: []string{"sports"}})
	if err != nil {
		t.Fatal(err)
	}
	got := rep.CountingProviders()
	for _, s := range rep.Subjects {
		var want []geo.Point
		for i := range eng.Network.Roster.Providers {
			p := &eng.Network.Roster.Providers[i]
			if countsFor(eng, rep, s, p) {
				want = append(want, p.Location)
			}
		}
		if !slices.EqualFunc(got[s.Key()], want, func(a, b geo.Point) bool { return a == b }) || len(want) == 0 {
			t.Errorf("%s: %d providers on the map, want %d", s.Key(), len(got[s.Key()]), len(want))
		}
	}
}
