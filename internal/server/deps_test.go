package server_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNoDatabaseImports: the gRPC server, and the roster holder and
// reloader it serves, import no database driver and not data/pg, however
// indirectly: the PostgreSQL version source lives in
// internal/serving/pgsource, which cmd/geoaccessd wires in. `go list
// -deps` gives the whole import graph as the build sees it; pgsource
// itself is the control that the check sees a database import.
func TestNoDatabaseImports(t *testing.T) {
	goTool, err := exec.LookPath("go") // go test puts its own first on PATH
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/geoaccess/geoaccess/"
	forbidden := []string{"github.com/jackc/pgx", mod + "data/pg", mod + "internal/serving/pgsource"}
	tests := []struct {
		dir, pkg string
		database bool
	}{
		{".", mod + "internal/server", false},
		{"../serving", mod + "internal/serving", false},
		{"../serving/pgsource", mod + "internal/serving/pgsource", true},
	}
	for _, tc := range tests {
		out, err := exec.Command(goTool, "list", "-deps", tc.dir).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", tc.dir, err)
		}
		deps := strings.Fields(string(out))
		// The package itself comes last, after everything it imports.
		if len(deps) == 0 || deps[len(deps)-1] != tc.pkg || !slices.Contains(deps, mod+"adequacy") {
			t.Fatalf("go list -deps %s: unexpected output %q", tc.dir, deps)
		}
		var bad []string
		for _, d := range deps[:len(deps)-1] {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					bad = append(bad, d)
				}
			}
		}
		if got := len(bad) > 0; got != tc.database {
			t.Errorf("%s: imports of the database: %q, want some: %v", tc.pkg, bad, tc.database)
		}
	}
}
