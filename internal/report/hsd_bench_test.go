package report

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
)

// BenchmarkHSDExport is the HSD export of a 100,000-provider roster (10%
// not participating, street and city filled in as a real roster has them)
// against 1,000,000 members, both from data/synth: the gap report the
// export rests on, the tables and edits, and writing every file (CSV,
// xlsx, errors, preview). The phases are reported as metrics, each the
// mean over the iterations. GEOACCESS_BENCH_NO_XLSX=1 leaves the .xlsx
// twins out, to show what they cost.
func BenchmarkHSDExport(b *testing.B) {
	eng, ct, err := data.NewEngine(data.Setup{})
	if err != nil {
		b.Fatal(err)
	}
	w := &synth.World{Counties: ct.Counties, Map: eng.Map, ZIPs: eng.ZIPs}
	ps, err := w.Providers(synth.Config{Seed: 12, Count: 100_000, NonParticipating: 0.1, TelehealthOnly: 0.03, NotAccepting: 0.08, Terminated: 0.02})
	if err != nil {
		b.Fatal(err)
	}
	for i := range ps {
		ps[i].Address.Line1 = strconv.Itoa(100+i%9000) + " Main St"
		ps[i].Address.City = "Town " + ps[i].CountyFIPS
	}
	ms, err := w.Members(synth.Config{Seed: 11, Count: 1_000_000})
	if err != nil {
		b.Fatal(err)
	}
	members := make([]adequacy.GapMember, len(ms))
	for i, m := range ms {
		members[i] = adequacy.GapMember{ID: m.ID, Line: i + 2, Point: m.Point, HasPoint: true, ZIP: m.ZIP, CountyFIPS: m.CountyFIPS}
	}
	n, err := adequacy.NewNetwork(&adequacy.Roster{Version: "bench", Providers: ps}, nil)
	if err != nil {
		b.Fatal(err)
	}
	eng = eng.WithNetwork(n)
	asOf, _ := adequacy.ParseDate("2026-11-24")
	noXLSX := os.Getenv("GEOACCESS_BENCH_NO_XLSX") != ""
	var evalT, tablesT, writeT time.Duration
	var rows int
	for b.Loop() {
		dir := b.TempDir()
		t0 := time.Now()
		rep, err := eng.Gap(context.Background(), members, adequacy.GapOptions{AsOf: asOf})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		var cs []*adequacy.County
		for _, r := range rep.Counties {
			if len(cs) == 0 || cs[len(cs)-1] != r.County {
				cs = append(cs, r.County)
			}
		}
		area := adequacy.ServiceAreaOf(cs, "the counties of the member file")
		tables, err := rep.HSDTables(area, eng.Counties)
		if err != nil {
			b.Fatal(err)
		}
		unlisted, err := rep.Unlisted()
		if err != nil {
			b.Fatal(err)
		}
		x := &HSDExport{Tables: tables, Area: area, Preview: rep.Preview(area), Census: "member file", NotListed: unlisted, NoXLSX: noXLSX}
		t2 := time.Now()
		if _, err := WriteHSD(dir, x); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		evalT, tablesT, writeT = evalT+t1.Sub(t0), tablesT+t2.Sub(t1), writeT+t3.Sub(t2)
		rows = len(tables.Rows[0]) + len(tables.Rows[1])
	}
	k := float64(b.N)
	b.ReportMetric(evalT.Seconds()/k, "evaluate-s")
	b.ReportMetric(tablesT.Seconds()/k, "tables-s")
	b.ReportMetric(writeT.Seconds()/k, "write-s")
	b.ReportMetric(float64(rows), "rows")
}
