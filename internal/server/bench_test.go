package server_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/memtest"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// Benchmarks run a real client against a real server over loopback.
// GEOACCESS_BENCH_ROSTER names a roster CSV (default: the embedded
// sample); GEOACCESS_BENCH_MEMBERS a member CSV (default: the embedded
// sample members). docs/benchmarks.md has the figures and how to make
// the national-size files.

var bench struct {
	once    sync.Once
	addr    string
	members []benchMember
}

// benchMember is where a benchmark's member lives: no strings, so that a
// million of them cost the garbage collector nothing to scan (the client
// shares the process with the server).
type benchMember struct{ lat, lon float64 }

func benchServer(b *testing.B) (string, []benchMember) {
	b.Helper()
	bench.once.Do(func() {
		cfg := server.Config{}
		if os.Getenv("GEOACCESS_BENCH_DECIDER") == "spatial" {
			cfg.Batch = server.BatchConfig{Decider: server.SpatialDecider(), ChunkSize: 2048}
		}
		bench.addr = serveForever(b, newBenchServer(b, cfg))
		bench.members = benchMembers(b)
	})
	return bench.addr, bench.members
}

// newBenchServer makes a server with cfg and the benchmark roster
// (GEOACCESS_BENCH_ROSTER, read as geoaccessd reads it) loaded.
func newBenchServer(b *testing.B, cfg server.Config) *server.Server {
	b.Helper()
	load := loadSample
	if path := os.Getenv("GEOACCESS_BENCH_ROSTER"); path != "" {
		load = func(context.Context) (*adequacy.Roster, error) {
			start := time.Now()
			r, _, err := data.ReadRosterFile(path, -1, nil)
			b.Logf("read %s in %v", path, time.Since(start))
			return r, err
		}
	}
	cfg.Engine = baseEngine(b)
	srv, err := server.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Roster().Load(context.Background(), "bench", load); err != nil {
		b.Fatal(err)
	}
	return srv
}

// serveForever serves srv for the rest of the test binary's life: the
// benchmarks share it.
func serveForever(b *testing.B, srv *server.Server) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(lis)
	return lis.Addr().String()
}

func benchMembers(b *testing.B) []benchMember {
	var ms []member
	if path := os.Getenv("GEOACCESS_BENCH_MEMBERS"); path == "" {
		ms = sampleMembers(b)
	} else {
		f, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		ms = parseMembers(b, f)
	}
	out := make([]benchMember, len(ms))
	for i, m := range ms {
		out[i] = benchMember{m.lat, m.lon}
	}
	return out
}

// BenchmarkRosterGC reports what the garbage collector has to do with the
// benchmark server's roster loaded (GEOACCESS_BENCH_ROSTER, read as
// geoaccessd reads it): the heap it scans and the live heap
// (runtime/metrics /gc/scan/heap:bytes and /gc/heap/live:bytes), the
// heap objects, and the wall time of a full collection (runtime.GC, the
// median of the iterations).
func BenchmarkRosterGC(b *testing.B) {
	benchServer(b)
	for range 3 {
		runtime.GC()
	}
	var ds []time.Duration
	for b.Loop() {
		t0 := time.Now()
		runtime.GC()
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}, {Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/objects:objects"}}
	metrics.Read(s)
	b.ReportMetric(float64(s[0].Value.Uint64())/1e6, "scan-heap-MB")
	b.ReportMetric(float64(s[1].Value.Uint64())/1e6, "live-heap-MB")
	b.ReportMetric(float64(s[2].Value.Uint64()), "objects")
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "gc-ms")
}

// callers is the number of concurrent callers, as with ghz -c 50.
const callers = 50

func BenchmarkEmptyUnary(b *testing.B) {
	addr, _ := benchServer(b)
	h := healthpb.NewHealthClient(dial(b, addr))
	runCallers(b, func(ctx context.Context, _ int) error {
		_, err := h.Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	})
}

func BenchmarkCheckAccess(b *testing.B) {
	addr, members := benchServer(b)
	c := client(b, addr)
	reqs := make([]*pb.CheckAccessRequest, len(members))
	for i, m := range members {
		reqs[i] = &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: m.lat, Longitude: m.lon},
			Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}, AsOf: testAsOf}
	}
	runCallers(b, func(ctx context.Context, i int) error {
		_, err := c.CheckAccess(ctx, reqs[i%len(reqs)])
		return err
	})
}

