package adequacy_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// reachOracle lists, by brute force, the counting providers (roster
// positions) within the standard of each member × discipline: every
// provider, the exact distance, the profile's counting rules one by one.
func reachOracle(t *testing.T, eng *adequacy.Engine, members []adequacy.GapMember, profile string) (lists map[accessKey][]int, required map[accessKey]int, county map[accessKey]string) {
	t.Helper()
	p, err := eng.Profiles.Get(profile)
	if err != nil {
		t.Fatal(err)
	}
	_, access := gapOracle(t, eng, members, adequacy.GapOptions{Profile: profile, AsOf: asOf})
	byID := map[string]adequacy.GapMember{}
	for _, m := range members {
		byID[m.ID] = m
	}
	roster := eng.Network.Roster.Providers
	lists, required, county = map[accessKey][]int{}, map[accessKey]int{}, map[accessKey]string{}
	for k, a := range access {
		c, err := eng.Counties.Lookup(a.CountyFIPS)
		if err != nil {
			t.Fatal(err)
		}
		rule, err := adequacy.RuleFor(p, c, k.d)
		if err != nil {
			t.Fatal(err)
		}
		m := byID[k.id]
		pt := m.Point
		if !m.HasPoint {
			continue // ZIP-located members: the oracle needs the point
		}
		box := rule.RadiusMiles/68.0 + 0.01
		lonBox := box / math.Max(0.05, math.Cos((math.Abs(pt.Lat)+box)*math.Pi/180))
		var in []int
		for i := range roster {
			q := &roster[i]
			if q.Discipline != k.d || !p.Counting.Counts(q, asOf) {
				continue
			}
			if math.Abs(q.Location.Lat-pt.Lat) > box || math.Abs(q.Location.Lon-pt.Lon) > lonBox {
				continue
			}
			if geo.Distance(pt, q.Location) <= rule.RadiusMiles {
				in = append(in, i)
			}
		}
		if len(in) != a.ProvidersWithin {
			t.Fatalf("oracle: %v has %d within by brute force, %d by the gap report", k, len(in), a.ProvidersWithin)
		}
		lists[k], required[k], county[k] = in, rule.ProvidersRequired, a.CountyFIPS
	}
	return lists, required, county
}

// Criticality equals a brute-force scan (every member × discipline's
// providers in reach, listed by exact distance) for every provider, and
// removing sampled providers in turn and running the gap report again.
func TestCriticalityOracle(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 500)
	for _, profile := range []string{"cms-ma", "tx-medicaid", "commercial-example"} {
		b, err := eng.NewBaseline(context.Background(), members, adequacy.ImpactOptions{Profile: profile, AsOf: asOf, Criticality: true})
		if err != nil {
			t.Fatal(err)
		}
		crit, err := b.Criticality()
		if err != nil {
			t.Fatal(err)
		}
		lists, required, county := reachOracle(t, eng, members, profile)
		reach, sole := map[int]int{}, map[int]int{}
		soleBy := map[int]map[string]int{}
		for k, in := range lists {
			for _, i := range in {
				reach[i]++
				if len(in) == required[k] {
					sole[i]++
					if soleBy[i] == nil {
						soleBy[i] = map[string]int{}
					}
					soleBy[i][county[k]]++
				}
			}
		}
		rows := map[rowKey]adequacy.CountyRow{}
		for _, r := range b.Rows {
			rows[rowKey{r.County.FIPS, r.Discipline}] = r
		}
		roster := eng.Network.Roster.Providers
		listed, soleTotal, risky := 0, 0, 0
		for k, pc := range crit.Providers {
			if pc.Rank != k+1 || &roster[pc.Position] != pc.Provider {
				t.Fatalf("%s: entry %d: rank %d, position %d", profile, k, pc.Rank, pc.Position)
			}
			if k > 0 {
				prev := crit.Providers[k-1]
				if prev.MembersSole < pc.MembersSole || (prev.MembersSole == pc.MembersSole && len(prev.CountiesAtRisk) < len(pc.CountiesAtRisk)) {
					t.Errorf("%s: rank %d (%d sole) after rank %d (%d sole)", profile, pc.Rank, pc.MembersSole, prev.Rank, prev.MembersSole)
				}
			}
			i := pc.Position
			var wantRisk []string
			for fips, n := range soleBy[i] {
				r := rows[rowKey{fips, pc.Provider.Discipline}]
				if r.Pass && (r.Served-n)*10000 < int(math.Round(r.RequiredPct*100))*r.Members {
					wantRisk = append(wantRisk, fips)
				}
			}
			slices.Sort(wantRisk)
			var gotRisk []string
			for _, c := range pc.CountiesAtRisk {
				gotRisk = append(gotRisk, c.FIPS)
			}
			if pc.MembersInReach != reach[i] || pc.MembersSole != sole[i] || !slices.Equal(gotRisk, wantRisk) {
				t.Errorf("%s: %s (row %d): reach %d sole %d at risk %v; brute force %d %d %v", profile, pc.Provider.NPI, i,
					pc.MembersInReach, pc.MembersSole, gotRisk, reach[i], sole[i], wantRisk)
			}
			listed++
			soleTotal += pc.MembersSole
			risky += len(pc.CountiesAtRisk)
		}
		want := 0
		pr, _ := eng.Profiles.Get(profile)
		for i := range roster {
			if roster[i].Participating && pr.Covers(roster[i].Discipline) {
				want++
			}
		}
		if listed != want || soleTotal == 0 || risky == 0 {
			t.Errorf("%s: %d providers listed (want %d), %d sole-access members, %d counties at risk", profile, listed, want, soleTotal, risky)
		}
		// Remove sampled providers one at a time and run the gap report.
		r := rand.New(rand.NewPCG(51, 52))
		sample := slices.Clone(crit.Providers[:5])
		for range 3 {
			sample = append(sample, crit.Providers[r.IntN(len(crit.Providers))])
		}
		for _, pc := range sample {
			checkRemoval(t, profile, eng, members, pc)
		}
	}
}

