package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/internal/pgtest"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

var build struct {
	once sync.Once
	bin  string
	err  error
	dir  string
}

// binary builds geoaccessd once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "geoaccessd-test")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "geoaccessd")
		out, err := exec.Command("go", "build", "-o", build.bin, ".").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

func TestMain(m *testing.M) {
	code := pgtest.Run(m) // the package's tests share one PostgreSQL (pgtest.URL)
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// proc is a running geoaccessd with its JSON log.
type proc struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	log     strings.Builder
	records chan map[string]any
	exited  chan error
	grpc    string // gRPC address
	metrics string
}

// start runs geoaccessd on loopback ports and waits until it serves.
func start(t *testing.T, extra ...string) *proc {
	t.Helper()
	p := launch(t, append([]string{"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug"}, extra...)...)
	ln := p.await(t, "listening")
	p.grpc, p.metrics = ln["grpc"].(string), ln["metrics"].(string)
	p.await(t, "serving")
	return p
}

// launch runs geoaccessd with args and reads its log; it does not wait
// for anything.
func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary(t), args...), records: make(chan map[string]any, 1000), exited: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), "GEOACCESS_TZ=America/Chicago")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.read(stderr)
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

func (p *proc) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.mu.Lock()
		p.log.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			select {
			case p.records <- rec:
			default:
			}
		}
	}
	p.exited <- p.cmd.Wait()
}

// await returns the next log record with message msg.
func (p *proc) await(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case rec := <-p.records:
			if rec["msg"] == msg {
				return rec
			}
		case <-timeout:
			t.Fatalf("no %q in the log:\n%s", msg, p.logText())
		}
	}
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// wait returns the exit code, failing after limit.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		t.Fatalf("still running after %v:\n%s", limit, p.logText())
	}
	return -1
}

func (p *proc) client(t *testing.T) (*grpc.ClientConn, pb.AdequacyServiceClient) {
	cc, err := grpc.NewClient(p.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc, pb.NewAdequacyServiceClient(cc)
}

var secrets = []string{"40.748817", "73.985428", "10016", "member-ref-SECRET"}

func item(i int) *pb.CheckAccessBatchRequest {
	it := &pb.CheckAccessBatchRequest{MemberRef: fmt.Sprintf("member-ref-SECRET-%d", i), AsOf: "2026-06-01",
		Location: &pb.LatLng{Latitude: 40.748817, Longitude: -73.985428}, Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}}
	if i%5 == 0 {
		it.Location, it.Zip = nil, "10016"
	}
	return it
}

// TestSIGTERMDrainsInFlightStream: a batch stream open when SIGTERM
// arrives goes on to the end; new calls are refused; the process exits 0
// within the grace period; the log has no member data.
func TestSIGTERMDrainsInFlightStream(t *testing.T) {
	p := start(t, "--shutdown-grace", "20s")
	cc, c := p.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if r, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", r, err)
	}
	stream, err := c.CheckAccessBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const half = 300
	for i := range half {
		if err := stream.Send(item(i)); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 { // the call is under way
		if _, err := stream.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	sigAt := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.await(t, "shutting down: draining calls in flight")
	refusesNewCalls(t, p)
	for i := half; i < 2*half; i++ { // the stream still takes items
		if err := stream.Send(item(i)); err != nil {
			t.Fatalf("send after SIGTERM: %v", err)
		}
	}
	stream.CloseSend()
	got := 10
	for {
		a, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d answers: %v", got, err)
		}
		if a.GetResult() == nil {
			t.Fatalf("item %s failed: %v", a.MemberRef, a.GetError())
		}
		got++
	}
	if got != 2*half {
		t.Fatalf("%d answers, want %d", got, 2*half)
	}
	if code := p.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.logText())
	}
	t.Logf("exited %v after SIGTERM", time.Since(sigAt).Round(time.Millisecond))
	log := p.logText()
	if strings.Contains(log, "grace period over") {
		t.Errorf("the stream was cut off:\n%s", log)
	}
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log contains %q:\n%s", s, log)
		}
	}
}