// BenchmarkCheckAccessFloor measures, side by side on one gRPC server
// with the benchmark server's options and interceptors, the empty health
// Check and a CheckAccess
// answered from a table of the benchmark server's real answers (one
// discipline, fetched before the clock): with deciding free, the ratio of
// their calls/s is the most CheckAccess can reach against the empty call
// with this client on these cores.
func BenchmarkCheckAccessFloor(b *testing.B) {
	addr, members := benchServer(b)
	members = members[:min(len(members), 2048)]
	c := client(b, addr)
	reqs := make([]*pb.CheckAccessRequest, len(members))
	table := &answerTable{answers: make(map[[2]float64]*pb.CheckAccessResponse, len(members))}
	for i, m := range members {
		reqs[i] = &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: m.lat, Longitude: m.lon},
			Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}, AsOf: testAsOf}
		a, err := c.CheckAccess(context.Background(), reqs[i])
		if err != nil {
			b.Fatal(err)
		}
		table.answers[[2]float64{m.lat, m.lon}] = a
	}
	srv := newBenchServer(b, server.Config{})
	g := srv.BareLike(server.Config{Engine: baseEngine(b)})
	pb.RegisterAdequacyServiceServer(g, table)
	healthpb.RegisterHealthServer(g, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go g.Serve(lis)
	b.Cleanup(g.Stop)
	cc := dial(b, lis.Addr().String())
	h, fc := healthpb.NewHealthClient(cc), pb.NewAdequacyServiceClient(cc)
	b.Run("health", func(b *testing.B) {
		runCallers(b, func(ctx context.Context, _ int) error {
			_, err := h.Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		})
	})
	b.Run("check-access-table", func(b *testing.B) {
		runCallers(b, func(ctx context.Context, i int) error {
			_, err := fc.CheckAccess(ctx, reqs[i%len(reqs)])
			return err
		})
	})
}

// answerTable answers CheckAccess from answers ready by location.
type answerTable struct {
	pb.UnimplementedAdequacyServiceServer
	answers map[[2]float64]*pb.CheckAccessResponse
}

func (t *answerTable) CheckAccess(_ context.Context, r *pb.CheckAccessRequest) (*pb.CheckAccessResponse, error) {
	if a := t.answers[[2]float64{r.GetLocation().GetLatitude(), r.GetLocation().GetLongitude()}]; a != nil {
		return a, nil
	}
	return nil, status.Error(codes.NotFound, "no answer ready for this location")
}

// runCallers runs call from `callers` goroutines, and reports calls/s,
// the median and 99th-percentile latency, and the process's CPU time
// (client and server) per call, the steadier figure on a shared machine.
func runCallers(b *testing.B, call func(ctx context.Context, i int) error) {
	ctx := context.Background()
	var mu sync.Mutex
	var lat []time.Duration
	var next atomic.Int64
	b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	cpu := memtest.CPUTime()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			i := int(next.Add(1))
			t0 := time.Now()
			if err := call(ctx, i); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, lat, elapsed)
	if len(lat) > 0 {
		b.ReportMetric(float64((memtest.CPUTime()-cpu).Nanoseconds())/float64(len(lat)), "cpu-ns/call")
	}
}

func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkCheckAccessBatch streams b.N members with one discipline on one
// stream and reports member-disciplines per second.
func BenchmarkCheckAccessBatch(b *testing.B) {
	addr, members := benchServer(b)
	streamMembers(b, client(b, addr), members)
}

// BenchmarkCheckAccessBatchAll streams b.N members with every discipline
// (four member-disciplines each) on one stream and reports
// member-disciplines per second: the members as the file lists them, and
// sorted along the Hilbert curve as a plan's file sorted by place would
// be (what GEOACCESS_BENCH_DECIDER=spatial shares its searches on).
func BenchmarkCheckAccessBatchAll(b *testing.B) {
	addr, members := benchServer(b)
	c := client(b, addr)
	type keyed struct {
		key uint64
		m   benchMember
	}
	ks := make([]keyed, len(members))
	for i, m := range members {
		ks[i] = keyed{geo.SpatialKey(geo.Point{Lat: m.lat, Lon: m.lon}), m}
	}
	slices.SortFunc(ks, func(x, y keyed) int { return cmp.Compare(x.key, y.key) })
	sorted := make([]benchMember, len(ks))
	for i := range ks {
		sorted[i] = ks[i].m
	}
	b.Run("file-order", func(b *testing.B) { streamMembersAs(b, c, members, allDisciplines()) })
	b.Run("spatial-order", func(b *testing.B) { streamMembersAs(b, c, sorted, allDisciplines()) })
}

