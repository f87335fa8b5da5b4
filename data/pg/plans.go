package pg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
)

// Plan registries (plans files, package data) are versioned like rosters:
// each load is a row in plan_versions, published or failed; plan_current
// points at the version servers serve; a publish or a rollback notifies
// PlansChannel. A plans file is small (a plan is a row), so a load parses
// and validates the whole file before it touches the database, and
// publishes in one short transaction.

// PlansChannel is the LISTEN/NOTIFY channel a plans publish (load or
// rollback) notifies, with the new current version's id as the payload.
const PlansChannel = "geoaccess_plans"

// The plans-version errors: adequacy's version errors, with messages
// about plans.
var (
	// ErrNoPublishedPlans: no plans version has been published yet
	// (adequacy.ErrNoCurrentVersion).
	ErrNoPublishedPlans = adequacy.NewVersionError(adequacy.VersionNoneCurrent, errors.New("no plans version is published"))
)

// PlanVersion is a plans version's record.
type PlanVersion struct {
	ID          int64     `json:"id"`
	Label       string    `json:"version"` // "pg:<id>", the registry's Version
	Status      Status    `json:"status"`
	Current     bool      `json:"current"` // the version served now
	LoadedAt    time.Time `json:"loaded_at"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	RetiredAt   time.Time `json:"retired_at,omitzero"`
	Source      string    `json:"source"`
	SHA256      string    `json:"sha256,omitempty"` // of the plans file
	Plans       int       `json:"plans"`
	Error       string    `json:"error,omitempty"`
}

// ParsePlansVersion accepts a plans version id as "7" or "pg:7"; anything
// else is adequacy.ErrBadVersion.
func ParsePlansVersion(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(s), "pg:"), 10, 64)
	if err != nil || id <= 0 {
		return 0, adequacy.NewVersionError(adequacy.VersionBad, fmt.Errorf("plans version %q: want an id such as 7 or pg:7", adequacy.ExcerptN(s, 32)))
	}
	return id, nil
}

// PlansLoadOptions control LoadPlans.
type PlansLoadOptions struct {
	// Source is recorded with the version; "" records the file name.
	Source string
	// Profiles the plans are validated against: each plan's profile (and
	// pinned version) must be one of them. Required.
	Profiles *adequacy.Profiles
	// Counties expands service-area states to counties; nil: the
	// embedded county table.
	Counties *adequacy.Counties

	// beforeCommit is a test hook called in the publishing transaction
	// just before it commits.
	beforeCommit func()
}

// PlansLoadResult is what LoadPlans did.
type PlansLoadResult struct {
	// Version is the version's record: published, or failed with its
	// error; nil when not even the failure could be recorded.
	Version *PlanVersion
	// Previous is the version that was current before, if any: the one
	// replaced, or the one that stays current when the load fails.
	Previous *PlanVersion
	// Plans is the registry as published, its Version "pg:<id>".
	Plans *adequacy.Plans
}

// LoadPlans validates a plans file's contents (data.ParsePlans; file
// names it in errors) and publishes it as a new version: in one
// transaction it records the version, inserts its plans, makes it current
// and notifies PlansChannel. So a load publishes everything or nothing:
// a file that does not validate, or a database that fails mid-way, leaves
// the current version current and is recorded as a failed version with
// the reason. The error wraps *data.PlansError (data.ErrInvalidPlans) when
// the file was refused. The result is never nil.
func LoadPlans(ctx context.Context, pool *pgxpool.Pool, file string, b []byte, opts PlansLoadOptions) (*PlansLoadResult, error) {
	res := &PlansLoadResult{}
	source := opts.Source
	if source == "" {
		source = file
	}
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	if prev, err := currentPlanVersion(ctx, pool); err == nil {
		res.Previous = prev
	} else if !errors.Is(err, ErrNoPublishedPlans) {
		return res, fmt.Errorf("load plans %s: current version: %w", source, err)
	}
	if opts.Profiles == nil {
		return res, fmt.Errorf("load plans %s: no profiles to validate the plans against", source)
	}
	// Read back and record on a fresh context: ctx may be what ended the load.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	reg, err := data.ParsePlans(file, b, opts.Profiles, opts.Counties)
	if err == nil {
		var id int64
		id, err = publishPlans(ctx, pool, reg, source, sha, opts.beforeCommit, res)
		if id != 0 {
			// A commit whose acknowledgement was lost may have landed.
			v, gerr := getPlanVersion(bg, pool, id)
			if gerr == nil && v.Status == StatusPublished {
				res.Version = v
				// The same plans under the version's label; they validated above.
				ps := make([]adequacy.Plan, 0, reg.Len())
				for _, p := range reg.All() {
					ps = append(ps, *p)
				}
				if res.Plans, err = adequacy.NewPlans(v.Label, source, ps, nil); err != nil {
					return res, fmt.Errorf("load plans %s: published version %d: %w", source, id, err)
				}
				return res, nil
			}
			if err == nil { // committed, yet not published: only a concurrent edit could
				if gerr == nil {
					gerr = planServable(v)
				}
				return res, fmt.Errorf("load plans %s: committed version %d, but reading it back: %w", source, id, gerr)
			}
		}
	}
	v, ferr := recordFailedPlans(bg, pool, source, sha, err)
	if ferr != nil {
		return res, fmt.Errorf("load plans %s: %w (and recording the failure: %v)", source, err, ferr)
	}
	res.Version = v
	return res, fmt.Errorf("load plans %s as version %d: %w", source, v.ID, err)
}

// lockPlans serializes plans publishes and rollbacks.
const lockPlans = "plans"

func publishPlans(ctx context.Context, pool *pgxpool.Pool, reg *adequacy.Plans, source, sha string, beforeCommit func(), res *PlansLoadResult) (int64, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := xactLock(ctx, tx, lockPlans); err != nil {
		return 0, err
	}
	prev, err := currentPlanVersion(ctx, tx)
	if err != nil && !errors.Is(err, ErrNoPublishedPlans) {
		return 0, fmt.Errorf("current version: %w", err)
	}
	res.Previous = prev
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO plan_versions (source, sha256) VALUES ($1, $2) RETURNING id`, source, sha).Scan(&id); err != nil {
		return 0, fmt.Errorf("create version: %w", err)
	}
	all := reg.All()
	rows := make([][]any, len(all))
	for i, p := range all {
		rows[i] = []any{id, p.ID, p.Name, string(p.ProductLine), p.Profile, p.ProfileVersion, p.Networks, nonNil(p.ServiceArea),
			pgDate(p.Effective.From), pgDate(p.Effective.To)}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"plans"}, planColumns, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("insert plans: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE plan_versions SET status = 'published', finished_at = clock_timestamp(),
		published_at = clock_timestamp(), plans = $2 WHERE id = $1`, id, len(all)); err != nil {
		return 0, fmt.Errorf("publish: %w", err)
	}
	if err := makePlansCurrent(ctx, tx, id); err != nil {
		return 0, err
	}
	if beforeCommit != nil {
		beforeCommit()
	}
	// From here the version may exist: the caller checks.
	if err := tx.Commit(ctx); err != nil {
		return id, fmt.Errorf("commit: %w", err)
	}
	return id, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var planColumns = []string{"version_id", "plan_id", "name", "product_line", "profile", "profile_version",
	"networks", "service_area", "effective_from", "effective_to"}

// recordFailedPlans records a load that published nothing.
func recordFailedPlans(ctx context.Context, pool *pgxpool.Pool, source, sha string, cause error) (*PlanVersion, error) {
	msg := cause.Error()
	if len(msg) > 4000 {
		msg = msg[:4000] + "…"
	}
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO plan_versions (status, finished_at, source, sha256, error)
		VALUES ('failed', clock_timestamp(), $1, $2, $3) RETURNING id`, source, sha, msg).Scan(&id); err != nil {
		return nil, err
	}
	return getPlanVersion(ctx, pool, id)
}

