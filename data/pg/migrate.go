package pg

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded schema change, migrations/NNNN_name.sql.
// Migrations are append-only: an applied one is never edited.
type Migration struct {
	Version  int
	Name     string
	SQL      string
	Checksum string // hex SHA-256 of SQL
}

// Migrations lists the embedded migrations in order.
func Migrations() []Migration {
	ms, err := parseMigrations(migrationFiles)
	if err != nil {
		panic(err) // the embedded files are checked by the tests
	}
	return ms
}

func parseMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || name == "" {
			return nil, fmt.Errorf("migration %s: want NNNN_name.sql", n)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: versions must run 1, 2, 3… without gaps", m.Version, m.Name)
		}
	}
	return ms, nil
}

// TxBeginner is a *pgxpool.Pool or a *pgx.Conn.
type TxBeginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// AppliedMigration is a row of schema_migrations.
type AppliedMigration struct {
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	Checksum  string    `json:"checksum"`
	AppliedAt time.Time `json:"applied_at"`
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT clock_timestamp()
)`

// Migrate applies the embedded migrations the database lacks, in one
// transaction under an advisory lock: two migrators (two servers starting
// with --migrate, a deploy job) never race, the second finds nothing to
// do, and a migration that fails leaves the schema as it was. It is
// idempotent, returns the migrations it applied, and refuses a database
// whose applied migrations differ from the embedded ones
// (ErrMigrationChanged). A database migrated by a newer geoaccess
// (ErrSchemaTooNew) is left alone, and that is not an error here: the
// newer schema is a superset; CheckSchema reports it.
func Migrate(ctx context.Context, db TxBeginner) ([]Migration, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := xactLock(ctx, tx, lockMigrate); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied, err := appliedMigrations(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	pending, err := pendingMigrations(applied)
	if err != nil && !errors.Is(err, ErrSchemaTooNew) {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, m := range pending {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("migrate: %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
			m.Version, m.Name, m.Checksum); err != nil {
			return nil, fmt.Errorf("migrate: record %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("migrate: commit: %w", err)
	}
	return pending, nil
}

// CheckSchema reports whether the database has exactly the embedded
// migrations: nil, or an error wrapping ErrSchemaNotMigrated,
// ErrSchemaTooNew or ErrMigrationChanged. A server that does not migrate
// at start calls it to fail fast with a clear message.
func CheckSchema(ctx context.Context, db TxBeginner) error {
	applied, err := MigrationStatus(ctx, db)
	if err != nil {
		return err
	}
	pending, err := pendingMigrations(applied)
	if err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	if len(pending) > 0 {
		return fmt.Errorf("check schema: %w: %d of %d migrations pending, first %04d_%s (run geoaccess db migrate)",
			ErrSchemaNotMigrated, len(pending), len(Migrations()), pending[0].Version, pending[0].Name)
	}
	return nil
}

// MigrationStatus lists the applied migrations; none when the database
// was never migrated.
func MigrationStatus(ctx context.Context, db TxBeginner) ([]AppliedMigration, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	defer tx.Rollback(ctx)
	applied, err := appliedMigrations(ctx, tx)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: never migrated
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	return applied, nil
}

func appliedMigrations(ctx context.Context, tx pgx.Tx) ([]AppliedMigration, error) {
	rows, err := tx.Query(ctx, `SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AppliedMigration, error) {
		var a AppliedMigration
		err := r.Scan(&a.Version, &a.Name, &a.Checksum, &a.AppliedAt)
		return a, err
	})
}

// pendingMigrations checks the applied migrations against the embedded
// ones and returns those not applied yet.
func pendingMigrations(applied []AppliedMigration) ([]Migration, error) {
	ms := Migrations()
	done := map[int]bool{}
	var tooNew []string
	for _, a := range applied {
		if a.Version > len(ms) {
			tooNew = append(tooNew, fmt.Sprintf("%04d_%s", a.Version, a.Name))
			continue
		}
		m := ms[a.Version-1]
		if a.Checksum != m.Checksum {
			return nil, fmt.Errorf("%w: %04d_%s (applied %s…, embedded %s…)", ErrMigrationChanged, m.Version, m.Name, a.Checksum[:min(12, len(a.Checksum))], m.Checksum[:12])
		}
		done[a.Version] = true
	}
	var pending []Migration
	for _, m := range ms {
		if !done[m.Version] {
			pending = append(pending, m)
		}
	}
	if len(tooNew) > 0 {
		return pending, fmt.Errorf("%w: applied %s", ErrSchemaTooNew, strings.Join(tooNew, ", "))
	}
	return pending, nil
}
