package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

var fixture struct {
	once   sync.Once
	engine *adequacy.Engine
	roster *adequacy.Roster
	err    error
}

// baseEngine is the embedded engine without a network, built once.
func baseEngine(t testing.TB) *adequacy.Engine {
	t.Helper()
	fixture.once.Do(func() {
		fixture.engine, _, fixture.err = data.NewEngine(data.Setup{})
		if fixture.err == nil {
			fixture.roster, fixture.err = data.SampleRoster()
		}
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.engine
}

// sampleEngine is the embedded engine serving the sample roster, as the
// server builds it: the reference the answers are compared with.
func sampleEngine(t testing.TB) *adequacy.Engine {
	e := baseEngine(t)
	n, err := adequacy.NewNetwork(fixture.roster, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.WithNetwork(n)
}

func loadSample(ctx context.Context) (*adequacy.Roster, error) { return fixture.roster, nil }

// startServer serves cfg on a loopback port and, unless noRoster, loads
// the sample roster first. The server stops when the test ends.
func startServer(t testing.TB, cfg server.Config, noRoster bool) (*server.Server, string) {
	t.Helper()
	if cfg.Engine == nil {
		cfg.Engine = baseEngine(t)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !noRoster {
		if err := srv.Roster().Load(context.Background(), "test sample", loadSample); err != nil {
			t.Fatal(err)
		}
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Shutdown(5 * time.Second)
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return srv, lis.Addr().String()
}

// dial connects a plaintext client unless opts say otherwise.
func dial(t testing.TB, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	cc, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func client(t testing.TB, addr string) pb.AdequacyServiceClient {
	return pb.NewAdequacyServiceClient(dial(t, addr))
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// member is a row of the embedded sample member file.
type member struct {
	id       string
	lat, lon float64
	zip      string
	county   string
}

func sampleMembers(t testing.TB) []member {
	t.Helper()
	b, err := data.SampleMembers()
	if err != nil {
		t.Fatal(err)
	}
	return parseMembers(t, b)
}

// parseMembers reads a member CSV: member_id,lat,lon,zip,county_fips.
func parseMembers(t testing.TB, b []byte) []member {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []member
	for _, r := range rows[1:] { // member_id,lat,lon,zip,county_fips
		lat, err1 := strconv.ParseFloat(r[1], 64)
		lon, err2 := strconv.ParseFloat(r[2], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("member %s: bad point", r[0])
		}
		out = append(out, member{id: r[0], lat: lat, lon: lon, zip: r[3], county: r[4]})
	}
	return out
}

func allDisciplines() []pb.Discipline {
	return []pb.Discipline{pb.Discipline_DISCIPLINE_DC, pb.Discipline_DISCIPLINE_PT, pb.Discipline_DISCIPLINE_OT, pb.Discipline_DISCIPLINE_ST}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
