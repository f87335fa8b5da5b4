package main

// geoaccessd processes against one real PostgreSQL: replicas converging
// on a publish while a client balances calls across them, a replica cut
// off from the database, and a version with no participating provider.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/pgtest"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

const (
	readerToken = "reader-token-0123456789ab"
	adminToken  = "admin-token-0123456789ab"
)

// tokensFile writes a bearer-token file with a reader and an admin.
func tokensFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(readerToken+" reader dash\n"+adminToken+" admin ops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func as(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// rosterDB is a migrated schema with the sample roster, and the
// connection details of its server.
type rosterDB struct {
	url    string
	pool   *pgxpool.Pool
	cfg    *pgconn.Config
	sample []adequacy.Provider
	secret string // the password the replicas' connection strings carry
}

func newRosterDB(t *testing.T) *rosterDB {
	t.Helper()
	url := pgtest.URL(t)
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	db := &rosterDB{url: url, cfg: cfg, secret: cfg.Password}
	if db.secret == "" {
		// A password the server ignores (trust): it must never reach a log.
		db.secret = "pw-never-logged-7f3a"
		db.url = pgtest.WithParam(url, "password", db.secret)
	}
	ctx := context.Background()
	if db.pool, err = pgxpool.New(ctx, url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.pool.Close)
	if _, err := pg.Migrate(ctx, db.pool); err != nil {
		t.Fatal(err)
	}
	r, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	db.sample = r.Providers
	return db
}

// via is the connection string of the same database through a TCP proxy
// on 127.0.0.1:port.
func (db *rosterDB) via(port int) string {
	s := fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", port, db.cfg.User, db.cfg.Database)
	s = pgtest.WithParam(s, "password", db.secret)
	if sp, ok := db.cfg.RuntimeParams["search_path"]; ok {
		s = pgtest.WithParam(s, "search_path", sp)
	}
	return s
}

// target is where the proxy forwards: the server's unix socket or TCP
// address.
func (db *rosterDB) target() (network, addr string) {
	if strings.HasPrefix(db.cfg.Host, "/") {
		return "unix", filepath.Join(db.cfg.Host, fmt.Sprintf(".s.PGSQL.%d", db.cfg.Port))
	}
	return "tcp", net.JoinHostPort(db.cfg.Host, fmt.Sprint(db.cfg.Port))
}

// proxy forwards TCP connections on loopback to the database; cut closes
// the listener and every connection (a network partition), restore opens
// the same port again.
type proxy struct {
	network, target string
	port            int
	mu              sync.Mutex
	lis             net.Listener
	conns           map[net.Conn]bool
	wg              sync.WaitGroup
}

func newProxy(t *testing.T, network, target string) *proxy {
	p := &proxy{network: network, target: target, conns: map[net.Conn]bool{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = lis.Addr().(*net.TCPAddr).Port
	p.serve(lis)
	t.Cleanup(func() { p.cut(); p.wg.Wait() })
	return p
}

func (p *proxy) serve(lis net.Listener) {
	p.mu.Lock()
	p.lis = lis
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial(p.network, p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			for _, pair := range [][2]net.Conn{{c, up}, {up, c}} {
				p.wg.Go(func() {
					io.Copy(pair[0], pair[1]) //nolint:errcheck // ends when either side closes
					pair[0].Close()
					pair[1].Close()
				})
			}
		}
	})
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lis != nil {
		p.lis.Close()
		p.lis = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *proxy) restore(t *testing.T) {
	t.Helper()
	var lis net.Listener
	var err error
	for range 50 { // the port was ours a moment ago
		if lis, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p.port)); err == nil {
			p.serve(lis)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("proxy: listen again on %d: %v", p.port, err)
}

// statusOf is a replica's roster status as token's holder sees it.
func statusOf(t *testing.T, c pb.AdequacyServiceClient, token string) *pb.RosterStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.GetRosterStatus(as(ctx, token), &pb.GetRosterStatusRequest{})
	if err != nil {
		t.Fatalf("GetRosterStatus: %v", err)
	}
	return st.Status
}

// awaitVersion waits until each replica serves v and returns when each
// did, measured from since.
func awaitVersion(t *testing.T, cs []pb.AdequacyServiceClient, v string, since time.Time) []time.Duration {
	t.Helper()
	took := make([]time.Duration, len(cs))
	left := len(cs)
	deadline := time.Now().Add(30 * time.Second)
	for left > 0 {
		for i, c := range cs {
			if took[i] == 0 && statusOf(t, c, adminToken).Version == v {
				took[i] = max(time.Since(since), time.Nanosecond)
				left--
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas not all serving %s after 30s: %v", v, took)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return took
}

func healthy(t *testing.T, addr string) {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if h, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || h.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health of %s: %v %v", addr, h, err)
	}
}

// caller calls CheckAccess continuously through one round_robin channel
// over the replicas, counting answers by replica and version, and
// failures.
type caller struct {
	mu       sync.Mutex
	byPeer   map[string]int
	versions map[string]map[string]bool // peer → versions answered
	ok, bad  atomic.Int64
	firstErr error
	stop     chan struct{}
	done     chan struct{}
}

func startCaller(t *testing.T, addrs []string) *caller {
	r := manual.NewBuilderWithScheme("replicas")
	var ras []resolver.Address
	for _, a := range addrs {
		ras = append(ras, resolver.Address{Addr: a})
	}
	r.InitialState(resolver.State{Addresses: ras})
	cc, err := grpc.NewClient(r.Scheme()+":///geoaccess", grpc.WithResolvers(r), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	c := pb.NewAdequacyServiceClient(cc)
	cl := &caller{byPeer: map[string]int{}, versions: map[string]map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	req := &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 40.748817, Longitude: -73.985428}, Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}, AsOf: "2026-06-01"}
	go func() {
		defer close(cl.done)
		for {
			select {
			case <-cl.stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			var p peer.Peer
			resp, err := c.CheckAccess(as(ctx, readerToken), req, grpc.Peer(&p))
			cancel()
			cl.mu.Lock()
			if err != nil {
				cl.bad.Add(1)
				if cl.firstErr == nil {
					cl.firstErr = err
				}
			} else {
				cl.ok.Add(1)
				a := p.Addr.String()
				cl.byPeer[a]++
				if cl.versions[a] == nil {
					cl.versions[a] = map[string]bool{}
				}
				cl.versions[a][resp.RosterVersion] = true
			}
			cl.mu.Unlock()
		}
	}()
	return cl
}

// answered reports whether every replica has answered with version v.
func (cl *caller) answered(addrs []string, v string) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, a := range addrs {
		if !cl.versions[a][v] {
			return false
		}
	}
	return true
}

// loadCSV publishes providers as a new roster version.
func loadCSV(t *testing.T, pool *pgxpool.Pool, ps []adequacy.Provider) *pg.LoadResult {
	t.Helper()
	var b bytes.Buffer
	if err := data.WriteRoster(&b, ps); err != nil {
		t.Fatal(err)
	}
	res, err := pg.Load(context.Background(), pool, &b, pg.LoadOptions{Source: "replicas-test.csv"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// watchVersions polls the replicas' statuses until each serves another
// version than old; the returned function waits for that and says when
// each was first seen to.
func watchVersions(t *testing.T, cs []pb.AdequacyServiceClient, old string) func() []time.Time {
	at := make([]time.Time, len(cs))
	done := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(30 * time.Second)
		for left := len(cs); left > 0; {
			for i, c := range cs {
				if !at[i].IsZero() {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				st, err := c.GetRosterStatus(as(ctx, adminToken), &pb.GetRosterStatusRequest{})
				cancel()
				if err != nil {
					done <- err
					return
				}
				if st.Status.Version != old {
					at[i] = time.Now()
					left--
				}
			}
			if time.Now().After(deadline) {
				done <- fmt.Errorf("replicas still on %s after 30s: %v", old, at)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		done <- nil
	}()
	return func() []time.Time {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return at
	}
}

// TestReplicasConverge: three geoaccessd processes serve from one
// PostgreSQL while a client balances CheckAccess calls across them
// (round_robin) without pause. A publish reaches every replica within
// seconds (LISTEN/NOTIFY) with no call failing. A replica cut off from
// the database keeps serving its roster, stays SERVING and says so in
// GetRosterStatus (in full for admins; without host, port or user for
// readers), and catches up once the database is back. No log carries
// the connection's password.
func TestReplicasConverge(t *testing.T) {
	db := newRosterDB(t)
	v1 := publishCSV(t, db.pool, db.sample)
	network, target := db.target()
	px := newProxy(t, network, target)
	tokens := tokensFile(t)
	common := []string{"--auth-tokens", tokens, "--reload-backoff-min", "100ms", "--reload-backoff-max", "1s", "--log-level", "info"}
	var procs []*proc
	var addrs []string
	var direct []pb.AdequacyServiceClient
	for i, url := range []string{db.url, db.url, db.via(px.port)} {
		p := start(t, append([]string{"--db", url}, common...)...)
		_, c := p.client(t)
		if v := statusOf(t, c, adminToken).Version; v != v1 {
			t.Fatalf("replica %d serves %s, want %s", i+1, v, v1)
		}
		procs, addrs, direct = append(procs, p), append(addrs, p.grpc), append(direct, c)
	}
	cl := startCaller(t, addrs)
	defer func() {
		select {
		case <-cl.stop:
		default:
			close(cl.stop)
		}
		<-cl.done
	}()
	waitFor(t, "every replica answers the balanced client", func() bool { return cl.answered(addrs, v1) })

	// A publish converges every replica: measured from the publish's
	// commit (the version's published_at) to each replica's first status
	// naming the new version.
	seen := watchVersions(t, direct, v1)
	res := loadCSV(t, db.pool, db.sample[1:])
	v2 := res.Version.Label
	at := seen()
	took := make([]time.Duration, len(at))
	for i := range at {
		took[i] = at[i].Sub(res.Version.PublishedAt)
	}
	t.Logf("replicas served %s %v after its publish; converged in %v (the roster load of %d rows took %v)",
		v2, roundAll(took), slicesMax(took).Round(time.Millisecond), len(db.sample)-1, res.Version.PublishedAt.Sub(res.Version.CreatedAt).Round(time.Millisecond))
	if m := slicesMax(took); m > 10*time.Second {
		t.Errorf("converged in %v, want seconds", m)
	}
	for i, c := range direct {
		if v := statusOf(t, c, adminToken).Version; v != v2 {
			t.Fatalf("replica %d moved to %s, want %s", i+1, v, v2)
		}
	}
	waitFor(t, "every replica answers with the new version", func() bool { return cl.answered(addrs, v2) })

	// Replica 3 loses the database: it keeps serving v2, stays SERVING,
	// and its status says the store cannot be reached.
	cutAt := time.Now()
	px.cut()
	waitFor(t, "replica 3 reports a failure", func() bool { return !statusOf(t, direct[2], adminToken).LastReload.Success })
	t.Logf("replica 3 reported the lost database %v after the cut", time.Since(cutAt).Round(time.Millisecond))
	// The first failure may be the cut connection's (EOF); the retries'
	// name the address they cannot reach.
	waitFor(t, "replica 3 reports the database unreachable", func() bool {
		lr := statusOf(t, direct[2], adminToken).LastReload
		return !lr.Success && strings.Contains(lr.Error, "127.0.0.1")
	})
	adminView, readerView := statusOf(t, direct[2], adminToken), statusOf(t, direct[2], readerToken)
	t.Logf("replica 3 cut off: admin sees %q; reader sees %q", adminView.LastReload.Error, readerView.LastReload.Error)
	if adminView.Version != v2 {
		t.Errorf("the cut-off replica serves %s, want %s", adminView.Version, v2)
	}
	for _, s := range []string{"127.0.0.1", fmt.Sprint(px.port), "user=", db.cfg.User, "dial", "connect"} {
		if strings.Contains(readerView.LastReload.Error, s) {
			t.Errorf("a reader sees %q in %q", s, readerView.LastReload.Error)
		}
	}
	if readerView.LastReload.Error == "" || readerView.LastReload.Success {
		t.Errorf("a reader is not told of the failure: %v", readerView.LastReload)
	}
	healthy(t, procs[2].grpc)
	v3 := publishCSV(t, db.pool, db.sample[2:])
	awaitVersion(t, direct[:2], v3, time.Now())
	time.Sleep(300 * time.Millisecond)
	if st := statusOf(t, direct[2], adminToken); st.Version != v2 || st.LastReload.Success {
		t.Fatalf("the cut-off replica: %v", st)
	}
	healthy(t, procs[2].grpc)

	// The database comes back: replica 3 catches up.
	back := time.Now()
	px.restore(t)
	took = awaitVersion(t, direct[2:], v3, back)
	t.Logf("replica 3 served %s %v after the database came back", v3, took[0].Round(time.Millisecond))
	waitFor(t, "every replica answers with the latest version", func() bool { return cl.answered(addrs, v3) })

	close(cl.stop)
	<-cl.done
	cl.mu.Lock()
	t.Logf("balanced client: %d calls OK, %d failed; by replica %v", cl.ok.Load(), cl.bad.Load(), cl.byPeer)
	if cl.bad.Load() != 0 {
		t.Errorf("%d calls failed, the first: %v", cl.bad.Load(), cl.firstErr)
	}
	cl.mu.Unlock()
	for i, p := range procs {
		log := p.logText()
		if strings.Contains(log, db.secret) {
			t.Errorf("replica %d logged the database password", i+1)
		}
		if i == 2 && !strings.Contains(log, "roster reload failed") {
			t.Errorf("replica 3 did not log the failure:\n%s", log)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func slicesMax(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// TestEmptyVersionNeverServed: a published version whose providers do
// not participate (published past every guard) is heard and refused:
// the roster serving stays, health stays SERVING, the negotiation gate
// keeps answering from it, and status, metrics and log say why.
func TestEmptyVersionNeverServed(t *testing.T) {
	db := newRosterDB(t)
	ctx := context.Background()
	v1 := publishCSV(t, db.pool, db.sample)
	v2 := publishCSV(t, db.pool, db.sample)
	id1, _ := pg.ParseVersion(v1)
	id2, _ := pg.ParseVersion(v2)
	// v2 loses its participating providers, and is marked as published
	// with force: only the holder's own check stands in the way.
	for _, q := range []string{`UPDATE providers SET participating = false WHERE version_id = $1`,
		`UPDATE roster_versions SET forced = true WHERE id = $1`} {
		if _, err := db.pool.Exec(ctx, q, id2); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pg.SetCurrent(ctx, db.pool, id1, pg.PublishOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	p := start(t, "--db", db.url, "--auth-tokens", tokensFile(t), "--log-level", "info")
	_, c := p.client(t)
	if v := statusOf(t, c, readerToken).Version; v != v1 {
		t.Fatalf("serving %s, want %s", v, v1)
	}
	if _, err := pg.SetCurrent(ctx, db.pool, id2, pg.PublishOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(60 * time.Second)
wait:
	for {
		select {
		case rec := <-p.records:
			switch {
			case rec["msg"] == "roster reloaded" && rec["roster_version"] == v2:
				t.Fatalf("the version with no participating provider is served:\n%s", p.logText())
			case rec["msg"] == "roster reload failed: the serving roster stays" && rec["version_tried"] == v2:
				break wait
			}
		case <-timeout:
			t.Fatalf("the publish was not acted on:\n%s", p.logText())
		}
	}
	st := statusOf(t, c, adminToken)
	if st.Version != v1 || st.LastReload.Success || st.LastReload.Version != v2 || !strings.Contains(st.LastReload.Error, "no participating providers") {
		t.Fatalf("status after the empty version: %v", st)
	}
	healthy(t, p.grpc)
	rctx, cancel := context.WithTimeout(as(ctx, readerToken), 10*time.Second)
	defer cancel()
	yes, no := true, false
	g, err := c.EvaluateNegotiation(rctx, &pb.EvaluateNegotiationRequest{Location: &pb.LatLng{Latitude: 40.748817, Longitude: -73.985428},
		Discipline: pb.Discipline_DISCIPLINE_PT, AsOf: "2026-06-01", Provider: &pb.RequestedProvider{Npi: "1234567893"},
		Attestations: &pb.Attestations{HealthcareRequirement: &yes, WithinScope: &yes, SuperiorOutcomes: &yes, BenefitCoversNegotiation: &yes,
			SolelyComfortOrConvenience: &no, TechniquePreference: &no, Investigational: &no, EquivalentOutcomesAvailable: &no, MedicallyNecessary: &yes}})
	if err != nil {
		t.Fatal(err)
	}
	if g.Supported || g.GeoAccess.GetStatus() != pb.AccessStatus_ACCESS_STATUS_SERVED {
		t.Errorf("negotiation for a Manhattan member: supported %v, geo-access %v", g.Supported, g.GeoAccess.GetStatus())
	}
	if body := metricsText(t, p); !strings.Contains(body, `geoaccess_roster_reloads_total{outcome="refused",trigger="notify"} 1`) {
		t.Errorf("the refusal is not counted")
	}
}
