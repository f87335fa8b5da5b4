package pg

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Advisory lock names. Keys hash the name with the current schema, so
// deployments (and tests) sharing a database in different schemas never
// serialize each other.
const (
	lockMigrate = "migrate"
	lockPublish = "publish" // publish, rollback, retention
)

const lockKeySQL = `hashtextextended('geoaccess.' || $1::text || ':' || coalesce(current_schema(), ''), 0)`

// querier is what pgx.Tx, *pgx.Conn and *pgxpool.Conn have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// xactLock takes a transaction-level advisory lock, waiting for it.
func xactLock(ctx context.Context, q querier, name string) error {
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(`+lockKeySQL+`)`, name); err != nil {
		return fmt.Errorf("advisory lock %s: %w", name, err)
	}
	return nil
}

// loadLockName names the session-level lock a load holds on its version.
func loadLockName(id int64) string { return "load:" + strconv.FormatInt(id, 10) }

// sessionLock takes a session-level advisory lock, waiting for it.
func sessionLock(ctx context.Context, q querier, name string) error {
	if _, err := q.Exec(ctx, `SELECT pg_advisory_lock(`+lockKeySQL+`)`, name); err != nil {
		return fmt.Errorf("advisory lock %s: %w", name, err)
	}
	return nil
}

// trySessionLock takes a session-level advisory lock if it is free.
func trySessionLock(ctx context.Context, q querier, name string) (bool, error) {
	var ok bool
	if err := q.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lockKeySQL+`)`, name).Scan(&ok); err != nil {
		return false, fmt.Errorf("advisory lock %s: %w", name, err)
	}
	return ok, nil
}

func sessionUnlock(ctx context.Context, q querier, name string) error {
	var ok bool
	if err := q.QueryRow(ctx, `SELECT pg_advisory_unlock(`+lockKeySQL+`)`, name).Scan(&ok); err != nil {
		return fmt.Errorf("advisory unlock %s: %w", name, err)
	}
	return nil
}
