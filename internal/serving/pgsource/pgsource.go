// Package pgsource serves roster versions from PostgreSQL (package
// data/pg) to a serving.Reloader — the current version is the
// roster_current pointer, publishes are heard by LISTEN/NOTIFY — and
// past roster and plans versions to serving.Replays. It is
// the only part of the serving side that speaks to the database, so the
// roster holder, the reloader and the gRPC server import no database
// driver.
package pgsource

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/serving"
)

// Source is a serving.VersionSource and serving.Watcher on a PostgreSQL
// pool. It only reads, so the server's database role needs only SELECT.
// Its errors about versions are data/pg's, which are adequacy's
// roster-version errors.
type Source struct {
	Pool *pgxpool.Pool
	// Listen backoff between reconnections (pg.ListenOptions); zero
	// values take pg.Listen's defaults (250ms doubling to 30s).
	ListenMinBackoff, ListenMaxBackoff time.Duration
}

// Name implements serving.VersionSource.
func (s *Source) Name() string { return "postgres" }

// Current implements serving.VersionSource.
func (s *Source) Current(ctx context.Context) (serving.VersionInfo, error) {
	v, err := pg.CurrentVersion(ctx, s.Pool)
	if err != nil {
		return serving.VersionInfo{}, err
	}
	return serving.VersionInfo{Label: v.Label, Forced: v.Forced}, nil
}

// Lookup implements serving.VersionSource.
func (s *Source) Lookup(ctx context.Context, version string) (serving.VersionInfo, error) {
	id, err := pg.ParseVersion(version)
	if err != nil {
		return serving.VersionInfo{}, err
	}
	v, err := pg.GetVersion(ctx, s.Pool, id)
	if err != nil {
		return serving.VersionInfo{Label: pg.Label(id)}, err
	}
	if v.Status != pg.StatusPublished {
		return serving.VersionInfo{Label: v.Label}, adequacy.NewVersionError(adequacy.VersionNotServable, errors.New("roster version "+v.Label+" is "+string(v.Status)))
	}
	return serving.VersionInfo{Label: v.Label, Forced: v.Forced}, nil
}

// Read implements serving.VersionSource.
func (s *Source) Read(ctx context.Context, v serving.VersionInfo) (*adequacy.Roster, error) {
	id, err := pg.ParseVersion(v.Label)
	if err != nil {
		return nil, err
	}
	return pg.ReadRoster(ctx, s.Pool, id)
}

// ReadPlans implements serving.PlansReader: a published plans version
// from the database, for replays of decisions made for a plan.
func (s *Source) ReadPlans(ctx context.Context, version string, profiles *adequacy.Profiles) (*adequacy.Plans, error) {
	id, err := pg.ParsePlansVersion(version)
	if err != nil {
		return nil, err
	}
	ps, _, err := pg.PlansVersion(ctx, s.Pool, id, profiles)
	return ps, err
}

// Published implements serving.VersionSource.
func (s *Source) Published(ctx context.Context, limit int) ([]serving.VersionInfo, error) {
	// Failed and retired versions are interleaved with published ones;
	// read a few more records than wanted.
	vs, err := pg.List(ctx, s.Pool, pg.ListOptions{Limit: 4*limit + 8})
	if err != nil {
		return nil, err
	}
	var out []serving.VersionInfo
	for _, v := range vs {
		if v.Status == pg.StatusPublished && len(out) < limit {
			out = append(out, serving.VersionInfo{Label: v.Label, Forced: v.Forced})
		}
	}
	return out, nil
}

// Watch implements serving.Watcher with pg.Listen.
func (s *Source) Watch(ctx context.Context, notify func(), state func(up bool, err error)) error {
	return pg.Listen(ctx, s.Pool, func(int64) { notify() }, pg.ListenOptions{
		MinBackoff: s.ListenMinBackoff, MaxBackoff: s.ListenMaxBackoff,
		OnConnect: func() { state(true, nil) },
		OnError:   func(err error) { state(false, err) },
	})
}

var (
	_ serving.VersionSource = (*Source)(nil)
	_ serving.Watcher       = (*Source)(nil)
	_ serving.VersionReader = (*Source)(nil)
	_ serving.PlansReader   = (*Source)(nil)
)
