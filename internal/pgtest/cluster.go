package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// ErrNoBinaries means the PostgreSQL server binaries (initdb, pg_ctl) are
// not on this machine.
var ErrNoBinaries = errors.New("pgtest: PostgreSQL server binaries (initdb, pg_ctl) not found")

// Cluster is a throwaway PostgreSQL cluster: a data directory in a
// temporary directory, a unix socket beside it and no TCP listener, so
// nothing else on the machine can reach it or collide with it. Settings
// trade durability against an operating-system crash for speed (fsync and
// full_page_writes off); a server process that dies loses no committed
// transaction. A test cluster lives for one test binary.
type Cluster struct {
	BinDir string // where initdb, pg_ctl and postgres are
	Dir    string // the temporary directory: data/, the socket, the log
	Port   int    // names the socket file .s.PGSQL.<Port>

	cred     *syscall.Credential // run the server as this user (when we are root)
	watchdog *os.Process
}

// Log is the server's log file, worth reading when a test fails.
func (c *Cluster) Log() string { return filepath.Join(c.Dir, "postgres.log") }

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }

// ConnString is a keyword/value connection string for database db as the
// superuser "postgres" over the cluster's unix socket.
func (c *Cluster) ConnString(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.Dir, c.Port, db)
}

// FindBinDir finds the PostgreSQL server binaries: $PG_BINDIR, then the
// newest /usr/lib/postgresql/*/bin (Debian, Ubuntu), then initdb on PATH.
func FindBinDir() (string, error) {
	var tried []string
	ok := func(dir string) bool {
		tried = append(tried, dir)
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("PG_BINDIR"); d != "" {
		if ok(d) {
			return d, nil
		}
		return "", fmt.Errorf("%w in PG_BINDIR=%s", ErrNoBinaries, d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first: "15" sorts after "9" only numerically.
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, d := range dirs {
		if ok(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && ok(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("%w (looked in %s and PATH; set PG_BINDIR, or DATABASE_URL to use a running server)", ErrNoBinaries, strings.Join(tried, ", "))
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// StartCluster runs initdb into a new temporary directory and starts the
// server. When the caller is root it runs the server as the "postgres" OS
// user (initdb and postgres refuse to run as root). A watchdog process
// stops the server and removes the directory if this process dies without
// calling Close (a panic, a test timeout).
func StartCluster() (*Cluster, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{BinDir: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs a \"postgres\" OS user to run the server: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// A short directory: a unix socket path must fit in 107 bytes.
	base := os.TempDir()
	if len(base) > 60 {
		base = "/tmp"
	}
	if c.Dir, err = os.MkdirTemp(base, "pgtest-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(c.Dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			os.RemoveAll(c.Dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	if c.Port, err = freePort(); err != nil {
		os.RemoveAll(c.Dir)
		return nil, err
	}
	if err := c.init(); err != nil {
		os.RemoveAll(c.Dir)
		return nil, err
	}
	c.startWatchdog()
	if err := c.Start(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// freePort picks a TCP port nothing listens on. The server listens on no
// TCP port at all; the number only names the socket, but a free one keeps
// the socket name unique on the machine for people reading ps output.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) init() error {
	out, err := c.run("initdb", "-D", c.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	conf := fmt.Sprintf(`
# pgtest: a throwaway cluster, fast rather than durable against power
# loss. synchronous_commit stays on: a crash test stops the server dead
# and expects every committed transaction to survive, as it would.
listen_addresses = ''
unix_socket_directories = '%s'
port = %d
fsync = off
full_page_writes = off
max_wal_size = '4GB'
checkpoint_timeout = '30min'
max_connections = 50
log_min_messages = warning
`, c.Dir, c.Port)
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgtest: postgresql.conf: %w", err)
	}
	return nil
}

// Start starts the server (again, after Stop) and waits until it accepts
// connections, including after crash recovery.
func (c *Cluster) Start() error {
	out, err := c.run("pg_ctl", "-D", c.dataDir(), "-l", c.Log(), "-w", "-t", "120", "start")
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl start: %w\n%s\nlog:\n%s", err, out, c.tailLog())
	}
	return nil
}

// Stop stops the server with pg_ctl's shutdown mode: "fast" (roll back
// open transactions, shut down cleanly) or "immediate" (quit at once, as a
// crash or power cut would; the next Start runs crash recovery).
func (c *Cluster) Stop(mode string) error {
	out, err := c.run("pg_ctl", "-D", c.dataDir(), "-w", "-t", "60", "-m", mode, "stop")
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop -m %s: %w\n%s", mode, err, out)
	}
	return nil
}

// Close stops the server if it runs and removes the directory.
func (c *Cluster) Close() error {
	var err error
	if _, serr := os.Stat(filepath.Join(c.dataDir(), "postmaster.pid")); serr == nil {
		err = c.Stop("fast")
		if err != nil {
			err = errors.Join(err, c.Stop("immediate"))
		}
	}
	if rerr := os.RemoveAll(c.Dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("pgtest: %w", rerr))
	}
	if c.watchdog != nil {
		c.watchdog.Kill() // our own child, by its id
		c.watchdog.Wait()
		c.watchdog = nil
	}
	return err
}

func (c *Cluster) tailLog() string {
	b, _ := os.ReadFile(c.Log())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// run runs one of the cluster's binaries as the server's OS user.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.BinDir, name), args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// startWatchdog starts a shell in its own session that waits for this
// process to exit, then stops the server (SIGQUIT to the postmaster by the
// pid in its pid file: an immediate shutdown) and removes the directory.
// Close kills it after cleaning up itself. It holds none of our output
// pipes, so "go test" never waits for it.
func (c *Cluster) startWatchdog() {
	script := `while kill -0 "$1" 2>/dev/null; do sleep 1; done
pid=$(head -n 1 "$2/data/postmaster.pid" 2>/dev/null)
[ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null && sleep 2
rm -rf "$2"`
	cmd := exec.Command("/bin/sh", "-c", script, "pgtest-watchdog", strconv.Itoa(os.Getpid()), c.Dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err == nil {
		c.watchdog = cmd.Process
	}
}
