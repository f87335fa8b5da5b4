package pgtest

import (
	"context"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// Two tests get two schemas on one server, and see only their own tables.
func TestSchemasAreIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := Pool(t), Pool(t)
	if _, err := a.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Exec(ctx, "SELECT * FROM t"); err == nil {
		t.Error("schema b sees schema a's table")
	}
	var sa, sb string
	a.QueryRow(ctx, "SELECT current_schema()").Scan(&sa)
	b.QueryRow(ctx, "SELECT current_schema()").Scan(&sb)
	if sa == sb || sa == "public" || sb == "public" {
		t.Errorf("schemas %q and %q", sa, sb)
	}
}

func TestWithParam(t *testing.T) {
	tests := []struct{ in, want string }{
		{"host=/tmp port=5 user=postgres", "host=/tmp port=5 user=postgres search_path='s1'"},
		{"postgres://u@h/db?sslmode=disable", "postgres://u@h/db?search_path=s1&sslmode=disable"},
	}
	for _, tc := range tests {
		if got := WithParam(tc.in, "search_path", "s1"); got != tc.want {
			t.Errorf("WithParam(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Values with spaces and quotes survive both forms.
	tests = []struct{ in, want string }{
		{"host=/tmp", `host=/tmp datestyle='SQL, DMY\'s'`},
		{"postgres://u@h/db", "postgres://u@h/db?datestyle=SQL%2C%20DMY%27s"},
	}
	for _, tc := range tests {
		if got := WithParam(tc.in, "datestyle", "SQL, DMY's"); got != tc.want {
			t.Errorf("WithParam(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A dedicated cluster stops and starts again.
func TestClusterRestart(t *testing.T) {
	c := NewCluster(t)
	if err := c.Stop("immediate"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
}
