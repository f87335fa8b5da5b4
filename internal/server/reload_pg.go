package server

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/pg"
)

// PGSource serves roster versions from PostgreSQL (package data/pg): the
// current version is the roster_current pointer, publishes are heard by
// LISTEN/NOTIFY. It only reads, so the server's database role needs only
// SELECT.
type PGSource struct {
	Pool *pgxpool.Pool
	// Listen backoff between reconnections (pg.ListenOptions); zero
	// values take pg.Listen's defaults (250ms doubling to 30s).
	ListenMinBackoff, ListenMaxBackoff time.Duration
}

// Name implements VersionSource.
func (s *PGSource) Name() string { return "postgres" }

// Current implements VersionSource.
func (s *PGSource) Current(ctx context.Context) (VersionInfo, error) {
	v, err := pg.CurrentVersion(ctx, s.Pool)
	if err != nil {
		return VersionInfo{}, err
	}
	return VersionInfo{Label: v.Label, Forced: v.Forced}, nil
}

// Lookup implements VersionSource.
func (s *PGSource) Lookup(ctx context.Context, version string) (VersionInfo, error) {
	id, err := pg.ParseVersion(version)
	if err != nil {
		return VersionInfo{}, err
	}
	v, err := pg.GetVersion(ctx, s.Pool, id)
	if err != nil {
		return VersionInfo{Label: pg.Label(id)}, err
	}
	if v.Status != pg.StatusPublished {
		return VersionInfo{Label: v.Label}, adequacy.NewVersionError(adequacy.VersionNotServable, errors.New("roster version "+v.Label+" is "+string(v.Status)))
	}
	return VersionInfo{Label: v.Label, Forced: v.Forced}, nil
}

// Read implements VersionSource.
func (s *PGSource) Read(ctx context.Context, v VersionInfo) (*adequacy.Roster, error) {
	id, err := pg.ParseVersion(v.Label)
	if err != nil {
		return nil, err
	}
	return pg.ReadRoster(ctx, s.Pool, id)
}

// Published implements VersionSource.
func (s *PGSource) Published(ctx context.Context, limit int) ([]VersionInfo, error) {
	// Failed and retired versions are interleaved with published ones;
	// read a few more records than wanted.
	vs, err := pg.List(ctx, s.Pool, pg.ListOptions{Limit: 4*limit + 8})
	if err != nil {
		return nil, err
	}
	var out []VersionInfo
	for _, v := range vs {
		if v.Status == pg.StatusPublished && len(out) < limit {
			out = append(out, VersionInfo{Label: v.Label, Forced: v.Forced})
		}
	}
	return out, nil
}

// Watch implements Watcher with pg.Listen.
func (s *PGSource) Watch(ctx context.Context, notify func(), state func(up bool, err error)) error {
	return pg.Listen(ctx, s.Pool, func(int64) { notify() }, pg.ListenOptions{
		MinBackoff: s.ListenMinBackoff, MaxBackoff: s.ListenMaxBackoff,
		OnConnect: func() { state(true, nil) },
		OnError:   func(err error) { state(false, err) },
	})
}