// checkRemoval removes pc's row alone and compares the gap reports.
func checkRemoval(t *testing.T, label string, eng *adequacy.Engine, members []adequacy.GapMember, pc adequacy.ProviderCriticality) {
	t.Helper()
	opts := adequacy.GapOptions{Profile: label, AsOf: asOf}
	if label == "national" {
		opts.Profile = ""
	}
	after, err := adequacy.NewNetwork(withChange(eng.Network.Roster, adequacy.Change{Remove: []int{pc.Position}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	rowsB, accB := gapOracle(t, eng, members, opts)
	rowsA, accA := gapOracle(t, eng.WithNetwork(after), members, opts)
	lost := 0
	for k, a := range accB {
		if a.Served && !accA[k].Served {
			lost++
		}
	}
	var failing []string
	for k, r := range rowsB {
		if r.Pass && !rowsA[k].Pass {
			failing = append(failing, k.fips)
		}
	}
	slices.Sort(failing)
	var got []string
	for _, c := range pc.CountiesAtRisk {
		got = append(got, c.FIPS)
	}
	if lost != pc.MembersSole || !slices.Equal(failing, got) {
		t.Errorf("%s: removing %s (rank %d) loses %d members and fails %v; criticality %d and %v", label, pc.Provider.NPI, pc.Rank, lost, failing, pc.MembersSole, got)
	}
}

// On national synthetic data, under the CMS standard and a choice-of-2
// profile: sampled providers removed in turn.
func TestCriticalityNational(t *testing.T) {
	if testing.Short() {
		t.Skip("national data")
	}
	eng, members := nationalFixture(t)
	r := rand.New(rand.NewPCG(53, 54))
	for _, profile := range []string{"national", "tx-medicaid"} {
		opts := adequacy.ImpactOptions{Profile: profile, AsOf: asOf, Criticality: true}
		if profile == "national" {
			opts.Profile = ""
		}
		b, err := eng.NewBaseline(context.Background(), members, opts)
		if err != nil {
			t.Fatal(err)
		}
		crit, err := b.Criticality()
		if err != nil {
			t.Fatal(err)
		}
		if crit.Providers[0].MembersSole == 0 {
			t.Errorf("%s: the most critical provider: %+v", profile, crit.Providers[0])
		}
		sample := slices.Clone(crit.Providers[:2])
		sample = append(sample, crit.Providers[r.IntN(len(crit.Providers)/4)])
		for _, pc := range sample {
			checkRemoval(t, profile, eng, members, pc)
		}
	}
}

// A dossier: leaving, it is the impact of removing every row of the NPI;
// members in reach by county by brute force; the nearest alternatives as
// a brute-force scan finds them. Joining, the impact of its rows
// participating.
func TestDossier(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 600)
	b, err := eng.NewBaseline(context.Background(), members, adequacy.ImpactOptions{Profile: "commercial-example", AsOf: asOf, Criticality: true})
	if err != nil {
		t.Fatal(err)
	}
	crit, err := b.Criticality()
	if err != nil {
		t.Fatal(err)
	}
	top := crit.Providers[0]
	dz, err := b.Dossier(context.Background(), top.Provider.NPI)
	if err != nil {
		t.Fatal(err)
	}
	if dz.Joining || dz.NPI != top.Provider.NPI || dz.Name != top.Provider.Name || len(dz.Rows) != 1 || dz.Counting != 1 {
		t.Fatalf("dossier: %+v", dz)
	}
	if len(dz.Impact.Lost) != top.MembersSole || dz.ChangedMiles.N != top.MembersSole {
		t.Errorf("dossier: %d lost (%d measured), criticality %d", len(dz.Impact.Lost), dz.ChangedMiles.N, top.MembersSole)
	}
	lists, _, county := reachOracle(t, eng, members, "commercial-example")
	inReach := map[string]int{}
	for k, in := range lists {
		if slices.Contains(in, top.Position) {
			inReach[county[k]]++
		}
	}
	total := 0
	for _, c := range dz.Counties {
		if c.Discipline != top.Provider.Discipline || c.InReach != inReach[c.County.FIPS] {
			t.Errorf("dossier county %s %s: %d in reach, brute force %d", c.County.FIPS, c.Discipline, c.InReach, inReach[c.County.FIPS])
		}
		total += c.InReach
		if c.Before.Pass && !c.After.Pass && !slices.ContainsFunc(top.CountiesAtRisk, func(x *adequacy.County) bool { return x == c.County }) {
			t.Errorf("dossier county %s fails, not at risk by criticality", c.County.FIPS)
		}
	}
	if total != top.MembersInReach {
		t.Errorf("dossier: %d in reach, criticality %d", total, top.MembersInReach)
	}
	// Alternatives: the nearest other counting providers of the discipline.
	p, _ := eng.Profiles.Get("commercial-example")
	roster := eng.Network.Roster.Providers
	type alt struct {
		npi   string
		miles float64
	}
	var want []alt
	for i := range roster {
		q := &roster[i]
		if i != top.Position && q.Discipline == top.Provider.Discipline && p.Counting.Counts(q, asOf) {
			want = append(want, alt{q.NPI, geo.Distance(top.Provider.Location, q.Location)})
		}
	}
	slices.SortFunc(want, func(x, y alt) int { return cmpF(x.miles, y.miles) })
	if len(dz.Alternatives) != adequacy.DossierAlternatives {
		t.Fatalf("%d alternatives", len(dz.Alternatives))
	}
	for k, a := range dz.Alternatives {
		if a.Miles != want[k].miles || a.From.NPI != top.Provider.NPI {
			t.Errorf("alternative %d: %s %.6f, brute force %s %.6f", k, a.Provider.NPI, a.Miles, want[k].npi, want[k].miles)
		}
	}
	// A provider that does not participate: what joining would add.
	var np *adequacy.Provider
	for i := range roster {
		if !roster[i].Participating && roster[i].Discipline == adequacy.PT {
			np = &roster[i]
			break
		}
	}
	jz, err := b.Dossier(context.Background(), np.NPI)
	if err != nil {
		t.Fatal(err)
	}
	flipped := *eng.Network.Roster
	flipped.Providers = slices.Clone(roster)
	for i := range flipped.Providers {
		if flipped.Providers[i].NPI == np.NPI {
			flipped.Providers[i].Participating = true
		}
	}
	after, err := adequacy.NewNetwork(&flipped, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, accB := gapOracle(t, eng, members, adequacy.GapOptions{Profile: "commercial-example", AsOf: asOf})
	_, accA := gapOracle(t, eng.WithNetwork(after), members, adequacy.GapOptions{Profile: "commercial-example", AsOf: asOf})
	gained := 0
	for k, a := range accB {
		if !a.Served && accA[k].Served {
			gained++
		}
	}
	if !jz.Joining || len(jz.Impact.Gained) != gained || len(jz.Impact.Lost) != 0 || !strings.HasSuffix(jz.Impact.Label, "joins") {
		t.Errorf("joining: %v, %d gained (gap reports %d), %d lost, %q", jz.Joining, len(jz.Impact.Gained), gained, len(jz.Impact.Lost), jz.Impact.Label)
	}
	if _, err := b.Dossier(context.Background(), "1234567893"); err == nil || !strings.Contains(err.Error(), `NPI "1234567893" not in the roster`) {
		t.Errorf("unknown NPI: %v", err)
	}
	if _, err := (&adequacy.Baseline{}).Criticality(); err != adequacy.ErrNoTally {
		t.Errorf("no tally: %v", err)
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
