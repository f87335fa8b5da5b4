package adequacy_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// oddRoster has what a compact roster must keep exactly: empty strings,
// text beyond ASCII, lists nil, empty and shared, every flag and date.
func oddRoster() *adequacy.Roster {
	shared := []string{"ACME-MA", "NORTH"}
	d := func(s string) adequacy.Date { return mustDate(s) }
	return &adequacy.Roster{Version: "odd", Source: "test", Providers: []adequacy.Provider{
		{NPI: "1234567893", Name: "Ærø Physio — Ünïcode", Discipline: adequacy.PT, Location: geo.Point{Lat: 40.75, Lon: -73.99},
			Address:  adequacy.Address{Line1: "1 Main St", Line2: "Suite 2", City: "New York", State: "NY", ZIP: "10001"},
			Networks: shared, Designations: []string{"OCS"}, Services: []string{}, Participating: true, AcceptingNewPatients: true,
			Effective: d("2020-01-01"), Termination: d("2030-01-01")},
		{NPI: "1234567893", Discipline: adequacy.OT, Location: geo.Point{Lat: -14.3, Lon: -170.7}, Networks: shared, TelehealthOnly: true},
		{NPI: "", Name: "", Discipline: adequacy.Discipline(200)}, // not valid for a network, but a roster may hold it
		{NPI: "1497758544", Name: "Plain", Discipline: adequacy.ST, Location: geo.Point{Lat: 61.2, Lon: -149.9}, CountyFIPS: "02020",
			Networks: []string{"ACME-MA", "NORTH"}, Participating: true},
	}}
}

// A compact roster reads back exactly as the values it was made from, in
// every accessor, and leaves them as they were.
func TestCompactRosterRoundTrip(t *testing.T) {
	open := oddRoster()
	keep := slices.Clone(open.Providers)
	c, err := open.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsCompact() || open.IsCompact() || c.Providers != nil || c.Version != "odd" || c.Source != "test" {
		t.Fatalf("compact %v, values %v, providers %v", c.IsCompact(), open.IsCompact(), c.Providers)
	}
	if again, _ := c.Compact(); again != c {
		t.Error("Compact of a compact roster is a copy")
	}
	if !reflect.DeepEqual(open.Providers, keep) {
		t.Error("Compact changed the roster it copied")
	}
	if c.Len() != len(keep) || c.Stats() != adequacy.CountProviders(keep) {
		t.Errorf("len %d, stats %+v; want %d, %+v", c.Len(), c.Stats(), len(keep), adequacy.CountProviders(keep))
	}
	for i := range keep {
		if got := c.Provider(i); !reflect.DeepEqual(*got, keep[i]) {
			t.Errorf("provider %d:\n got %#v\nwant %#v", i, *got, keep[i])
		}
	}
	n := 0
	for i, p := range c.All() {
		if i != n || !reflect.DeepEqual(*p, keep[i]) {
			t.Errorf("All at %d (step %d): %#v", i, n, *p)
		}
		n++
	}
	if n != len(keep) {
		t.Errorf("All yielded %d", n)
	}
	if x := c.Expand(); x.IsCompact() || !reflect.DeepEqual(x.Providers, keep) {
		t.Errorf("Expand: %#v", x.Providers)
	}
	if open.Expand() != open {
		t.Error("Expand of a roster of values is a copy")
	}
	// The shared list stays one list.
	if p, q := c.Provider(0), c.Provider(3); &p.Networks[0] != &q.Networks[0] {
		t.Error("equal lists are not shared")
	}
}

// Builders joined in order, with rows left out, and reordered, make the
// roster one builder would.
func TestRosterBuilderAppendReorder(t *testing.T) {
	ps := oddRoster().Providers
	a, b := adequacy.NewRosterBuilder(0), adequacy.NewRosterBuilder(0)
	for i := range ps {
		part := a
		if i >= 2 {
			part = b
		}
		if err := part.Add(&ps[i]); err != nil {
			t.Fatal(err)
		}
	}
	all := adequacy.NewRosterBuilder(0)
	if err := all.Append(a, nil); err != nil {
		t.Fatal(err)
	}
	if err := all.Append(b, func(i int) bool { return i != 0 }); err != nil { // drop ps[2]
		t.Fatal(err)
	}
	if err := all.Reorder([]int32{2, 0, 1}); err != nil {
		t.Fatal(err)
	}
	if err := all.Reorder([]int32{0, 0, 1}); err == nil {
		t.Error("a repeated position reorders")
	}
	r := all.Roster("v", "s", asOf.Time())
	want := []adequacy.Provider{ps[3], ps[0], ps[1]}
	if got := r.Expand().Providers; !reflect.DeepEqual(got, want) {
		t.Errorf("joined:\n got %#v\nwant %#v", got, want)
	}
}

