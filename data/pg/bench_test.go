package pg

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
	"github.com/geoaccess/geoaccess/internal/memtest"
)

// The benchmarks' roster is what
//
//	geoaccess sample roster --count 1000000 --seed 1000
//
// writes (county_fips included, so no point in polygon is needed),
// generated once per test binary into a temporary file.
const benchRows = 1_000_000

var benchDir string

var benchCSV = sync.OnceValues(func() (string, error) {
	g, err := data.EmbeddedGeography()
	if err != nil {
		return "", err
	}
	ct, err := data.EmbeddedCounties()
	if err != nil {
		return "", err
	}
	v, err := data.Vocabulary()
	if err != nil {
		return "", err
	}
	w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs, Vocabulary: v}
	// The defaults of "geoaccess sample roster".
	ps, err := w.Providers(synth.Config{Seed: 1000, Count: benchRows, NonParticipating: 0.12, TelehealthOnly: 0.03, NotAccepting: 0.08, Terminated: 0.02,
		Designations: 0.06, Declared: 0.04, Networks: []string{"ACME-MA", "ACME-COMM", "ACME-MCD"}})
	if err != nil {
		return "", err
	}
	if benchDir, err = os.MkdirTemp("", "pgbench-"); err != nil {
		return "", err
	}
	path := filepath.Join(benchDir, "roster-1m.csv")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := data.WriteRoster(bw, ps); err != nil {
		return "", err
	}
	if err := bw.Flush(); err != nil {
		return "", err
	}
	return path, f.Close()
})

func benchFile(b *testing.B) string {
	b.Helper()
	if testing.Short() {
		b.Skip("1M-row benchmark; not in -short")
	}
	path, err := benchCSV()
	if err != nil {
		b.Fatal(err)
	}
	return path
}

func loadFile(b *testing.B, pool *pgxpool.Pool, path string) *LoadResult {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	res, err := Load(context.Background(), pool, f, LoadOptions{Source: filepath.Base(path), Counties: counties()})
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// CSV → PostgreSQL → published: read and validate every row (county FIPS
// checked against the embedded counties), COPY, index, attach, publish.
func BenchmarkLoad1M(b *testing.B) {
	path := benchFile(b)
	pool := migrated(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		res := loadFile(b, pool, path)
		if res.Version.Providers != benchRows {
			b.Fatalf("published %d providers", res.Version.Providers)
		}
		// Keep the database to one version between runs.
		b.StopTimer()
		if _, err := Retire(ctx, pool, 1); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// Published → serving index: ReadRosterCompact (what a server reads) and
// adequacy.NewNetwork.
func BenchmarkReadAndIndex1M(b *testing.B) {
	path := benchFile(b)
	pool := migrated(b)
	id := loadFile(b, pool, path).Version.ID
	ctx := context.Background()
	var read, build time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		r, err := ReadRosterCompact(ctx, pool, id)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := adequacy.NewNetwork(r, nil); err != nil {
			b.Fatal(err)
		}
		read, build = read+t1.Sub(t0), build+time.Since(t1)
	}
	b.ReportMetric(read.Seconds()/float64(b.N), "read-s/op")
	b.ReportMetric(build.Seconds()/float64(b.N), "index-s/op")
}

// The memory a swap holds: the serving network (old roster and index),
// the new roster read from PostgreSQL and the new index built beside it.
// Reported against the steady state of one serving network, both as the
// Go heap (live after GC vs the peak sampled every millisecond, garbage
// not yet collected included) and as the process's resident set
// (VmRSS vs VmHWM, the peak reset just before the swap).
func BenchmarkSwapMemory1M(b *testing.B) {
	path := benchFile(b)
	pool := migrated(b)
	id := loadFile(b, pool, path).Version.ID
	ctx := context.Background()
	serve := func() *adequacy.Network {
		r, err := ReadRosterCompact(ctx, pool, id)
		if err != nil {
			b.Fatal(err)
		}
		n, err := adequacy.NewNetwork(r, nil)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	var heapRatio, rssRatio, steadyMB, peakMB, baseMB float64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		memtest.Settle()
		base := memtest.HeapLive()
		serving := serve()
		memtest.Settle()
		steady, steadyRSS := memtest.HeapLive(), memtest.RSS("VmRSS")
		_ = memtest.ResetPeakRSS() // best effort: without it the peak covers more than the swap
		b.StartTimer()

		stop := memtest.SampleHeap()
		next := serve() // built beside the serving one, as a reload does
		peak := stop()
		peakRSS := memtest.RSS("VmHWM")
		runtime.KeepAlive(serving)
		serving = next
		runtime.KeepAlive(serving)

		heapRatio += float64(peak) / float64(steady)
		if steadyRSS > 0 && peakRSS > 0 {
			rssRatio += float64(peakRSS) / float64(steadyRSS)
		}
		steadyMB += float64(steady) / (1 << 20)
		peakMB += float64(peak) / (1 << 20)
		baseMB += float64(base) / (1 << 20)
	}
	n := float64(b.N)
	b.ReportMetric(heapRatio/n, "peak/steady-heap")
	b.ReportMetric(rssRatio/n, "peak/steady-rss")
	b.ReportMetric(steadyMB/n, "steady-MB")
	b.ReportMetric(peakMB/n, "peak-MB")
	b.ReportMetric(baseMB/n, "base-MB")
}
