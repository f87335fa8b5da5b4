package pg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Status is a roster version's state.
type Status string

// A version is created loading and ends published or failed; a published
// version past retention is retired.
const (
	StatusLoading   Status = "loading"
	StatusPublished Status = "published"
	StatusFailed    Status = "failed"
	StatusRetired   Status = "retired"
)

// Version is a roster version's record.
type Version struct {
	ID          int64     `json:"id"`
	Label       string    `json:"version"` // "pg:<id>", as decisions cite it
	Status      Status    `json:"status"`
	Current     bool      `json:"current"` // the version served now
	CreatedAt   time.Time `json:"created_at"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	RetiredAt   time.Time `json:"retired_at,omitzero"`
	Source      string    `json:"source"`
	Checksum    string    `json:"sha256,omitempty"` // of the source file
	RowsRead    int       `json:"rows_read"`
	Providers   int       `json:"providers"` // rows accepted
	BadRows     int       `json:"bad_rows"`
	Forced      bool      `json:"forced,omitempty"` // published past the shrink guard
	Error       string    `json:"error,omitempty"`
	// Counts by discipline in report order; empty when the load failed
	// before the file was read to the end.
	Counts []DisciplineCounts `json:"counts,omitempty"`
}

// DisciplineCounts are one discipline's rows in a version.
type DisciplineCounts struct {
	Discipline     adequacy.Discipline `json:"discipline"`
	Providers      int                 `json:"providers"`
	Participating  int                 `json:"participating"`
	TelehealthOnly int                 `json:"telehealth_only"` // participating and telehealth-only
}

// Stats are the counts as network statistics, for the shrink guard.
func (v *Version) Stats() adequacy.NetworkStats {
	var s adequacy.NetworkStats
	for _, c := range v.Counts {
		s.Participating[c.Discipline] = c.Participating
		s.NonParticipating[c.Discipline] = c.Providers - c.Participating
		s.TelehealthOnly[c.Discipline] = c.TelehealthOnly
		s.Total += c.Providers
	}
	return s
}

// Label is the roster version string of version id: "pg:<id>".
func Label(id int64) string { return "pg:" + strconv.FormatInt(id, 10) }

// ParseVersion accepts a version id as "42" or "pg:42"; anything else is
// adequacy.ErrBadVersion.
func ParseVersion(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(s), "pg:"), 10, 64)
	if err != nil || id <= 0 {
		return 0, adequacy.NewVersionError(adequacy.VersionBad, fmt.Errorf("roster version %q: want an id such as 42 or pg:42", adequacy.Excerpt(s)))
	}
	return id, nil
}

const versionColumns = `v.id, v.status, v.created_at, v.finished_at, v.published_at, v.retired_at, v.source, v.checksum,
	v.rows_read, v.providers, v.bad_rows, v.forced, v.error, c.version_id IS NOT NULL`

const versionFrom = ` FROM roster_versions v LEFT JOIN roster_current c ON c.version_id = v.id`

func scanVersion(row pgx.Row) (Version, error) {
	var v Version
	var fin, pub, ret *time.Time
	err := row.Scan(&v.ID, &v.Status, &v.CreatedAt, &fin, &pub, &ret, &v.Source, &v.Checksum,
		&v.RowsRead, &v.Providers, &v.BadRows, &v.Forced, &v.Error, &v.Current)
	if err != nil {
		return v, err
	}
	v.Label = Label(v.ID)
	for _, t := range []struct {
		src *time.Time
		dst *time.Time
	}{{fin, &v.FinishedAt}, {pub, &v.PublishedAt}, {ret, &v.RetiredAt}} {
		if t.src != nil {
			*t.dst = t.src.UTC()
		}
	}
	v.CreatedAt = v.CreatedAt.UTC()
	return v, nil
}

// queryer runs queries: a pool, a connection or a transaction.
type queryer interface {
	querier
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// getVersion reads one version with its counts.
func getVersion(ctx context.Context, q queryer, id int64) (*Version, error) {
	v, err := scanVersion(q.QueryRow(ctx, `SELECT `+versionColumns+versionFrom+` WHERE v.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %d", ErrNoSuchVersion, id)
	}
	if err != nil {
		return nil, err
	}
	vs := []*Version{&v}
	if err := fillCounts(ctx, q, vs); err != nil {
		return nil, err
	}
	return &v, nil
}

