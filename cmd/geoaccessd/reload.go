package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/serving"
	"github.com/geoaccess/geoaccess/internal/serving/pgsource"
)

// dbRoster is the roster served from PostgreSQL: the pool and the
// reloader running beside the server.
type dbRoster struct {
	pool   *pgxpool.Pool
	cancel context.CancelFunc
	done   chan struct{}
}

// loadFromDB connects, checks (or migrates) the schema, marks loads left
// behind by dead loaders failed, serves the current version and starts
// the reloader: the schedule, LISTEN/NOTIFY and retries. With nothing
// published yet it returns nil and the server waits, NOT_SERVING, for the
// first publish.
func (d *daemon) loadFromDB(ctx context.Context) error {
	start := time.Now()
	pcfg, err := pgxpool.ParseConfig(d.cfg.db.url)
	if err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	if pcfg.ConnConfig.ConnectTimeout == 0 {
		pcfg.ConnConfig.ConnectTimeout = 15 * time.Second
	}
	if _, ok := pcfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		pcfg.ConnConfig.RuntimeParams["application_name"] = "geoaccessd" // names the server in pg_stat_activity
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	db := &dbRoster{pool: pool, cancel: cancel, done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			cancel()
			pool.Close()
		}
	}()
	if d.cfg.db.migrate {
		applied, err := pg.Migrate(ctx, pool)
		if err != nil {
			return fmt.Errorf("migrate the roster schema: %w", err)
		}
		d.log.Info("roster schema migrated", slog.Int("applied", len(applied)))
	} else if err := pg.CheckSchema(ctx, pool); err != nil {
		return fmt.Errorf("roster schema (run \"geoaccess db migrate\" or start with --db-migrate): %w", err)
	}
	// Needs UPDATE on roster_versions, which a SELECT-only server role
	// lacks: then the next load does it instead.
	if ids, err := pg.RecoverAbandoned(ctx, pool); err != nil {
		d.log.Warn("could not mark abandoned roster loads failed; the next load will", slog.String("error", err.Error()))
	} else if len(ids) > 0 {
		d.log.Warn("marked abandoned roster loads failed", slog.Any("versions", ids))
	}
	if d.cfg.plansFile == "" {
		if err := d.followPlans(rctx, pool); err != nil {
			return err
		}
	}
	rcfg := d.cfg.db.reloadConfig(d.loc)
	rcfg.Logger = d.log
	src := &pgsource.Source{Pool: pool}
	rl := serving.NewReloader(d.srv.Roster(), src, rcfg)
	if err := d.srv.SetReloader(rl); err != nil {
		return err
	}
	// Replays read past versions from the same database on demand.
	if err := d.srv.SetReplays(serving.NewReplays(d.srv.Roster(), src, d.cfg.db.replayConfig(d.log))); err != nil {
		return err
	}
	if err := rl.Start(ctx); err != nil {
		return fmt.Errorf("roster from PostgreSQL: %w", err)
	}
	go func() { rl.Run(rctx); close(db.done) }()
	d.db, ok = db, true
	if st := d.srv.Roster().Status(); st.Loaded {
		d.log.Info("serving", slog.String("roster_version", st.Version),
			slog.Float64("load_ms", float64(time.Since(start).Microseconds())/1000), slog.String("reload_at", d.cfg.db.reloadAt))
	}
	return nil
}

// closeDB stops the reloader and closes the pool.
func (d *daemon) closeDB() {
	if d.db == nil {
		return
	}
	d.db.cancel()
	<-d.db.done
	d.db.pool.Close()
}
