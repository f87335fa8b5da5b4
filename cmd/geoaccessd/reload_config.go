package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/cliflag"
	"github.com/geoaccess/geoaccess/internal/serving"
)

// dbConfig is the roster-from-PostgreSQL part of the configuration.
type dbConfig struct {
	url        string
	migrate    bool
	reloadAt   string
	maxShrink  cliflag.Fraction
	moveMiles  float64
	backoffMin time.Duration
	backoffMax time.Duration
	// replayCache: past roster versions kept indexed for replays.
	replayCache int
}

func registerDBFlags(fs *flag.FlagSet, c *dbConfig) {
	c.maxShrink = cliflag.Fraction(adequacy.DefaultMaxShrink)
	fs.StringVar(&c.url, "db", "", "serve the current roster version from PostgreSQL: postgres://user@host/db or key=value pairs (excludes --roster)")
	fs.BoolVar(&c.migrate, "db-migrate", false, "apply the schema migrations at start (default: refuse a schema that is not migrated)")
	fs.StringVar(&c.reloadAt, "reload-at", "", "with --db, also check for a new roster version every day at this local time HH:MM, in --tz")
	fs.Var(&c.maxShrink, "max-shrink", "with --db, refuse a reload that cuts any discipline's participating providers by more than this (0.2 or 20%)")
	fs.Float64Var(&c.moveMiles, "move-miles", serving.DefaultMoveMiles, "with --db, a provider matched farther than this from its old location has moved, in the reload diff (statute miles)")
	fs.DurationVar(&c.backoffMin, "reload-backoff-min", 2*time.Second, "with --db, first retry of a failed automatic reload after about this long, doubling")
	fs.DurationVar(&c.backoffMax, "reload-backoff-max", 5*time.Minute, "with --db, longest wait between retries of a failed reload")
	fs.IntVar(&c.replayCache, "replay-cache", serving.DefaultReplayVersions, "with --db, past roster versions kept indexed in memory for replays (roster_version), least recently used evicted; 0 keeps none (docs/operations.md sizes it)")
}

// validateDB checks the database flags against each other and the rest.
func (c *config) validateDB() error {
	d := &c.db
	switch {
	case d.url != "" && c.roster != "":
		return errors.New("--db and --roster are exclusive: the roster comes from one or the other")
	case d.url == "" && (d.migrate || d.reloadAt != ""):
		return errors.New("--db-migrate and --reload-at need --db")
	case d.moveMiles < 0 || math.IsNaN(d.moveMiles):
		return errors.New("--move-miles must be ≥ 0")
	case d.backoffMin <= 0 || d.backoffMax < d.backoffMin:
		return errors.New("--reload-backoff-min must be positive and at most --reload-backoff-max")
	case d.replayCache < 0:
		return errors.New("--replay-cache must be ≥ 0")
	}
	if d.reloadAt != "" {
		if _, err := serving.ParseClockTime(d.reloadAt); err != nil {
			return fmt.Errorf("--reload-at: %w", err)
		}
	}
	return nil
}

// replayConfig is the replays' configuration: --replay-cache 0 keeps no
// version.
func (d *dbConfig) replayConfig(log *slog.Logger) serving.ReplayConfig {
	n := d.replayCache
	if n == 0 {
		n = -1
	}
	return serving.ReplayConfig{Versions: n, Logger: log}
}

// reloadConfig is the reloader's configuration: every value as given,
// 0% and 0 miles included.
func (d *dbConfig) reloadConfig(loc *time.Location) serving.ReloadConfig {
	rc := serving.ReloadConfig{MaxShrink: adequacy.MaxShrink(float64(d.maxShrink)), MoveMiles: new(d.moveMiles),
		Location: loc, Backoff: serving.Backoff{Min: d.backoffMin, Max: d.backoffMax}}
	if d.reloadAt != "" {
		at, _ := serving.ParseClockTime(d.reloadAt) // validated with the flags
		rc.Daily = &at
	}
	return rc
}
