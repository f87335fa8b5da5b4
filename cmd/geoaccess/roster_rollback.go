package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/cliflag"
)

func rosterRollback(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("roster rollback", "roster rollback V [--db URL] [--max-shrink 20%] [--force]", stderr)
	var db dbFlag
	db.register(fs)
	maxShrink := cliflag.Fraction(adequacy.DefaultMaxShrink)
	fs.Var(&maxShrink, "max-shrink", "refuse if any discipline's participating providers fall by more than this vs the current version")
	force := fs.Bool("force", false, "roll back even past --max-shrink")
	pos, err := parseWithArgs(fs, args, 1, "the version to make current")
	if err != nil {
		return err
	}
	id, err := pg.ParseVersion(pos[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	prev, err := pg.CurrentVersion(ctx, pool)
	if err != nil && !errors.Is(err, pg.ErrNoPublishedRoster) {
		return err
	}
	v, err := pg.SetCurrent(ctx, pool, id, pg.PublishOptions{MaxShrink: adequacy.MaxShrink(float64(maxShrink)), Force: *force})
	if err != nil {
		return err
	}
	if prev != nil && prev.ID == v.ID {
		fmt.Fprintf(stdout, "version %d is already current\n", v.ID)
		return nil
	}
	fmt.Fprintf(stdout, "version %d (%s) is current", v.ID, v.Label)
	if prev != nil {
		fmt.Fprintf(stdout, ", replacing version %d", prev.ID)
	}
	fmt.Fprintln(stdout, "; listeners notified")
	return nil
}
