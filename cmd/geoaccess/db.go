package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/pg"
)

func init() {
	register("db", "migrate the PostgreSQL schema, or show its migrations", runDB)
}

func runDB(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, `usage:
  geoaccess db migrate [--db URL]          apply the schema migrations this geoaccess embeds
  geoaccess db status [--db URL] [--json]  list the applied migrations and what is pending

--db defaults to $DATABASE_URL; see docs/roster-db.md.`)
		if len(args) == 0 {
			return fmt.Errorf("%w: db needs a subcommand", errUsage)
		}
		return nil
	}
	switch args[0] {
	case "migrate":
		return dbMigrate(args[1:], stdout, stderr)
	case "status":
		return dbStatus(args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown db subcommand %q", errUsage, args[0])
}

// dbFlag is the --db flag every database command takes.
type dbFlag struct{ url string }

func (d *dbFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&d.url, "db", "", "PostgreSQL connection string: postgres://user@host/db or key=value pairs (default: $DATABASE_URL)")
}

// open connects; ctx ends on an interrupt, so a load stopped by Ctrl-C is
// recorded as failed rather than left loading.
func (d *dbFlag) open() (context.Context, *pgxpool.Pool, func(), error) {
	url := d.url
	if url == "" {
		url = os.Getenv("DATABASE_URL")
	}
	if url == "" {
		return nil, nil, nil, fmt.Errorf("%w: give --db URL or set DATABASE_URL", errUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		stop()
		return nil, nil, nil, fmt.Errorf("--db: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 15 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		stop()
		return nil, nil, nil, fmt.Errorf("connect: %w", err)
	}
	return ctx, pool, func() { pool.Close(); stop() }, nil
}

func dbMigrate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("db migrate", "db migrate [--db URL]", stderr)
	var db dbFlag
	db.register(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	applied, err := pg.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "schema up to date: nothing to apply")
	}
	for _, m := range applied {
		fmt.Fprintf(stdout, "applied %04d_%s\n", m.Version, m.Name)
	}
	// A newer geoaccess's migrations are left alone; say so.
	if err := pg.CheckSchema(ctx, pool); err != nil {
		fmt.Fprintf(stderr, "geoaccess: note: %v\n", err)
	}
	return nil
}

type migrationJSON struct {
	Version   int        `json:"version"`
	Name      string     `json:"name"`
	Checksum  string     `json:"sha256"`
	Applied   bool       `json:"applied"`
	AppliedAt *time.Time `json:"applied_at,omitempty"`
	Known     bool       `json:"known"` // embedded in this geoaccess
}

func dbStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("db status", "db status [--db URL] [--json]", stderr)
	var db dbFlag
	db.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	applied, err := pg.MigrationStatus(ctx, pool)
	if err != nil {
		return err
	}
	byVersion := map[int]pg.AppliedMigration{}
	for _, a := range applied {
		byVersion[a.Version] = a
	}
	var rows []migrationJSON
	for _, m := range pg.Migrations() {
		j := migrationJSON{Version: m.Version, Name: m.Name, Checksum: m.Checksum, Known: true}
		if a, ok := byVersion[m.Version]; ok {
			at := a.AppliedAt.UTC()
			j.Applied, j.AppliedAt = true, &at
			delete(byVersion, m.Version)
		}
		rows = append(rows, j)
	}
	for _, a := range applied {
		if _, ok := byVersion[a.Version]; ok {
			at := a.AppliedAt.UTC()
			rows = append(rows, migrationJSON{Version: a.Version, Name: a.Name, Checksum: a.Checksum, Applied: true, AppliedAt: &at})
		}
	}
	check := pg.CheckSchema(ctx, pool)
	if *asJSON {
		out := struct {
			Migrations []migrationJSON `json:"migrations"`
			OK         bool            `json:"ok"`
			Problem    string          `json:"problem,omitempty"`
		}{rows, check == nil, errText(check)}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MIGRATION\tSTATE\tAPPLIED (UTC)")
	for _, r := range rows {
		state, at := "pending", ""
		if r.Applied {
			state, at = "applied", r.AppliedAt.Format(time.DateTime)
		}
		if !r.Known {
			state += " (unknown to this geoaccess)"
		}
		fmt.Fprintf(tw, "%04d_%s\t%s\t%s\n", r.Version, r.Name, state, at)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if check != nil {
		fmt.Fprintln(stdout, strings.TrimPrefix(check.Error(), "check schema: "))
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// readDB reads the roster from PostgreSQL — the current version, or
// --roster-version (published, not retired) — and, without --plans-file,
// the plans: the current version (none published: no plans) or
// --plans-version, validated against profiles.
func (e *engineFlags) readDB(profiles *adequacy.Profiles) (*adequacy.Roster, *adequacy.Plans, error) {
	d := dbFlag{url: e.db}
	ctx, pool, done, err := d.open()
	if err != nil {
		return nil, nil, err
	}
	defer done()
	var r *adequacy.Roster
	if e.rosterVersion == "" {
		r, _, err = pg.Current(ctx, pool)
	} else {
		var id int64
		if id, err = pg.ParseVersion(e.rosterVersion); err != nil {
			return nil, nil, fmt.Errorf("%w: --roster-version: %v", errUsage, err)
		}
		r, err = pg.ReadRoster(ctx, pool, id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("roster from the database: %w", err)
	}
	if e.plansFile != "" {
		return r, nil, nil
	}
	var plans *adequacy.Plans
	if e.plansVersion == "" {
		plans, _, err = pg.CurrentPlans(ctx, pool, profiles)
		if errors.Is(err, pg.ErrNoPublishedPlans) {
			plans, err = nil, nil
		}
	} else {
		var id int64
		if id, err = pg.ParsePlansVersion(e.plansVersion); err != nil {
			return nil, nil, fmt.Errorf("%w: --plans-version: %v", errUsage, err)
		}
		plans, _, err = pg.PlansVersion(ctx, pool, id, profiles)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("plans from the database: %w", err)
	}
	return r, plans, nil
}