func fillCounts(ctx context.Context, q queryer, vs []*Version) error {
	if len(vs) == 0 {
		return nil
	}
	ids := make([]int64, len(vs))
	byID := make(map[int64]*Version, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
		byID[v.ID] = v
	}
	rows, err := q.Query(ctx, `SELECT version_id, discipline, providers, participating, telehealth_only
		FROM roster_version_counts WHERE version_id = ANY($1)`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var disc string
		var c DisciplineCounts
		if err := rows.Scan(&id, &disc, &c.Providers, &c.Participating, &c.TelehealthOnly); err != nil {
			return err
		}
		if c.Discipline, err = adequacy.ParseDiscipline(disc); err != nil {
			return fmt.Errorf("version %d counts: %w", id, err)
		}
		byID[id].Counts = append(byID[id].Counts, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range vs {
		sortCounts(v.Counts)
	}
	return nil
}

func sortCounts(cs []DisciplineCounts) {
	slices.SortFunc(cs, func(a, b DisciplineCounts) int { return cmp.Compare(a.Discipline, b.Discipline) })
}

// GetVersion reads a version's record; ErrNoSuchVersion if there is none.
func GetVersion(ctx context.Context, pool *pgxpool.Pool, id int64) (*Version, error) {
	v, err := getVersion(ctx, pool, id)
	if err != nil {
		return nil, fmt.Errorf("roster version %d: %w", id, err)
	}
	return v, nil
}

// CurrentVersion reads the current version's record without its
// providers: cheap enough to poll. ErrNoPublishedRoster if none.
func CurrentVersion(ctx context.Context, pool *pgxpool.Pool) (*Version, error) {
	v, err := currentVersion(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("current roster version: %w", err)
	}
	return v, nil
}

func currentVersion(ctx context.Context, q queryer) (*Version, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT version_id FROM roster_current`).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoPublishedRoster
	}
	if err != nil {
		return nil, err
	}
	return getVersion(ctx, q, id)
}

// ListOptions control List.
type ListOptions struct {
	Limit int // newest first; 0 = all
}

// List reads version records, newest first, with their counts.
func List(ctx context.Context, pool *pgxpool.Pool, opts ListOptions) ([]Version, error) {
	sql := `SELECT ` + versionColumns + versionFrom + ` ORDER BY v.id DESC`
	args := []any{}
	if opts.Limit > 0 {
		sql += ` LIMIT $1`
		args = append(args, opts.Limit)
	}
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list roster versions: %w", err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) { return scanVersion(r) })
	if err != nil {
		return nil, fmt.Errorf("list roster versions: %w", err)
	}
	ptrs := make([]*Version, len(vs))
	for i := range vs {
		ptrs[i] = &vs[i]
	}
	if err := fillCounts(ctx, pool, ptrs); err != nil {
		return nil, fmt.Errorf("list roster versions: %w", err)
	}
	return vs, nil
}

// PublishOptions control SetCurrent.
type PublishOptions struct {
	MaxShrink adequacy.ShrinkLimit // see LoadOptions.MaxShrink; zero = the default
	Force     bool
}

// SetCurrent makes a published version the current one again — a
// rollback to a known good roster — and notifies listeners. The shrink
// guard applies against the version it replaces unless forced.
func SetCurrent(ctx context.Context, pool *pgxpool.Pool, id int64, opts PublishOptions) (*Version, error) {
	v, err := setCurrent(ctx, pool, id, opts)
	if err != nil {
		return nil, fmt.Errorf("set current roster version %d: %w", id, err)
	}
	return v, nil
}

func setCurrent(ctx context.Context, pool *pgxpool.Pool, id int64, opts PublishOptions) (*Version, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	if err := xactLock(ctx, tx, lockPublish); err != nil {
		return nil, err
	}
	v, err := getVersion(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := servable(v); err != nil {
		return nil, err
	}
	if v.Current {
		return v, nil
	}
	cur, err := currentVersion(ctx, tx)
	if err != nil && !errors.Is(err, ErrNoPublishedRoster) {
		return nil, err
	}
	if cur != nil && !opts.Force {
		if err := opts.MaxShrink.Check(cur.Stats(), v.Stats()); err != nil {
			return nil, err
		}
	}
	if err := makeCurrent(ctx, tx, id); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	v.Current = true
	return v, nil
}

// servable says why a version cannot be served, if it cannot.
func servable(v *Version) error {
	switch v.Status {
	case StatusPublished:
		return nil
	case StatusRetired:
		return fmt.Errorf("%w (version %d, retired %s)", ErrRetired, v.ID, v.RetiredAt.Format(time.RFC3339))
	}
	return fmt.Errorf("%w (version %d is %s)", ErrNotPublished, v.ID, v.Status)
}

// Channel is the LISTEN/NOTIFY channel a publish notifies, with the new
// current version's id as the payload.
const Channel = "geoaccess_roster"

// makeCurrent points roster_current at id and notifies, in the caller's
// transaction: listeners hear of it exactly when it commits.
func makeCurrent(ctx context.Context, tx pgx.Tx, id int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO roster_current (version_id, since) VALUES ($1, clock_timestamp())
		ON CONFLICT (singleton) DO UPDATE SET version_id = EXCLUDED.version_id, since = EXCLUDED.since`, id); err != nil {
		return fmt.Errorf("set current: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, strconv.FormatInt(id, 10)); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// Retire applies retention: it keeps the current version and the keep-1
// most recently published others, and retires the rest — their providers
// are deleted (the partition dropped), their records kept for audit. It
// returns the ids retired. keep must be at least 1.
//
// Dropping a partition locks the providers table for an instant, so
// Retire waits at most 10 seconds for the lock and otherwise fails
// without retiring anything; it is safe to run again.
func Retire(ctx context.Context, pool *pgxpool.Pool, keep int) ([]int64, error) {
	if keep < 1 {
		return nil, fmt.Errorf("retire roster versions: keep %d: must keep at least 1", keep)
	}
	ids, err := retire(ctx, pool, keep)
	if err != nil {
		return nil, fmt.Errorf("retire roster versions (keep %d): %w", keep, err)
	}
	return ids, nil
}

func retire(ctx context.Context, pool *pgxpool.Pool, keep int) ([]int64, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '10s'`); err != nil {
		return nil, err
	}
	if err := xactLock(ctx, tx, lockPublish); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT v.id FROM roster_versions v
		WHERE v.status = 'published' AND v.id NOT IN (SELECT version_id FROM roster_current)
		ORDER BY v.published_at DESC, v.id DESC OFFSET $1`, keep-1)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+partition(id)); err != nil {
			return nil, fmt.Errorf("drop providers of version %d: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE roster_versions SET status = 'retired', retired_at = clock_timestamp() WHERE id = $1`, id); err != nil {
			return nil, fmt.Errorf("retire version %d: %w", id, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return ids, nil
}

// partition is the quoted name of a version's providers partition.
func partition(id int64) string {
	return pgx.Identifier{"providers_v" + strconv.FormatInt(id, 10)}.Sanitize()
}

// RecoverAbandoned marks failed every version still loading whose loader
// is gone (its process or the database server died mid-load): nothing of
// such a load was published, since a load publishes in the transaction
// that copies its rows. Load calls it first; a server may call it at
// start. It returns the ids it marked.
func RecoverAbandoned(ctx context.Context, pool *pgxpool.Pool) ([]int64, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("recover abandoned loads: %w", err)
	}
	defer conn.Release()
	ids, err := recoverAbandoned(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("recover abandoned loads: %w", err)
	}
	return ids, nil
}

// recoverAbandoned needs one session: a live load holds a session lock on
// its version, so a lock this session gets means the loader is gone.
func recoverAbandoned(ctx context.Context, conn queryer) ([]int64, error) {
	rows, err := conn.Query(ctx, `SELECT id FROM roster_versions WHERE status = 'loading' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	loading, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	var marked []int64
	for _, id := range loading {
		ok, err := trySessionLock(ctx, conn, loadLockName(id))
		if err != nil {
			return marked, err
		}
		if !ok {
			continue // a live load
		}
		tag, err := conn.Exec(ctx, `UPDATE roster_versions SET status = 'failed', finished_at = clock_timestamp(),
			error = 'abandoned: the load stopped before publishing (loader or database server went away)'
			WHERE id = $1 AND status = 'loading'`, id)
		if err == nil {
			// Only a version marked just now can have left anything
			// behind; its staging table died with its transaction, but
			// make sure.
			if tag.RowsAffected() == 1 {
				marked = append(marked, id)
				_, err = conn.Exec(ctx, `DROP TABLE IF EXISTS `+partition(id))
			}
		}
		if uerr := sessionUnlock(ctx, conn, loadLockName(id)); err == nil {
			err = uerr
		}
		if err != nil {
			return marked, err
		}
	}
	return marked, nil
}
