package adequacy_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/geo"
)

type accessKey struct {
	id string
	d  adequacy.Discipline
}

type rowKey struct {
	fips string
	d    adequacy.Discipline
}

// gapOracle runs the gap report with every member × discipline answer.
func gapOracle(t testing.TB, eng *adequacy.Engine, members []adequacy.GapMember, opts adequacy.GapOptions) (map[rowKey]adequacy.CountyRow, map[accessKey]adequacy.AccessRow) {
	t.Helper()
	opts.Detail = true
	rep, err := eng.Gap(context.Background(), members, opts)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[rowKey]adequacy.CountyRow{}
	for _, r := range rep.Counties {
		rows[rowKey{r.County.FIPS, r.Discipline}] = r
	}
	access := map[accessKey]adequacy.AccessRow{}
	if err := rep.EachAccess(func(a *adequacy.AccessRow) error { access[accessKey{a.MemberID, a.Discipline}] = *a; return nil }); err != nil {
		t.Fatal(err)
	}
	return rows, access
}

// withChange is the roster after a change, built the long way.
func withChange(r *adequacy.Roster, ch adequacy.Change) *adequacy.Roster {
	out := &adequacy.Roster{Version: r.Version + "+change"}
	for i, p := range r.Providers {
		if !slices.Contains(ch.Remove, i) {
			out.Providers = append(out.Providers, p)
		}
	}
	out.Providers = append(out.Providers, ch.Add...)
	return out
}

