// Package pgtest gives tests a real PostgreSQL over a real connection, no
// mocks: the server DATABASE_URL names, or else a throwaway cluster it
// starts itself with the server binaries on the machine (initdb into a
// temporary directory, pg_ctl, a unix socket, removed afterwards).
//
// Each test gets its own schema (search_path set in its connection
// string), dropped when the test ends, so tests never see each other's
// tables. A package's tests share one server: call Main from TestMain,
// then URL or Pool in each test. Tests that must stop and restart the
// server (crash tests) start their own with NewCluster.
//
// With CI set (CI=true) nothing skips: a server that cannot be found or
// started fails the tests loudly. Without CI, tests skip with a message
// when the server binaries are absent and DATABASE_URL is unset.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// InCI reports whether CI is set to something other than false or 0: the
// tests then must run, never skip.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// Env is a PostgreSQL server tests make schemas in.
type Env struct {
	base    string   // connection string of the server's maintenance database
	cluster *Cluster // nil when DATABASE_URL names the server
	skip    string   // why tests skip instead (no binaries, not in CI)
	admin   *pgxpool.Pool
}

// NewEnv connects to DATABASE_URL if it is set, or starts a throwaway
// cluster. Without the server binaries and outside CI it returns an Env
// whose tests skip.
func NewEnv() (*Env, error) {
	e := &Env{}
	if u := os.Getenv("DATABASE_URL"); u != "" {
		e.base = u
	} else {
		c, err := StartCluster()
		if errors.Is(err, ErrNoBinaries) && !InCI() {
			e.skip = err.Error()
			return e, nil
		}
		if err != nil {
			return nil, err
		}
		e.cluster, e.base = c, c.ConnString("postgres")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(e.base)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("pgtest: DATABASE_URL: %w", err)
	}
	cfg.MaxConns = 2
	if e.admin, err = pgxpool.NewWithConfig(ctx, cfg); err == nil {
		err = e.admin.Ping(ctx)
	}
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("pgtest: connect: %w", err)
	}
	return e, nil
}

// Cluster is the throwaway cluster, nil when DATABASE_URL names the server.
func (e *Env) Cluster() *Cluster { return e.cluster }

// Close drops the connection and removes the throwaway cluster.
func (e *Env) Close() error {
	if e.admin != nil {
		e.admin.Close()
	}
	if e.cluster != nil {
		return e.cluster.Close()
	}
	return nil
}

// URL creates a schema for the test, dropped when it ends, and returns a
// connection string whose sessions use it (search_path).
func (e *Env) URL(t testing.TB) string {
	t.Helper()
	if e.skip != "" {
		t.Skip(e.skip)
	}
	schema := schemaName(t.Name())
	ctx := context.Background()
	if _, err := e.admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := e.admin.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	return WithParam(e.base, "search_path", schema)
}

// Pool is a connection pool on a fresh schema (see URL), closed when the
// test ends.
func (e *Env) Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := e.URL(t)
	p, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// schemaName makes a unique schema name a person can trace to its test.
func schemaName(test string) string {
	var b strings.Builder
	b.WriteString("pgtest_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(rnd[:]))
	return b.String()
}

// WithParam adds a parameter to a connection string in either form: a
// postgres:// URL or keyword/value pairs. An unknown parameter such as
// search_path is sent to the server as a run-time setting.
func WithParam(conn, key, value string) string {
	if strings.HasPrefix(conn, "postgres://") || strings.HasPrefix(conn, "postgresql://") {
		u, err := url.Parse(conn)
		if err == nil {
			q := u.Query()
			q.Set(key, value)
			// Encode writes a space as "+", which connection-string
			// parsers (pgx, libpq) read literally; a real "+" is "%2B".
			u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
			return u.String()
		}
	}
	v := strings.ReplaceAll(strings.ReplaceAll(value, `\`, `\\`), `'`, `\'`)
	return strings.TrimSpace(conn) + " " + key + "='" + v + "'"
}

// The package-wide Env that Main manages; started on first use so that a
// test binary whose selected tests need no database starts none.
var shared struct {
	sync.Mutex
	inMain bool
	env    *Env
	err    error
}

// Main runs a package's tests (call it from TestMain) and then stops the
// shared server, if any test started it, and exits.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain with its own cleanup: it
// returns the exit code.
func Run(m *testing.M) int {
	shared.Lock()
	shared.inMain = true
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	if shared.env != nil {
		if err := shared.env.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			if code == 0 {
				code = 1
			}
		}
	}
	shared.Unlock()
	return code
}

func sharedEnv(t testing.TB) *Env {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.inMain {
		t.Fatal("pgtest: call pgtest.Main(m) from the package's TestMain to use pgtest.URL and pgtest.Pool")
	}
	if shared.env == nil && shared.err == nil {
		shared.env, shared.err = NewEnv()
	}
	if shared.err != nil {
		t.Fatalf("PostgreSQL: %v", shared.err)
	}
	return shared.env
}

// URL is Env.URL on the package's shared server.
func URL(t testing.TB) string { t.Helper(); return sharedEnv(t).URL(t) }

// Pool is Env.Pool on the package's shared server.
func Pool(t testing.TB) *pgxpool.Pool { t.Helper(); return sharedEnv(t).Pool(t) }

// NewCluster starts a throwaway cluster for one test, whatever
// DATABASE_URL says, removed when the test ends. It skips the test when
// the binaries are absent, unless in CI.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := StartCluster()
	if errors.Is(err, ErrNoBinaries) && !InCI() {
		t.Skip(err.Error())
	}
	if err != nil {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return c
}