// makePlansCurrent points plan_current at id and notifies, in the
// caller's transaction: listeners hear of it exactly when it commits.
func makePlansCurrent(ctx context.Context, tx pgx.Tx, id int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO plan_current (version_id, since) VALUES ($1, clock_timestamp())
		ON CONFLICT (singleton) DO UPDATE SET version_id = EXCLUDED.version_id, since = EXCLUDED.since`, id); err != nil {
		return fmt.Errorf("set current: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, PlansChannel, strconv.FormatInt(id, 10)); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

const planVersionColumns = `v.id, v.status, v.loaded_at, v.finished_at, v.published_at, v.retired_at, v.source, v.sha256,
	v.plans, v.error, c.version_id IS NOT NULL`

const planVersionFrom = ` FROM plan_versions v LEFT JOIN plan_current c ON c.version_id = v.id`

func scanPlanVersion(row pgx.Row) (PlanVersion, error) {
	var v PlanVersion
	var fin, pub, ret *time.Time
	err := row.Scan(&v.ID, &v.Status, &v.LoadedAt, &fin, &pub, &ret, &v.Source, &v.SHA256, &v.Plans, &v.Error, &v.Current)
	if err != nil {
		return v, err
	}
	v.Label = Label(v.ID)
	v.LoadedAt = v.LoadedAt.UTC()
	for _, t := range []struct{ src, dst *time.Time }{{fin, &v.FinishedAt}, {pub, &v.PublishedAt}, {ret, &v.RetiredAt}} {
		if t.src != nil {
			*t.dst = t.src.UTC()
		}
	}
	return v, nil
}

func getPlanVersion(ctx context.Context, q queryer, id int64) (*PlanVersion, error) {
	v, err := scanPlanVersion(q.QueryRow(ctx, `SELECT `+planVersionColumns+planVersionFrom+` WHERE v.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, adequacy.NewVersionError(adequacy.VersionUnknown, fmt.Errorf("no such plans version: %d", id))
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func currentPlanVersion(ctx context.Context, q queryer) (*PlanVersion, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT version_id FROM plan_current`).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoPublishedPlans
	}
	if err != nil {
		return nil, err
	}
	return getPlanVersion(ctx, q, id)
}

// GetPlanVersion reads a plans version's record; an error wrapping
// adequacy.ErrUnknownVersion if there is none.
func GetPlanVersion(ctx context.Context, pool *pgxpool.Pool, id int64) (*PlanVersion, error) {
	v, err := getPlanVersion(ctx, pool, id)
	if err != nil {
		return nil, fmt.Errorf("plans version %d: %w", id, err)
	}
	return v, nil
}

// CurrentPlanVersion reads the current plans version's record without its
// plans: cheap enough to poll. ErrNoPublishedPlans if none.
func CurrentPlanVersion(ctx context.Context, pool *pgxpool.Pool) (*PlanVersion, error) {
	v, err := currentPlanVersion(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("current plans version: %w", err)
	}
	return v, nil
}

// ListPlanVersions reads plans version records, newest first.
func ListPlanVersions(ctx context.Context, pool *pgxpool.Pool, opts ListOptions) ([]PlanVersion, error) {
	sql := `SELECT ` + planVersionColumns + planVersionFrom + ` ORDER BY v.id DESC`
	args := []any{}
	if opts.Limit > 0 {
		sql += ` LIMIT $1`
		args = append(args, opts.Limit)
	}
	rows, err := pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list plans versions: %w", err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PlanVersion, error) { return scanPlanVersion(r) })
	if err != nil {
		return nil, fmt.Errorf("list plans versions: %w", err)
	}
	return vs, nil
}

// planServable says why a plans version cannot be served, if it cannot.
func planServable(v *PlanVersion) error {
	switch v.Status {
	case StatusPublished:
		return nil
	case StatusRetired:
		return adequacy.NewVersionError(adequacy.VersionNotServable, fmt.Errorf("plans version %d is retired", v.ID))
	}
	return adequacy.NewVersionError(adequacy.VersionNotServable, fmt.Errorf("plans version %d is %s, not published", v.ID, v.Status))
}

// SetCurrentPlans makes a published plans version the current one again
// — a rollback — and notifies PlansChannel.
func SetCurrentPlans(ctx context.Context, pool *pgxpool.Pool, id int64) (*PlanVersion, error) {
	v, err := setCurrentPlans(ctx, pool, id)
	if err != nil {
		return nil, fmt.Errorf("set current plans version %d: %w", id, err)
	}
	return v, nil
}

func setCurrentPlans(ctx context.Context, pool *pgxpool.Pool, id int64) (*PlanVersion, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	if err := xactLock(ctx, tx, lockPlans); err != nil {
		return nil, err
	}
	v, err := getPlanVersion(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := planServable(v); err != nil {
		return nil, err
	}
	if v.Current {
		return v, nil
	}
	if err := makePlansCurrent(ctx, tx, id); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	v.Current = true
	return v, nil
}

// PlansVersion reads a published plans version as a registry whose
// Version is "pg:<id>" and Source the version's source, validated against
// profiles (adequacy.NewPlans) — the profiles of the reader, which may
// differ from the loader's. Any published version can be read, current or
// not. The errors are adequacy's version errors: VersionUnknown (no such
// version), VersionNotServable (failed or retired), VersionInvalidRows
// (its plans do not validate here: a profile or version this reader does
// not have).
func PlansVersion(ctx context.Context, pool *pgxpool.Pool, id int64, profiles *adequacy.Profiles) (*adequacy.Plans, *PlanVersion, error) {
	reg, v, err := readPlans(ctx, pool, id, profiles)
	if err != nil {
		return nil, v, fmt.Errorf("read plans version %d: %w", id, err)
	}
	return reg, v, nil
}

// CurrentPlans reads the current plans version (see PlansVersion);
// ErrNoPublishedPlans if none was ever published.
func CurrentPlans(ctx context.Context, pool *pgxpool.Pool, profiles *adequacy.Profiles) (*adequacy.Plans, *PlanVersion, error) {
	cur, err := currentPlanVersion(ctx, pool)
	if err != nil {
		return nil, nil, fmt.Errorf("read current plans: %w", err)
	}
	reg, v, err := readPlans(ctx, pool, cur.ID, profiles)
	if err != nil {
		return nil, v, fmt.Errorf("read current plans (version %d): %w", cur.ID, err)
	}
	return reg, v, nil
}

func readPlans(ctx context.Context, pool *pgxpool.Pool, id int64, profiles *adequacy.Profiles) (*adequacy.Plans, *PlanVersion, error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	v, err := getPlanVersion(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := planServable(v); err != nil {
		return nil, v, err
	}
	rows, err := tx.Query(ctx, `SELECT plan_id, name, product_line, profile, profile_version, networks, service_area,
		effective_from, effective_to FROM plans WHERE version_id = $1 ORDER BY plan_id`, id)
	if err != nil {
		return nil, v, err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (adequacy.Plan, error) {
		var p adequacy.Plan
		var line string
		var from, to pgtype.Date
		err := r.Scan(&p.ID, &p.Name, &line, &p.Profile, &p.ProfileVersion, &p.Networks, &p.ServiceArea, &from, &to)
		if err != nil {
			return p, err
		}
		p.ProductLine = adequacy.ProductLine(line)
		if p.Effective.From, err = fromPGDate(from); err == nil {
			p.Effective.To, err = fromPGDate(to)
		}
		if err != nil {
			return p, adequacy.NewVersionError(adequacy.VersionInvalidRows, fmt.Errorf("plan %s: effective date: %w", adequacy.ExcerptN(p.ID, 64), err))
		}
		return p, nil
	})
	if err != nil {
		return nil, v, err
	}
	if len(ps) != v.Plans {
		return nil, v, adequacy.NewVersionError(adequacy.VersionInvalidRows,
			fmt.Errorf("plans version %d has %d plan rows, its record says %d", id, len(ps), v.Plans))
	}
	reg, err := adequacy.NewPlans(Label(id), v.Source, ps, profiles)
	if err != nil {
		return nil, v, adequacy.NewVersionError(adequacy.VersionInvalidRows, err)
	}
	return reg, v, nil
}

func fromPGDate(d pgtype.Date) (adequacy.Date, error) {
	switch {
	case !d.Valid:
		return adequacy.Date{}, nil
	case d.InfinityModifier != pgtype.Finite:
		return adequacy.Date{}, errors.New("an infinite date")
	}
	return adequacy.DateOf(d.Time), nil
}
