package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/data/pg"
)

// followPlans serves the plan registry published in PostgreSQL (with --db
// and no --plans-file): the current version now, then every version a
// publish or rollback makes current (LISTEN geoaccess_plans), until ctx
// ends. No published version is no plans; a version this server cannot
// read (a profile it does not have) is logged and the plans it serves
// stay.
func (d *daemon) followPlans(ctx context.Context, pool *pgxpool.Pool) error {
	holder := d.srv.Roster()
	serve := func(id int64) {
		label := fmt.Sprintf("pg:%d", id)
		if cur := holder.Base().Plans; cur != nil && cur.Version == label {
			return
		}
		plans, _, err := pg.PlansVersion(ctx, pool, id, holder.Base().Profiles)
		if err != nil {
			d.log.Error("plans version not served: the plans in use stay", slog.String("plans_version", label), slog.String("error", err.Error()))
			return
		}
		holder.SetPlans(plans)
		d.log.Info("plans loaded", slog.String("plans_version", plans.Version), slog.Int("plans", plans.Len()))
	}
	plans, _, err := pg.CurrentPlans(ctx, pool, holder.Base().Profiles)
	switch {
	case errors.Is(err, pg.ErrNoPublishedPlans):
		d.log.Info("no plans version is published: requests naming a plan are NOT_FOUND until one is")
	case err != nil:
		return fmt.Errorf("plans from PostgreSQL: %w", err)
	default:
		holder.SetPlans(plans)
		d.log.Info("plans loaded", slog.String("plans_version", plans.Version), slog.Int("plans", plans.Len()))
	}
	go func() {
		err := pg.ListenPlans(ctx, pool, serve, pg.ListenOptions{OnError: func(err error) {
			d.log.Warn("plans listener", slog.String("error", err.Error()))
		}})
		if err != nil && ctx.Err() == nil {
			d.log.Error("plans listener stopped", slog.String("error", err.Error()))
		}
	}()
	return nil
}
