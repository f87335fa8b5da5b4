// Package examples_test runs the example clients (Go, Python, Node) against
// a real geoaccessd on loopback, serving the embedded sample roster and the
// example plans, the way docs/clients.md tells users to. Each client checks
// what it receives and exits non-zero when an answer is not what the
// sample data gives; against a server without the plans every client must
// fail, so the checks are seen to bite.
//
// The Python client needs Debian's protobuf-compiler,
// protobuf-compiler-grpc, libgoogle-common-protos-java, unzip,
// python3-grpcio and python3-protobuf; the Node client node and `npm ci`
// in examples/node. Without them the tests skip, except under CI=true,
// where they fail (.ci/run installs them).
package examples_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	bins      struct{ daemon, goClient string }
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range []string{binDir, pythonGen} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// build compiles geoaccessd and the Go example once for the package.
func build(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs geoaccessd and the example clients")
	}
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "geoaccess-examples"); buildErr != nil {
			return
		}
		bins.daemon, bins.goClient = filepath.Join(binDir, "geoaccessd"), filepath.Join(binDir, "example-go")
		for _, b := range []struct{ out, pkg string }{{bins.daemon, "../cmd/geoaccessd"}, {bins.goClient, "./go"}} {
			if out, err := exec.Command("go", "build", "-o", b.out, b.pkg).CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// serve starts geoaccessd on a loopback port with args and returns its gRPC
// address once it serves.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	build(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bins.daemon, append([]string{"--listen", "127.0.0.1:0", "--metrics-listen", "", "--log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() { cancel(); <-exited })
	ready := make(chan string, 1)
	var logText strings.Builder
	var mu sync.Mutex
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		addr := ""
		for sc.Scan() {
			mu.Lock()
			logText.WriteString(sc.Text() + "\n")
			mu.Unlock()
			var rec struct{ Msg, GRPC string }
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			switch rec.Msg {
			case "listening":
				addr = rec.GRPC
			case "serving":
				ready <- addr
			}
		}
		cmd.Wait()
	}()
	select {
	case addr := <-ready:
		if addr == "" {
			t.Fatal("geoaccessd logged no gRPC address")
		}
		return addr
	case <-exited:
	case <-time.After(90 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	t.Fatalf("geoaccessd did not serve:\n%s", logText.String())
	return ""
}

// unavailable skips the test, or fails it under CI=true, where .ci/run has
// installed everything the clients need.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// client is one example client: how to run it against an address.
type client struct {
	name    string
	prepare func(t *testing.T) func(addr string) *exec.Cmd
}

var clients = []client{
	{"go", func(t *testing.T) func(string) *exec.Cmd {
		build(t)
		return func(addr string) *exec.Cmd { return exec.Command(bins.goClient, "--addr", addr) }
	}},
	{"python", preparePython},
	{"node", prepareNode},
}

var (
	pythonOnce sync.Once
	pythonGen  string
	pythonErr  error
)

// python is the interpreter Debian's python3-grpcio is installed for:
// GEOACCESS_PYTHON, else /usr/bin/python3 (a python3 earlier on PATH, e.g.
// pyenv's, does not see Debian's packages).
func python() string {
	if p := os.Getenv("GEOACCESS_PYTHON"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

func preparePython(t *testing.T) func(string) *exec.Cmd {
	if out, err := exec.Command(python(), "-c", "import grpc, google.protobuf").CombinedOutput(); err != nil {
		unavailable(t, "%s cannot import grpc and protobuf (Debian: python3-grpcio python3-protobuf): %v\n%s", python(), err, out)
	}
	for _, tool := range []string{"protoc", "grpc_python_plugin", "unzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, "%s not found (Debian: protobuf-compiler protobuf-compiler-grpc unzip)", tool)
		}
	}
	// The generated modules, made the way users make them, once.
	pythonOnce.Do(func() {
		if pythonGen, pythonErr = os.MkdirTemp("", "geoaccess-python-gen"); pythonErr != nil {
			return
		}
		if out, err := exec.Command("./python/generate.sh", pythonGen).CombinedOutput(); err != nil {
			pythonErr = fmt.Errorf("generate.sh: %v\n%s", err, out)
		}
	})
	if pythonErr != nil {
		if strings.Contains(pythonErr.Error(), "is missing") {
			unavailable(t, "%v", pythonErr)
		}
		t.Fatal(pythonErr)
	}
	return func(addr string) *exec.Cmd {
		cmd := exec.Command(python(), "python/client.py", "--addr", addr)
		cmd.Env = append(os.Environ(), "GEOACCESS_PYTHON_GEN="+pythonGen)
		return cmd
	}
}

func prepareNode(t *testing.T) func(string) *exec.Cmd {
	if _, err := exec.LookPath("node"); err != nil {
		unavailable(t, "node not found")
	}
	if _, err := os.Stat("node/node_modules/@grpc/grpc-js"); err != nil {
		unavailable(t, "examples/node has no node_modules: run `npm ci` there")
	}
	return func(addr string) *exec.Cmd { return exec.Command("node", "node/client.js", "--addr", addr) }
}

// run runs a client with a deadline and returns its combined output and
// whether it exited 0.
func run(t *testing.T, cmd *exec.Cmd) (string, bool) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err == nil
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s still running after 2 minutes:\n%s", cmd, out.String())
	}
	return "", false
}