// refusesNewCalls waits until a call on a new connection is refused.
func refusesNewCalls(t *testing.T, p *proc) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		cc, err := grpc.NewClient(p.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err = pb.NewAdequacyServiceClient(cc).ListProfiles(ctx, &pb.ListProfilesRequest{})
		cancel()
		cc.Close()
		if status.Code(err) == codes.Unavailable {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("new calls still accepted after SIGTERM: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSIGTERMGraceExpires: a stream that never ends is cut off when the
// grace period is over, and the process still exits 0.
func TestSIGTERMGraceExpires(t *testing.T) {
	p := start(t, "--shutdown-grace", "500ms")
	_, c := p.client(t)
	stream, err := c.CheckAccessBatch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(item(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(p.logText(), "grace period over") {
		t.Errorf("no warning about cut-off calls:\n%s", p.logText())
	}
	if _, err := stream.Recv(); err == nil {
		t.Error("the stream outlived the server")
	}
}

// TestDaemonMetricsAndRosterFile: a roster file is served, and the
// metrics endpoint reports it.
func TestDaemonMetricsAndRosterFile(t *testing.T) {
	roster := filepath.Join(t.TempDir(), "roster.csv")
	writeSampleRoster(t, roster)
	// One provider at 0,0: in no county, served without one, and said so.
	f, err := os.OpenFile(roster, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("1234567893,PT,,0,0,,,,,,,,,,Y,N,Y,,\n")
	f.Close()
	p := start(t, "--roster", roster)
	if log := p.logText(); !strings.Contains(log, `"msg":"roster: providers in no county, served without one; check their coordinates","unplaced":1,"lines":[5002]`) ||
		!strings.Contains(log, `"unplaced":1,"read_ms"`) {
		t.Errorf("the unplaced provider is not reported:\n%s", log)
	}
	_, c := p.client(t)
	st, err := c.GetRosterStatus(context.Background(), &pb.GetRosterStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Status.Source != "roster.csv" || !strings.HasPrefix(st.Status.Version, "csv:") || st.Status.LastReload.Loader != "file" {
		t.Errorf("status: %v", st.Status)
	}
	resp, err := http.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `geoaccess_roster_info{source="roster.csv",version="` + st.Status.Version + `"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %s", want)
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestDaemonBadRosterExits: a roster over the bad-row limit stops the
// daemon with exit 1, logging lines and columns but no row values.
func TestDaemonBadRosterExits(t *testing.T) {
	roster := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(roster, []byte("npi,discipline,lat,lon\n1234567893,PT,40.748817,-73.985428\n1234567893,PT,95.5,-73.985428\n"), 0o600)
	cmd := exec.Command(binary(t), "--listen", "127.0.0.1:0", "--metrics-listen", "", "--log-format", "json", "--roster", roster)
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1:\n%s", err, out)
	}
	for _, s := range []string{"95.5", "40.748817"} {
		if strings.Contains(string(out), s) {
			t.Errorf("the log quotes a row value %s:\n%s", s, out)
		}
	}
	if !strings.Contains(string(out), `"line":3`) {
		t.Errorf("the bad line is not named:\n%s", out)
	}
}

// TestDaemonEmptyRosterExits: a roster with no participating provider —
// a header and nothing else, or only non-participating rows — never
// serves: the daemon exits 1 and says why.
func TestDaemonEmptyRosterExits(t *testing.T) {
	for name, body := range map[string]string{
		"header only":       "npi,discipline,lat,lon\n",
		"none participates": "npi,discipline,lat,lon,participating\n1234567893,PT,40.75,-73.99,N\n",
	} {
		t.Run(name, func(t *testing.T) {
			roster := filepath.Join(t.TempDir(), "empty.csv")
			if err := os.WriteFile(roster, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binary(t), "--listen", "127.0.0.1:0", "--metrics-listen", "", "--log-format", "json", "--roster", roster)
			out, err := cmd.CombinedOutput()
			if cmd.ProcessState.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1:\n%s", err, out)
			}
			for _, want := range []string{`"msg":"cannot start: the roster cannot be served"`, "roster has no participating providers", "empty.csv"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("the log lacks %s:\n%s", want, out)
				}
			}
			if strings.Contains(string(out), `"msg":"serving"`) {
				t.Errorf("served an empty roster:\n%s", out)
			}
		})
	}
}

// TestDaemonHugeHeaderNotEchoed: a roster whose header line is 10 MB
// (and lacks the npi column) is refused with a log of a few hundred
// bytes, not the header.
func TestDaemonHugeHeaderNotEchoed(t *testing.T) {
	roster := filepath.Join(t.TempDir(), "huge.csv")
	header := "discipline,lat,lon," + strings.Repeat("x", 10<<20) + "\n"
	if err := os.WriteFile(roster, []byte(header+"PT,40.75,-73.99,1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "--listen", "127.0.0.1:0", "--metrics-listen", "", "--log-format", "json", "--roster", roster)
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1:\n%.2000s", err, out)
	}
	if len(out) > 4096 {
		t.Errorf("%d bytes of log for a bad header:\n%.2000s", len(out), out)
	}
	if !strings.Contains(string(out), "missing required column: npi") || !strings.Contains(string(out), "xxx…") {
		t.Errorf("the log does not say which column is missing, with an excerpt of the header:\n%.2000s", out)
	}
}