// A network of a compact roster answers exactly as one of the same
// providers as values: decisions (services and plans too), batches, gap
// reports with their rows, maps, HSD tables and unlisted providers, the
// gate's provider lookup and roster diffs.
func TestCompactRosterSameAnswers(t *testing.T) {
	plans := []adequacy.Plan{
		{ID: "acme-ma", Name: "acme-ma", ProductLine: adequacy.MedicareAdvantage, Profile: "cms-ma", Networks: []string{"ACME-MA"}},
	}
	open := dressRoster(t, 11)
	compact, err := open.Compact()
	if err != nil {
		t.Fatal(err)
	}
	ev, ec := scopedEngine(t, open, plans...), scopedEngine(t, compact, plans...)
	if ec.Network.Roster != compact || !compact.IsCompact() {
		t.Fatal("the network does not serve the compact roster")
	}
	members := sampleMemberPoints(t)
	r := rand.New(rand.NewPCG(5, 6))
	var reqs []adequacy.Request
	for i := range 300 {
		m := members[r.IntN(len(members))]
		req := adequacy.Request{Member: adequacy.Member{Point: &m}, Disciplines: adequacy.Disciplines, AsOf: asOf, K: 1 + i%7}
		switch i % 4 {
		case 1:
			req.Service, req.Disciplines = "lymphedema", nil
		case 2:
			req.Plan = "acme-ma"
		}
		reqs = append(reqs, req)
		dv, err1 := ev.Decide(req)
		dc, err2 := ec.Decide(req)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(dv, dc) {
			t.Fatalf("request %d: %v %v\nvalues  %+v\ncompact %+v", i, err1, err2, dv, dc)
		}
	}
	bv, _ := ev.DecideBatch(reqs)
	bc, _ := ec.DecideBatch(reqs)
	if !reflect.DeepEqual(bv, bc) {
		t.Error("batches differ")
	}

	gm := sampleGapMembers(t, 2000)
	opts := adequacy.GapOptions{Profile: "cms-ma", AsOf: asOf, Detail: true}
	gv, err1 := ev.Gap(context.Background(), gm, opts)
	gc, err2 := ec.Gap(context.Background(), gm, opts)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !reflect.DeepEqual(gv.Counties, gc.Counties) || !reflect.DeepEqual(gv.Unserved, gc.Unserved) || !reflect.DeepEqual(gv.Totals, gc.Totals) {
		t.Error("gap report rows differ")
	}
	if !reflect.DeepEqual(gv.CountingProviders(), gc.CountingProviders()) {
		t.Error("counting providers differ")
	}
	av, _ := gv.AccessRows(0, gv.AccessMembers(), nil)
	ac, _ := gc.AccessRows(0, gc.AccessMembers(), nil)
	if !reflect.DeepEqual(av, ac) {
		t.Error("access rows differ")
	}
	cv, _ := gv.CountyProviders()
	cc, _ := gc.CountyProviders()
	if len(cv) != len(cc) || len(cv) == 0 {
		t.Fatalf("county providers: %d and %d", len(cv), len(cc))
	}
	for i := range cv {
		if cv[i].County != cc[i].County || cv[i].Discipline != cc[i].Discipline || cv[i].RosterRow != cc[i].RosterRow || !reflect.DeepEqual(*cv[i].Provider, *cc[i].Provider) {
			t.Fatalf("county provider %d differs", i)
		}
	}
	area := adequacy.ServiceAreaOf(adequacy.ContractedCounties(ec.Network, ec.Counties, adequacy.Disciplines), "contracted")
	if !reflect.DeepEqual(area, adequacy.ServiceAreaOf(adequacy.ContractedCounties(ev.Network, ev.Counties, adequacy.Disciplines), "contracted")) {
		t.Error("contracted counties differ")
	}
	hv, _ := gv.HSDTables(area, ev.Counties)
	hc, _ := gc.HSDTables(area, ec.Counties)
	if len(hv.Records) != len(hc.Records) || len(hv.Records) == 0 {
		t.Fatalf("HSD records: %d and %d", len(hv.Records), len(hc.Records))
	}
	for i := range hv.Records {
		x, y := hv.Records[i], hc.Records[i]
		if !reflect.DeepEqual(*x.Provider, *y.Provider) {
			t.Fatalf("HSD record %d: providers differ", i)
		}
		x.Provider, y.Provider = nil, nil
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("HSD record %d:\n%+v\n%+v", i, x, y)
		}
	}
	for _, tb := range []adequacy.HSDTable{adequacy.ProviderTable, adequacy.FacilityTable} {
		if !reflect.DeepEqual(hv.Rows[tb&1], hc.Rows[tb&1]) {
			t.Errorf("%s rows differ", tb)
		}
		for i := range hv.Rows[tb&1] {
			x, y := hv.Row(tb, i), hc.Row(tb, i)
			x.Provider, y.Provider = nil, nil
			if !reflect.DeepEqual(x, y) {
				t.Fatalf("%s row %d differs", tb, i)
			}
		}
	}
	uv, _ := gv.Unlisted()
	uc, _ := gc.Unlisted()
	if len(uv) != len(uc) {
		t.Fatalf("unlisted: %d and %d", len(uv), len(uc))
	}
	for i := range uv {
		if uv[i].Reason != uc[i].Reason || !reflect.DeepEqual(*uv[i].Provider, *uc[i].Provider) {
			t.Fatalf("unlisted %d differs", i)
		}
	}
	for i := 0; i < open.Len(); i += 97 {
		npi := open.Providers[i].NPI
		pv, pc := ev.Network.ByNPI(npi), ec.Network.ByNPI(npi)
		if len(pv) != len(pc) || len(pv) == 0 {
			t.Fatalf("ByNPI(%s): %d and %d", npi, len(pv), len(pc))
		}
		for j := range pv {
			if !reflect.DeepEqual(*pv[j], *pc[j]) {
				t.Fatalf("ByNPI(%s)[%d] differs", npi, j)
			}
		}
	}

	changed := dressRoster(t, 12)
	changed.Providers = changed.Providers[3:]
	changed.Providers[0].Location.Lat += 0.1
	changed.Providers[1].Name += " (renamed)"
	cchanged, err := changed.Compact()
	if err != nil {
		t.Fatal(err)
	}
	dv := adequacy.DiffRosters(open, changed, 1)
	for _, pair := range [][2]*adequacy.Roster{{compact, cchanged}, {open, cchanged}, {compact, changed}} {
		if dc := adequacy.DiffRosters(pair[0], pair[1], 1); !reflect.DeepEqual(dv, dc) {
			t.Errorf("diff differs:\n%+v\n%+v", dv.Total, dc.Total)
		}
	}
	if dv.Total.Removed == 0 || dv.Total.Changed == 0 || dv.Total.Moved == 0 {
		t.Errorf("the diff found too little: %+v", dv.Total)
	}
}