// checkImpact compares an impact with the gap reports on the networks
// before and after the change: every county row, and every member whose
// access changes, with the nearest provider on each network.
func checkImpact(t *testing.T, label string, eng *adequacy.Engine, members []adequacy.GapMember, ch adequacy.Change, opts adequacy.GapOptions) *adequacy.Impact {
	t.Helper()
	b, err := eng.NewBaseline(context.Background(), members, adequacy.ImpactOptions{Profile: opts.Profile, AsOf: opts.AsOf, Disciplines: opts.Disciplines, Credits: opts.Credits})
	if err != nil {
		t.Fatal(err)
	}
	im, err := b.Impact(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	after, err := adequacy.NewNetwork(withChange(eng.Network.Roster, ch), nil)
	if err != nil {
		t.Fatal(err)
	}
	rowsB, accB := gapOracle(t, eng, members, opts)
	rowsA, accA := gapOracle(t, eng.WithNetwork(after), members, opts)
	if len(im.Rows) != len(rowsB) || len(b.Rows) != len(rowsB) {
		t.Fatalf("%s: %d rows (baseline %d), gap report %d", label, len(im.Rows), len(b.Rows), len(rowsB))
	}
	same := func(st adequacy.RowState, r adequacy.CountyRow) bool {
		return st.Served == r.Served && st.Pass == r.Pass && st.Counted == r.Counted && st.MinPass == r.MinPass &&
			math.Abs(st.ServedPct-r.ServedPct) < 1e-9
	}
	flips := 0
	for i, r := range im.Rows {
		k := rowKey{r.County.FIPS, r.Discipline}
		gb, ga := rowsB[k], rowsA[k]
		base := b.Rows[i]
		if base.Members != gb.Members || base.Served != gb.Served || base.Pass != gb.Pass || base.Counted != gb.Counted ||
			base.RequiredPct != gb.RequiredPct || base.MinRequired != gb.MinRequired || base.MinPass != gb.MinPass || !slices.Equal(base.Credits, gb.Credits) {
			t.Errorf("%s %v: baseline row %+v, gap report %+v", label, k, base, gb)
		}
		if r.Members != gb.Members || r.Members != ga.Members || !same(r.Before, gb) || !same(r.After, ga) || r.MinRequired != ga.MinRequired {
			t.Errorf("%s %v: impact %+v; gap before %+v; after %+v", label, k, r, gb, ga)
		}
		if r.Before.Pass != r.After.Pass {
			flips++
		}
	}
	check := func(kind string, got []adequacy.ChangedMember, servedBefore bool) {
		want := map[accessKey]bool{}
		for k, a := range accB {
			if a.Served == servedBefore && accA[k].Served != servedBefore {
				want[k] = true
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d members %s, gap reports %d", label, len(got), kind, len(want))
		}
		for _, m := range got {
			k := accessKey{m.MemberID, m.Discipline}
			a, z := accB[k], accA[k]
			if !want[k] {
				t.Errorf("%s: %v %s, not by the gap reports", label, k, kind)
				continue
			}
			near := func(n adequacy.Nearest, a adequacy.AccessRow) bool {
				if a.NearestNPI == "" {
					return n.NPI == "" && math.IsInf(n.Miles, 1)
				}
				return n.NPI == a.NearestNPI && n.Miles == a.NearestMiles
			}
			if m.CountyFIPS != a.CountyFIPS || !near(m.Before, a) || !near(m.After, z) || m.WithinBefore != a.ProvidersWithin || m.WithinAfter != z.ProvidersWithin {
				t.Errorf("%s: %v %s: %+v; gap before %+v, after %+v", label, k, kind, m, a, z)
			}
		}
		if !slices.IsSortedFunc(got, func(x, y adequacy.ChangedMember) int {
			if x.Line != y.Line {
				return x.Line - y.Line
			}
			return int(x.Discipline) - int(y.Discipline)
		}) {
			t.Errorf("%s: %s not in member-file order", label, kind)
		}
	}
	check("lost", im.Lost, true)
	check("gained", im.Gained, false)
	if testing.Verbose() {
		t.Logf("%s: %d lost, %d gained, %d rows flip, %d member × discipline pairs looked at", label, len(im.Lost), len(im.Gained), flips, im.AffectedMembers)
	}
	return im
}

// pickNPIs picks n participating NPIs of the roster at random.
func pickRows(r *rand.Rand, roster *adequacy.Roster, n int, keep func(*adequacy.Provider) bool) []int {
	var out []int
	for len(out) < n {
		i := r.IntN(len(roster.Providers))
		if keep(&roster.Providers[i]) && !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// newProviders makes n participating providers near members.
func newProviders(r *rand.Rand, members []adequacy.GapMember, n int) []adequacy.Provider {
	var out []adequacy.Provider
	for len(out) < n {
		m := members[r.IntN(len(members))]
		if !m.HasPoint {
			continue
		}
		d := adequacy.Disciplines[r.IntN(len(adequacy.Disciplines))]
		out = append(out, adequacy.Provider{NPI: fmt.Sprintf("19%08d", r.IntN(1e8)), Discipline: d, Name: "New " + d.String(),
			Location:      geo.Point{Lat: m.Point.Lat + r.NormFloat64()*0.05, Lon: m.Point.Lon + r.NormFloat64()*0.05},
			Participating: true, AcceptingNewPatients: r.IntN(8) > 0, Networks: []string{"ACME-MA"}})
	}
	return out
}

// Impact equals the gap report run before and after the change: removals
// (one provider, many), additions, moves, under the CMS standard, a
// choice-of-2 profile and a commercial one.
func TestImpactEqualsGapReports(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 800)
	members = append(members, adequacy.GapMember{ID: "Z1", Line: 9001, ZIP: "10001"}, adequacy.GapMember{ID: "Z2", Line: 9002, ZIP: "79830"},
		adequacy.GapMember{ID: "BAD1", Line: 9004, ZIP: "00000"})
	roster := eng.Network.Roster
	r := rand.New(rand.NewPCG(41, 42))
	participating := func(p *adequacy.Provider) bool { return p.Participating }
	// The provider nearest to the most members: removing it surely loses some.
	busiest := busiestRow(t, eng, members)
	moved := pickRows(r, roster, 20, participating)
	var moves []adequacy.Provider
	for _, i := range moved {
		p := roster.Providers[i]
		p.Location = geo.Point{Lat: p.Location.Lat + r.NormFloat64()*0.2, Lon: p.Location.Lon + r.NormFloat64()*0.2}
		moves = append(moves, p)
	}
	changes := []struct {
		name string
		ch   adequacy.Change
	}{
		{"remove the busiest", adequacy.Change{Remove: []int{busiest}}},
		{"remove 40", adequacy.Change{Remove: pickRows(r, roster, 40, participating)}},
		{"remove 300", adequacy.Change{Remove: pickRows(r, roster, 300, func(*adequacy.Provider) bool { return true })}},
		{"add 30", adequacy.Change{Add: newProviders(r, members, 30)}},
		{"move 20", adequacy.Change{Remove: moved, Add: moves}},
		{"remove 100, add 60", adequacy.Change{Remove: pickRows(r, roster, 100, participating), Add: newProviders(r, members, 60)}},
	}
	lost, gained := 0, 0
	for _, profile := range []string{"cms-ma", "tx-medicaid", "commercial-example"} {
		for _, c := range changes {
			im := checkImpact(t, profile+": "+c.name, eng, members, c.ch, adequacy.GapOptions{Profile: profile, AsOf: asOf})
			lost += len(im.Lost)
			gained += len(im.Gained)
		}
	}
	if lost == 0 || gained == 0 {
		t.Errorf("the changes lost %d and gained %d members: the test shows nothing", lost, gained)
	}
}

// busiestRow is the participating row nearest to the most members.
func busiestRow(t testing.TB, eng *adequacy.Engine, members []adequacy.GapMember) int {
	t.Helper()
	count := map[string]int{}
	for _, m := range members[:200] {
		if !m.HasPoint {
			continue
		}
		ds, err := eng.Decide(adequacy.Request{Member: adequacy.Member{Point: &m.Point}, Disciplines: []adequacy.Discipline{adequacy.PT}, AsOf: asOf, K: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds[0].Nearest) > 0 {
			count[ds[0].Nearest[0].NPI]++
		}
	}
	best, bestN := "", 0
	for npi, n := range count {
		if n > bestN || (n == bestN && npi < best) {
			best, bestN = npi, n
		}
	}
	rows, err := eng.Network.RowsOf([]string{best})
	if err != nil {
		t.Fatal(err)
	}
	return rows[0]
}

// On national synthetic data (nationalFixture), a change of 60 rows, and
// one of 30 under a choice-of-2 profile.
func TestImpactNational(t *testing.T) {
	if testing.Short() {
		t.Skip("national data")
	}
	eng, members := nationalFixture(t)
	r := rand.New(rand.NewPCG(43, 44))
	roster := eng.Network.Roster
	ch := adequacy.Change{Remove: pickRows(r, roster, 40, func(p *adequacy.Provider) bool { return p.Participating }), Add: newProviders(r, members, 20)}
	checkImpact(t, "national", eng, members, ch, adequacy.GapOptions{AsOf: asOf})
	ch = adequacy.Change{Remove: pickRows(r, roster, 30, func(p *adequacy.Provider) bool { return p.Participating })}
	checkImpact(t, "national, choice of 2", eng, members, ch, adequacy.GapOptions{AsOf: asOf, Profile: "tx-medicaid"})
}

// nationalFixture is a national synthetic roster of 6,000 providers and
// 15,000 members placed like Medicare beneficiaries, made once.
func nationalFixture(t testing.TB) (*adequacy.Engine, []adequacy.GapMember) {
	t.Helper()
	d, err := nationalData()
	if err != nil {
		t.Fatal(err)
	}
	return d.eng, d.members
}

type nationalSet struct {
	eng     *adequacy.Engine
	members []adequacy.GapMember
}

var nationalData = sync.OnceValues(func() (nationalSet, error) {
	eng, ct, err := data.NewEngine(data.Setup{})
	if err != nil {
		return nationalSet{}, err
	}
	g, _ := data.EmbeddedGeography()
	w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs}
	ps, err := w.Providers(synth.Config{Seed: 45, Count: 6000, NonParticipating: 0.1, TelehealthOnly: 0.05, NotAccepting: 0.1,
		Networks: []string{"ACME-MA", "ACME-COMM"}})
	if err != nil {
		return nationalSet{}, err
	}
	n, err := adequacy.NewNetwork(&adequacy.Roster{Version: "synthetic", Providers: ps}, nil)
	if err != nil {
		return nationalSet{}, err
	}
	ms, err := w.Members(synth.Config{Seed: 46, Count: 15_000})
	if err != nil {
		return nationalSet{}, err
	}
	out := make([]adequacy.GapMember, len(ms))
	for i, m := range ms {
		out[i] = adequacy.GapMember{ID: m.ID, Line: i + 2, Point: m.Point, HasPoint: true}
	}
	return nationalSet{eng.WithNetwork(n), out}, nil
})

// Under a plan, only its networks count and members outside its service
// area are rejected: the impact equals Decide, member by member, on the
// networks before and after.
func TestImpactPlan(t *testing.T) {
	eng := engine(t, nil)
	plans, err := adequacy.NewPlans("test", "test", []adequacy.Plan{
		{ID: "acme-star", Name: "Acme STAR", ProductLine: adequacy.Medicaid, Profile: "tx-medicaid", Networks: []string{"ACME-MCD", "ACME-MA"}, ServiceArea: texasCounties(eng)},
		{ID: "acme-ma", Name: "Acme MA", ProductLine: adequacy.MedicareAdvantage, Profile: "cms-ma", Networks: []string{"ACME-MA"}},
	}, eng.Profiles)
	if err != nil {
		t.Fatal(err)
	}
	eng.Plans = plans
	members := sampleGapMembers(t, 700)
	roster := eng.Network.Roster
	r := rand.New(rand.NewPCG(47, 48))
	for _, plan := range []string{"acme-star", "acme-ma"} {
		b, err := eng.NewBaseline(context.Background(), members, adequacy.ImpactOptions{Plan: plan, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		add := newProviders(r, members, 25)
		for i := range add {
			add[i].Networks = [][]string{{"ACME-MCD"}, {"ACME-COMM"}, {"ACME-MA", "ACME-MCD"}}[i%3]
		}
		ch := adequacy.Change{Remove: pickRows(r, roster, 500, func(p *adequacy.Provider) bool { return p.Participating }), Add: add}
		im, err := b.Impact(context.Background(), ch)
		if err != nil {
			t.Fatal(err)
		}
		after, err := adequacy.NewNetwork(withChange(roster, ch), nil)
		if err != nil {
			t.Fatal(err)
		}
		outside := 0
		served := func(e *adequacy.Engine, m adequacy.GapMember, d adequacy.Discipline) (bool, bool) {
			ds, err := e.Decide(adequacy.Request{Member: adequacy.Member{Point: &m.Point}, Disciplines: []adequacy.Discipline{d}, Plan: plan, AsOf: asOf, K: 1})
			if err != nil {
				t.Fatal(err)
			}
			return ds[0].Served(), ds[0].Status == adequacy.OutOfServiceArea
		}
		lost := map[accessKey]bool{}
		for _, m := range im.Lost {
			lost[accessKey{m.MemberID, m.Discipline}] = true
		}
		want := 0
		for _, m := range members {
			for _, d := range b.Disciplines {
				sb, out := served(eng, m, d)
				sa, _ := served(eng.WithNetwork(after), m, d)
				if out {
					outside++
					continue
				}
				if sb && !sa {
					want++
					if !lost[accessKey{m.ID, d}] {
						t.Errorf("%s: %s %s loses access by Decide, not by the impact", plan, m.ID, d)
					}
				}
			}
		}
		if want != len(im.Lost) {
			t.Errorf("%s: %d lost, Decide %d", plan, len(im.Lost), want)
		}
		if plan == "acme-star" && (outside == 0 || len(b.Rejected) == 0 || !strings.Contains(b.Rejected[0].Reason, "outside plan acme-star's service area")) {
			t.Errorf("%s: %d outside, rejected %v", plan, outside, b.Rejected[:min(1, len(b.Rejected))])
		}
		if want == 0 {
			t.Errorf("%s: nobody lost access: the test shows nothing", plan)
		}
	}
}

func texasCounties(eng *adequacy.Engine) []string {
	var out []string
	for _, c := range eng.Counties.All() {
		if c.State == "TX" {
			out = append(out, c.FIPS)
		}
	}
	return out
}

// The change between two rosters is exactly what differs in the fields
// decisions read: applied, it makes the new roster's impact.
func TestChangeBetween(t *testing.T) {
	eng := engine(t, nil)
	old := eng.Network.Roster
	r := rand.New(rand.NewPCG(49, 50))
	nw := &adequacy.Roster{Version: "v2"}
	gone, changedRows := 0, 0
	for i, p := range old.Providers {
		switch i % 50 {
		case 0: // gone
			gone++
			continue
		case 1: // moved a few feet: a change of access
			p.Location.Lat += 1e-5
			changedRows++
		case 2: // renamed: no change of access
			p.Name += " LLC"
		case 3:
			p.AcceptingNewPatients = !p.AcceptingNewPatients
			changedRows++
		case 4:
			if len(p.Networks) > 0 {
				p.Networks = nil
				changedRows++
			}
		}
		nw.Providers = append(nw.Providers, p)
	}
	members := sampleGapMembers(t, 400)
	nw.Providers = append(nw.Providers, newProviders(r, members, 10)...)
	r.Shuffle(len(nw.Providers), func(i, j int) { nw.Providers[i], nw.Providers[j] = nw.Providers[j], nw.Providers[i] })
	ch := adequacy.ChangeBetween(old, nw)
	if len(ch.Remove) != gone+changedRows || len(ch.Add) != changedRows+10 || ch.Label != "v2" {
		t.Errorf("change: %d removed, %d added (want %d, %d)", len(ch.Remove), len(ch.Add), gone+changedRows, changedRows+10)
	}
	im := checkImpact(t, "between versions", eng, members, ch, adequacy.GapOptions{Profile: "commercial-example", AsOf: asOf})
	if im.Label != "v2" {
		t.Errorf("label %q", im.Label)
	}
}

// Bad changes are refused with the field at fault; an NPI the roster
// lacks is named.
func TestImpactBadInput(t *testing.T) {
	eng := engine(t, nil)
	roster := eng.Network.Roster
	_, err := eng.Network.RowsOf([]string{roster.Providers[0].NPI, "1234567893", "x"})
	var un *adequacy.UnknownNPIError
	if !errors.As(err, &un) || !errors.Is(err, adequacy.ErrUnknownNPI) || !slices.Equal(un.Index, []int{1, 2}) ||
		err.Error() != `NPIs "1234567893", "x" not in the roster` {
		t.Errorf("RowsOf: %v", err)
	}
	b, err := eng.NewBaseline(context.Background(), sampleGapMembers(t, 50), adequacy.ImpactOptions{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	dup := roster.Providers[3]
	cases := []struct {
		ch   adequacy.Change
		want string
	}{
		{adequacy.Change{Add: []adequacy.Provider{dup}}, "add[0]: NPI " + dup.NPI},
		{adequacy.Change{Add: []adequacy.Provider{{NPI: "12", Discipline: adequacy.PT, Location: geo.Point{Lat: 40, Lon: -74}}}}, "add[0].npi"},
		{adequacy.Change{Add: []adequacy.Provider{{NPI: "1234567893", Discipline: adequacy.PT, Location: geo.Point{Lat: 91, Lon: -74}}}}, "add[0].location"},
		{adequacy.Change{Remove: []int{-1}}, "remove[0]"},
		{adequacy.Change{Remove: []int{5, 5}}, "remove[1]: row 5 is listed twice"},
		{adequacy.Change{Add: []adequacy.Provider{newP(), newP()}}, "add[1]: NPI 1234567893 (PT at 40.000000,-74.000000) repeats add[0]"},
	}
	for _, c := range cases {
		_, err := b.Impact(context.Background(), c.ch)
		if !errors.Is(err, adequacy.ErrInvalidRequest) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.ch, err, c.want)
		}
	}
	// The duplicate is fine when the row it repeats leaves in the change.
	if _, err := b.Impact(context.Background(), adequacy.Change{Remove: []int{3}, Add: []adequacy.Provider{dup}}); err != nil {
		t.Errorf("replace a row: %v", err)
	}
	if _, err := eng.NewBaseline(context.Background(), nil, adequacy.ImpactOptions{AsOf: asOf, Disciplines: []adequacy.Discipline{adequacy.PT, adequacy.PT}}); err == nil || !strings.Contains(err.Error(), "disciplines[1]: PT is listed twice") {
		t.Errorf("disciplines twice: %v", err)
	}
	if _, err := eng.NewBaseline(context.Background(), nil, adequacy.ImpactOptions{AsOf: asOf, Plan: "nope"}); !errors.Is(err, adequacy.ErrUnknownPlan) {
		t.Errorf("unknown plan: %v", err)
	}
}

func newP() adequacy.Provider {
	return adequacy.Provider{NPI: "1234567893", Discipline: adequacy.PT, Location: geo.Point{Lat: 40, Lon: -74}, Participating: true}
}
