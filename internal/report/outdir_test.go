package report

import (
	"os"
	"path/filepath"
	"testing"
)

// A deferred Abort after Commit leaves the report in place, in a new
// directory and in an existing one; before Commit it removes what was
// written and leaves the directory as it was.
func TestAbortAfterCommit(t *testing.T) {
	root := t.TempDir()
	existing := filepath.Join(root, "existing")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(root, "new"), existing} {
		o, err := NewOutputFor(dir, []string{"a.csv"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(o.Dir(), "a.csv"), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := o.Commit(); err != nil {
			t.Fatal(err)
		}
		o.Abort()
		if b, err := os.ReadFile(filepath.Join(dir, "a.csv")); err != nil || string(b) != "x\n" {
			t.Errorf("%s after Commit and Abort: %q, %v", dir, b, err)
		}
	}
	o, err := NewOutputFor(existing, []string{"a.csv"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(o.Dir(), "a.csv"), []byte("y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.Abort()
	if b, _ := os.ReadFile(filepath.Join(existing, "a.csv")); string(b) != "x\n" {
		t.Errorf("Abort without Commit changed the report: %q", b)
	}
	if _, err := os.Stat(o.Dir()); !os.IsNotExist(err) {
		t.Errorf("Abort left its temporary directory: %v", err)
	}
}
