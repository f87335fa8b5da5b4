package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/pg"
)

func plansRollback(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plans rollback", "plans rollback V [--db URL] [--profile-file F]...", stderr)
	var pf plansFlags
	pf.db.register(fs)
	pf.registerProfiles(fs)
	pos, err := parseWithArgs(fs, args, 1, "the plans version to make current")
	if err != nil {
		return err
	}
	id, err := pg.ParsePlansVersion(pos[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	profiles, err := pf.profiles()
	if err != nil {
		return err
	}
	ctx, pool, done, err := pf.db.open()
	if err != nil {
		return err
	}
	defer done()
	// Servers validate the plans against their profiles when they read
	// them: refuse a version that would not validate here.
	if _, _, err := pg.PlansVersion(ctx, pool, id, profiles); err != nil {
		if adequacy.VersionCodeOf(err) == adequacy.VersionInvalidRows {
			return fmt.Errorf("%w: not rolled back (give --profile-file for a profile the plans name)", err)
		}
		return err
	}
	prev, err := pg.CurrentPlanVersion(ctx, pool)
	if err != nil && !errors.Is(err, pg.ErrNoPublishedPlans) {
		return err
	}
	v, err := pg.SetCurrentPlans(ctx, pool, id)
	if err != nil {
		return err
	}
	if prev != nil && prev.ID == v.ID {
		fmt.Fprintf(stdout, "plans version %d is already current\n", v.ID)
		return nil
	}
	fmt.Fprintf(stdout, "plans version %d (%s, %s) is current", v.ID, v.Label, plans(v.Plans))
	if prev != nil {
		fmt.Fprintf(stdout, ", replacing version %d", prev.ID)
	}
	fmt.Fprintln(stdout, "; listeners notified")
	return nil
}
