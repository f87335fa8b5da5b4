package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
)

// rosterExport writes a published version's providers as a roster CSV
// (data.WriteRoster: every column, in the roster's order), which "roster
// load" reads back to the same providers: the network an appeal's decision
// rested on, for the record or for another database.
func rosterExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("roster export", "roster export V [--db URL] [--out FILE]", stderr)
	var db dbFlag
	db.register(fs)
	out := fs.String("out", "", "write the CSV here (replaced whole, or left as it was on failure); default standard output")
	pos, err := parseWithArgs(fs, args, 1, "a version (42, pg:42 or current)")
	if err != nil {
		return err
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	id, err := resolveVersion(ctx, pool, pos[0])
	if err != nil {
		return err
	}
	r, err := pg.ReadRoster(ctx, pool, id)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := data.WriteRoster(bw, r.Providers); err != nil {
			return err
		}
		return bw.Flush()
	}
	if *out == "" || *out == "-" {
		if err := write(stdout); err != nil {
			return fmt.Errorf("roster export: %w", err)
		}
		fmt.Fprintf(stderr, "exported %s: %d providers\n", r.Version, len(r.Providers))
		return nil
	}
	if err := writeFileAtomic(*out, write); err != nil {
		return fmt.Errorf("roster export: %w", err)
	}
	fmt.Fprintf(stderr, "exported %s: %d providers to %s\n", r.Version, len(r.Providers), *out)
	return nil
}

// writeFileAtomic writes path through a temporary file beside it, renamed
// into place once complete: a failure leaves path as it was.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename: nothing to remove
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