// BenchmarkCheckAccessBatchFloor streams members as
// BenchmarkCheckAccessBatchAll does (file order, four disciplines each)
// through a server whose decider only looks up each member's answers,
// decided in full before the clock starts: what one stream costs when
// deciding is free (gRPC, protobuf both ways, the pipeline, the client).
// No decider can beat it; the difference from
// BenchmarkCheckAccessBatchAll is what deciding costs.
func BenchmarkCheckAccessBatchFloor(b *testing.B) {
	// The first 2,048 members, over and over: their answers held ready
	// are then little for the garbage collector to scan.
	members := benchMembers(b)
	members = members[:min(len(members), 2048)]
	ds := allDisciplines()
	var (
		once    sync.Once
		answers map[geo.Point][]adequacy.Decision
	)
	decider := func(ctx context.Context, eng *adequacy.Engine, reqs []adequacy.Request, out [][]adequacy.Decision, errs []error) {
		once.Do(func() { // the first chunk: one member, before the clock
			answers = make(map[geo.Point][]adequacy.Decision, len(members))
			for _, m := range members {
				r := reqs[0]
				r.Member.Point = &geo.Point{Lat: m.lat, Lon: m.lon}
				if answers[*r.Member.Point], errs[0] = eng.Decide(r); errs[0] != nil {
					return
				}
			}
		})
		for i, r := range reqs {
			if out[i] = answers[*r.Member.Point]; out[i] == nil {
				errs[i] = fmt.Errorf("member %d not decided before the clock", i)
			}
		}
	}
	srv := newBenchServer(b, server.Config{Batch: server.BatchConfig{Decider: decider, ChunkSize: 2048}})
	c := client(b, serveForever(b, srv))
	// Warm up: the first chunk decides every member.
	stream, err := c.CheckAccessBatch(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	m := members[0]
	if err := stream.Send(&pb.CheckAccessBatchRequest{MemberRef: "m", Location: &pb.LatLng{Latitude: m.lat, Longitude: m.lon}, Disciplines: ds, AsOf: testAsOf}); err != nil {
		b.Fatal(err)
	}
	stream.CloseSend()
	for {
		a, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil || a.GetError() != nil {
			b.Fatal(err, a.GetError())
		}
	}
	streamMembersAs(b, c, members, ds)
}

// BenchmarkCheckAccessBatchBuffer streams members as
// BenchmarkCheckAccessBatch does, through servers with the daemon's chunk
// size and several stream byte budgets (--batch-buffer-bytes): the
// smallest budget that keeps the rate is the default's floor.
func BenchmarkCheckAccessBatchBuffer(b *testing.B) {
	baseEngine(b)
	members := benchMembers(b)
	for _, kib := range []int64{256, 1024, 2048, 4096, 16384} {
		b.Run(strconv.FormatInt(kib, 10)+"KiB", func(b *testing.B) {
			srv, err := server.New(server.Config{Engine: baseEngine(b), Batch: server.BatchConfig{ChunkSize: 1024, BufferBytes: kib << 10}})
			if err != nil {
				b.Fatal(err)
			}
			if err := srv.Roster().Load(context.Background(), "bench", loadSample); err != nil {
				b.Fatal(err)
			}
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go srv.Serve(lis)
			defer srv.Shutdown(time.Second)
			streamMembers(b, client(b, lis.Addr().String()), members)
		})
	}
}

// streamMembers sends b.N members (PT) on one stream while reading the
// answers, and reports member-disciplines per second.
func streamMembers(b *testing.B, c pb.AdequacyServiceClient, members []benchMember) {
	streamMembersAs(b, c, members, []pb.Discipline{pb.Discipline_DISCIPLINE_PT})
}

// streamMembersAs sends b.N members with the given disciplines on one
// stream while reading the answers, and reports member-disciplines per
// second and the process's CPU time (client and server) per
// member-discipline, the steadier figure on a shared machine.
func streamMembersAs(b *testing.B, c pb.AdequacyServiceClient, members []benchMember, ds []pb.Discipline) {
	b.ResetTimer()
	start := time.Now()
	cpu := memtest.CPUTime()
	stream, err := c.CheckAccessBatch(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for i := range b.N {
			m := members[i%len(members)]
			if err := stream.Send(&pb.CheckAccessBatchRequest{MemberRef: "m", Location: &pb.LatLng{Latitude: m.lat, Longitude: m.lon},
				Disciplines: ds, AsOf: testAsOf}); err != nil {
				b.Error(err)
				return
			}
		}
		stream.CloseSend()
	}()
	n := 0
	for {
		a, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if a.GetError() != nil {
			b.Fatal(a.GetError())
		}
		n += len(ds)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "member-disciplines/s")
	b.ReportMetric(float64((memtest.CPUTime()-cpu).Nanoseconds())/float64(n), "cpu-ns/member-discipline")
}