// TestClients runs every example client against geoaccessd serving the
// sample roster and the example plans: each must pass every check it
// makes (served status in Manhattan, the plan and service answers, the
// decoded BadRequest on latitude 91, a batch with an error item, the
// gate's answer).
func TestClients(t *testing.T) {
	addr := serve(t, "--plans-file", "../data/assets/plans/example.yaml")
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			cmd := c.prepare(t)(addr)
			out, ok := run(t, cmd)
			if !ok || !strings.Contains(out, "ok: every check passed") {
				t.Fatalf("the %s client failed:\n%s", c.name, out)
			}
			for _, want := range []string{"ACCESS_STATUS_SERVED", "location.latitude", "m4: error", "supported="} {
				if !strings.Contains(out, want) {
					t.Errorf("the %s client's output lacks %q:\n%s", c.name, want, out)
				}
			}
		})
	}
}

// TestClientsCheckWhatTheyGet: the clients' checks bite. Against a
// server whose roster has only the sample's Texas providers, Manhattan is
// not served, and every client must say so and exit 1; against one that
// knows no plans, the plan's CheckAccess fails and so must every client.
func TestClientsCheckWhatTheyGet(t *testing.T) {
	texas := texasRoster(t)
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"texas roster", "Manhattan", []string{"--roster", texas, "--plans-file", "../data/assets/plans/example.yaml"}},
		{"no plans", `unknown plan "acme-ma"`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, tc.args...)
			for _, c := range clients {
				t.Run(c.name, func(t *testing.T) {
					out, ok := run(t, c.prepare(t)(addr))
					if ok || !strings.Contains(out, "FAIL") || !strings.Contains(out, tc.want) {
						t.Fatalf("the %s client should exit 1 naming %q; exit 0: %t\n%s", c.name, tc.want, ok, out)
					}
				})
			}
		})
	}
}

// texasRoster writes the sample roster's Texas rows (and its header) to a
// file and returns its path.
func texasRoster(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../data/assets/sample/roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	var b strings.Builder
	b.WriteString(lines[0])
	n := 0
	for _, l := range lines[1:] {
		if f := strings.Split(l, ","); len(f) > 9 && f[8] == "TX" {
			b.WriteString(l)
			n++
		}
	}
	if n < 100 {
		t.Fatalf("the sample roster has %d Texas rows", n)
	}
	path := filepath.Join(t.TempDir(), "texas.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
