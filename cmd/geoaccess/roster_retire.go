package main

import (
	"fmt"
	"io"

	"github.com/geoaccess/geoaccess/data/pg"
)

func rosterRetire(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("roster retire", "roster retire --keep N [--db URL] [--json]", stderr)
	var db dbFlag
	db.register(fs)
	keep := fs.Int("keep", 0, "keep the current version and the newest published others, this many in all (≥ 1)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseWithArgs(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	if *keep < 1 {
		return fmt.Errorf("%w: --keep N (at least 1) is required", errUsage)
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	ids, err := pg.Retire(ctx, pool, *keep)
	if err != nil {
		return err
	}
	if *asJSON {
		if ids == nil {
			ids = []int64{}
		}
		return writeJSON(stdout, struct {
			Retired []int64 `json:"retired"`
		}{ids})
	}
	if len(ids) == 0 {
		fmt.Fprintln(stdout, "nothing to retire")
		return nil
	}
	fmt.Fprintf(stdout, "retired versions %s: providers deleted, records kept\n", joinIDs(ids))
	return nil
}