// ParseDate's fast path agrees with time.Parse on every day from 0001 to
// 9999 and on malformed dates.
func TestParseDateAgrees(t *testing.T) {
	for d := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 10000; d = d.AddDate(0, 0, 1) {
		s := d.Format(time.DateOnly)
		got, err := adequacy.ParseDate(s)
		if err != nil || got != adequacy.DateOf(d) {
			t.Fatalf("%s: %v %v, want %v", s, got, err, adequacy.DateOf(d))
		}
		if d.Year() > 3000 {
			d = d.AddDate(0, 0, 97) // the rest sampled
		}
	}
	for _, s := range []string{"2026-02-29", "2026-13-01", "2026-00-10", "2026-01-00", "2026-04-31", "1900-02-29", "2026-1-01", "20260101", "2026/01/01", "2026-01-01 ", "+026-01-01", "2026-0a-01", ""} {
		_, err := adequacy.ParseDate(s)
		_, terr := time.Parse(time.DateOnly, s)
		if (err == nil) != (terr == nil) {
			t.Errorf("%q: %v, time.Parse %v", s, err, terr)
		}
	}
	if d, err := adequacy.ParseDate("2000-02-29"); err != nil || d.String() != "2000-02-29" {
		t.Errorf("2000-02-29: %v %v", d, err)
	}
}
