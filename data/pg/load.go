package pg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
)

// LoadOptions control Load.
type LoadOptions struct {
	// Source is recorded with the version: the file name, or what the
	// loader wants operators to see.
	Source string
	// Counties, if not nil, places providers without county_fips by point
	// in polygon and rejects a county_fips it does not know (as
	// data.ReadRoster does).
	Counties *geo.CountyMap
	// MaxBadRows: more bad rows than this fail the load; 0 allows none,
	// negative means no limit. Bad rows are never loaded, always reported.
	MaxBadRows int
	// MaxShrink is the shrink guard: how far any discipline's
	// participating providers may fall against the current version. The
	// zero value is adequacy.DefaultMaxShrink (20%);
	// adequacy.MaxShrink(0) allows no fall, adequacy.NoShrinkLimit any.
	MaxShrink adequacy.ShrinkLimit
	// Force publishes past the shrink guard; the version records it.
	Force bool
	// Vocabulary resolves the designations and services columns (see
	// data.RosterOptions); nil means the embedded one.
	Vocabulary *adequacy.Vocabulary
	// OnBadRow, if set, is called with each bad row's errors as they are
	// found, from the goroutine reading the file.
	OnBadRow func([]data.RowError)

	// afterRow is a test hook called after each row handed to COPY, with
	// the count so far; it runs on the goroutine feeding the COPY.
	afterRow func(n int)
}

// LoadResult is what a load did.
type LoadResult struct {
	// Version is the version's record after the load: published, or
	// failed with its error; nil if the load failed before creating it.
	Version *Version
	// Report counts the rows read, accepted and rejected, lists every bad
	// row's errors, and has the file's SHA-256 when it was read to the end.
	Report data.RosterReport
	// Previous is the version that was current before, if any: the one
	// replaced, or the one that stays current when the load fails.
	Previous *Version
	// Shrinks compares participating counts with Previous, by discipline.
	Shrinks []adequacy.Shrink

	counts []discCounts // by discipline, when the whole file was read
}

// Load streams a roster CSV into PostgreSQL as a new version and
// publishes it. The rows go through data.RosterReader (every bad row
// reported with line, column and reason, never loaded) and COPY into a
// staging partition in one transaction, which also checks the bad-row
// limit and the shrink guard, attaches the partition, marks the version
// published, makes it current and notifies Channel. So a load publishes
// everything or nothing: on any failure — bad rows past the limit, the
// shrink guard, a roster with no participating in-person provider (a
// header and nothing else, say), the database going away — the
// transaction rolls back (the staged rows vanish with it), the version is
// marked failed with the reason, and the current version stays current.
//
// The error wraps *data.BadRows (data.ErrTooManyBadRows),
// *adequacy.ShrinkError (ErrShrink) or ErrEmptyRoster when the roster was
// refused. The result is never nil.
func Load(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts LoadOptions) (*LoadResult, error) {
	res := &LoadResult{}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("load roster %s: %w", opts.Source, err)
	}
	defer conn.Release()
	if _, err := recoverAbandoned(ctx, conn); err != nil {
		return res, fmt.Errorf("load roster %s: recover abandoned loads: %w", opts.Source, err)
	}
	// For the report; the publish step reads it again under its lock.
	if prev, err := currentVersion(ctx, conn); err == nil {
		res.Previous = prev
	} else if !errors.Is(err, ErrNoPublishedRoster) {
		return res, fmt.Errorf("load roster %s: current version: %w", opts.Source, err)
	}
	id, err := createVersion(ctx, conn, opts.Source)
	if err != nil {
		return res, fmt.Errorf("load roster %s: %w", opts.Source, err)
	}
	lerr := loadVersion(ctx, conn.Conn(), id, r, opts, res)
	if lerr != nil && ctx.Err() != nil && !errors.Is(lerr, ctx.Err()) {
		// pgx may report a cancelled COPY as the closed connection it left.
		lerr = fmt.Errorf("%w (%v)", ctx.Err(), lerr)
	}
	// Record the outcome on another connection: this one may be dead, and
	// ctx may be what ended the load.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if lerr != nil {
		if ferr := markFailed(bg, pool, id, lerr, res); ferr != nil {
			lerr = fmt.Errorf("%w (and recording the failure: %v; the next load marks it failed)", lerr, ferr)
		}
	}
	// A closed connection took its lock with it (and the pool drops it);
	// a session that may still hold the lock is never pooled again.
	if !conn.Conn().IsClosed() {
		if err := sessionUnlock(bg, conn, loadLockName(id)); err != nil {
			conn.Hijack().Close(bg)
		}
	}
	if v, err := getVersion(bg, pool, id); err == nil {
		res.Version = v
		// A commit whose acknowledgement was lost may still have landed.
		if lerr != nil && v.Status == StatusPublished {
			lerr = nil
		}
	}
	if lerr != nil {
		return res, fmt.Errorf("load roster %s as version %d: %w", opts.Source, id, lerr)
	}
	return res, nil
}

// createVersion records a new version as loading and takes its load lock
// in the same transaction, so no RecoverAbandoned ever sees it unlocked.
func createVersion(ctx context.Context, conn *pgxpool.Conn, source string) (int64, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO roster_versions (source) VALUES ($1) RETURNING id`, source).Scan(&id); err != nil {
		return 0, fmt.Errorf("create version: %w", err)
	}
	// A session lock taken in a transaction outlives its commit.
	if err := sessionLock(ctx, tx, loadLockName(id)); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("create version: %w", err)
	}
	return id, nil
}

// copyColumns are the providers columns COPY fills, in copyRow order.
var copyColumns = []string{"version_id", "row_no", "line", "npi", "discipline", "name", "lat", "lon",
	"address1", "address2", "city", "state", "zip", "county_fips", "network",
	"participating", "telehealth_only", "accepting_new_patients", "effective_date", "termination_date",
	"networks", "designations", "services"}

func loadVersion(ctx context.Context, conn *pgx.Conn, id int64, r io.Reader, opts LoadOptions, res *LoadResult) error {
	rd, err := data.NewRosterReader(r, data.RosterOptions{Counties: opts.Counties, Vocabulary: opts.Vocabulary})
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	table := partition(id)
	// The staging table: a partition-to-be, attached when published. It
	// exists only inside this transaction until then. The CHECK lets
	// ATTACH skip scanning the rows for the partition bound.
	if _, err := tx.Exec(ctx, `CREATE TABLE `+table+` (LIKE providers INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
		CHECK (version_id = `+strconv.FormatInt(id, 10)+`))`); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	src := startCopySource(ctx, rd, id, opts)
	_, cerr := tx.CopyFrom(ctx, pgx.Identifier{"providers_v" + strconv.FormatInt(id, 10)}, copyColumns, src)
	src.stop()
	res.Report = rd.Report
	if !src.tooMany && src.readErr == nil && rd.Report.SHA256 != "" {
		res.counts = src.counts
	}
	if src.tooMany {
		return &data.BadRows{File: opts.Source, Rows: rd.Report.Rows, Bad: rd.Report.Bad, Limit: opts.MaxBadRows, Errors: rd.Report.Errors}
	}
	if src.readErr != nil {
		return fmt.Errorf("read: %w", src.readErr)
	}
	if cerr != nil {
		return fmt.Errorf("copy: %w", cerr)
	}
	// A roster without one participating in-person provider would leave
	// every member unserved: never published (ErrEmptyRoster).
	if err := src.stats().Servable(); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE `+table+` ADD PRIMARY KEY (version_id, row_no)`); err != nil {
		return fmt.Errorf("index: %w", err)
	}

	// Publish: one publisher at a time, so the shrink guard compares with
	// the version this one really replaces.
	if err := xactLock(ctx, tx, lockPublish); err != nil {
		return err
	}
	stats := src.stats()
	prev, err := currentVersion(ctx, tx)
	if err != nil && !errors.Is(err, ErrNoPublishedRoster) {
		return fmt.Errorf("current version: %w", err)
	}
	forced := false
	res.Previous = prev
	if prev != nil {
		res.Shrinks = adequacy.Shrinks(prev.Stats(), stats)
		if err := opts.MaxShrink.Check(prev.Stats(), stats); err != nil {
			if !opts.Force {
				return fmt.Errorf("against version %d: %w (force to publish anyway)", prev.ID, err)
			}
			forced = true
		}
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE providers ATTACH PARTITION `+table+` FOR VALUES IN (`+strconv.FormatInt(id, 10)+`)`); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	rep := &rd.Report
	if _, err := tx.Exec(ctx, `UPDATE roster_versions SET status = 'published', finished_at = clock_timestamp(),
		published_at = clock_timestamp(), checksum = $2, rows_read = $3, providers = $4, bad_rows = $5, forced = $6
		WHERE id = $1`, id, rep.SHA256, rep.Rows, rep.Accepted, rep.Bad, forced); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := insertCounts(ctx, tx, id, src.counts); err != nil {
		return err
	}
	if err := makeCurrent(ctx, tx, id); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

type discCounts struct{ providers, participating, telehealth int }

func insertCounts(ctx context.Context, q querier, id int64, counts []discCounts) error {
	var ds []string
	var n, p, t []int32
	for _, d := range adequacy.Disciplines {
		c := counts[d]
		ds = append(ds, d.String())
		n, p, t = append(n, int32(c.providers)), append(p, int32(c.participating)), append(t, int32(c.telehealth))
	}
	if _, err := q.Exec(ctx, `INSERT INTO roster_version_counts (version_id, discipline, providers, participating, telehealth_only)
		SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[], $5::int[])`, id, ds, n, p, t); err != nil {
		return fmt.Errorf("record counts: %w", err)
	}
	return nil
}

// markFailed records why a load failed, unless it published after all.
func markFailed(ctx context.Context, pool *pgxpool.Pool, id int64, cause error, res *LoadResult) error {
	msg := cause.Error()
	if len(msg) > 4000 {
		msg = msg[:4000] + "…"
	}
	rep := &res.Report
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `UPDATE roster_versions SET status = 'failed', finished_at = clock_timestamp(), error = $2,
		checksum = $3, rows_read = $4, providers = $5, bad_rows = $6 WHERE id = $1 AND status = 'loading'`,
		id, msg, rep.SHA256, rep.Rows, rep.Accepted, rep.Bad)
	if err != nil {
		return err
	}
	// Counts help explain a refusal (the shrink guard); they are only
	// meaningful for a file read to its end.
	if tag.RowsAffected() == 1 && res.counts != nil {
		if err := insertCounts(ctx, tx, id, res.counts); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// copyRow is one provider as COPY sends it. Values hands pgx pointers
// into it: boxing a pointer in an interface allocates nothing.
type copyRow struct {
	p           adequacy.Provider
	rowNo, line int32
	eff, term   pgtype.Date
	network     string // the deprecated single network: the first of p.Networks
}

const batchRows = 512

type copyBatch struct {
	rows []copyRow
	err  error // the reader failed or too many bad rows: abort the COPY
}

// copySource feeds pgx's CopyFrom from a goroutine reading the CSV, so
// parsing and encoding run on two cores.
type copySource struct {
	ch      chan *copyBatch
	free    chan *copyBatch
	quit    chan struct{}
	done    chan struct{}
	cur     *copyBatch
	i       int
	vid     int64
	vals    []any
	err     error
	sent    int
	onRow   func(int)
	reader  *data.RosterReader
	maxBad  int
	onBad   func([]data.RowError)
	discs   []string // discipline codes, addressable
	tooMany bool     // set by the producer before done closes
	readErr error
	rows    int
	counts  []discCounts
}

func startCopySource(ctx context.Context, rd *data.RosterReader, id int64, opts LoadOptions) *copySource {
	s := &copySource{
		ch: make(chan *copyBatch, 4), free: make(chan *copyBatch, 6), quit: make(chan struct{}), done: make(chan struct{}),
		i: -1, vid: id, vals: make([]any, len(copyColumns)), onRow: opts.afterRow,
		reader: rd, maxBad: opts.MaxBadRows, onBad: opts.OnBadRow, counts: make([]discCounts, len(adequacy.Disciplines)),
	}
	for _, d := range adequacy.Disciplines {
		s.discs = append(s.discs, d.String())
	}
	go s.produce(ctx)
	return s
}

// stop ends the producer (the COPY is over) and waits for it.
func (s *copySource) stop() {
	close(s.quit)
	<-s.done
}

func (s *copySource) stats() adequacy.NetworkStats {
	var st adequacy.NetworkStats
	for _, d := range adequacy.Disciplines {
		c := s.counts[d]
		st.Participating[d] = c.participating
		st.NonParticipating[d] = c.providers - c.participating
		st.TelehealthOnly[d] = c.telehealth
		st.Total += c.providers
	}
	return st
}

// produce reads the CSV into batches. Past the bad-row limit it aborts
// the COPY but reads on, so the report lists every bad row in the file.
func (s *copySource) produce(ctx context.Context) {
	defer close(s.done)
	defer close(s.ch)
	send := func(b *copyBatch) bool {
		select {
		case s.ch <- b:
			return true
		case <-s.quit:
			return false
		}
	}
	b := &copyBatch{rows: make([]copyRow, 0, batchRows)}
	var rowNo int32
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			s.readErr = ctx.Err()
			send(&copyBatch{err: s.readErr})
			return
		}
		p, line, errs, err := s.reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.readErr = err
			send(&copyBatch{err: err})
			return
		}
		if len(errs) > 0 {
			if s.onBad != nil {
				s.onBad(errs)
			}
			if !s.tooMany && s.maxBad >= 0 && s.reader.Report.Bad > s.maxBad {
				s.tooMany = true
				if !send(&copyBatch{err: data.ErrTooManyBadRows}) {
					return
				}
			}
			continue
		}
		if s.tooMany {
			continue
		}
		c := &s.counts[p.Discipline]
		c.providers++
		if p.Participating {
			c.participating++
			if p.TelehealthOnly {
				c.telehealth++
			}
		}
		r := copyRow{p: p, rowNo: rowNo, line: int32(line), eff: pgDate(p.Effective), term: pgDate(p.Termination)}
		if len(p.Networks) > 0 {
			r.network = p.Networks[0]
		}
		b.rows = append(b.rows, r)
		rowNo++
		if len(b.rows) == batchRows {
			if !send(b) {
				return
			}
			select {
			case b = <-s.free:
				b.rows = b.rows[:0]
			default:
				b = &copyBatch{rows: make([]copyRow, 0, batchRows)}
			}
		}
	}
	s.rows = int(rowNo)
	if !s.tooMany && len(b.rows) > 0 {
		send(b)
	}
}

// codeList sends a list of codes to COPY as a text[]: an empty list as
// '{}' (a nil []string would go as NULL), and without a heap allocation
// per element (pgx boxes each element of a []string in an interface).
type codeList []string

// codeText is one element; a pointer to it boxes without allocating.
type codeText string

func (t *codeText) TextValue() (pgtype.Text, error) {
	return pgtype.Text{String: string(*t), Valid: true}, nil
}

// arrayDims are the one-dimensional shapes of short lists, made once.
var arrayDims = func() (d [data.MaxCodesPerCell + 1][]pgtype.ArrayDimension) {
	d[0] = []pgtype.ArrayDimension{} // not nil: nil is NULL
	for n := 1; n < len(d); n++ {
		d[n] = []pgtype.ArrayDimension{{Length: int32(n), LowerBound: 1}}
	}
	return d
}()

// Dimensions, Index and IndexType implement pgtype.ArrayGetter.
func (l *codeList) Dimensions() []pgtype.ArrayDimension {
	if n := len(*l); n < len(arrayDims) {
		return arrayDims[n]
	}
	return []pgtype.ArrayDimension{{Length: int32(len(*l)), LowerBound: 1}}
}

func (l *codeList) Index(i int) any { return (*codeText)(&(*l)[i]) }

func (l *codeList) IndexType() any { return (*codeText)(nil) }

func pgDate(d adequacy.Date) pgtype.Date {
	if d.IsZero() {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: d.Time(), Valid: true}
}

// Next implements pgx.CopyFromSource.
func (s *copySource) Next() bool {
	if s.cur != nil && s.i+1 < len(s.cur.rows) {
		s.i++
		s.afterRow()
		return true
	}
	if s.cur != nil {
		// pgx has encoded every row of it: reuse it.
		select {
		case s.free <- s.cur:
		default:
		}
		s.cur = nil
	}
	b, ok := <-s.ch
	if !ok {
		return false
	}
	if b.err != nil {
		s.err = b.err
		return false
	}
	s.cur, s.i = b, 0
	s.afterRow()
	return true
}

func (s *copySource) afterRow() {
	s.sent++
	if s.onRow != nil {
		s.onRow(s.sent)
	}
}

// Values implements pgx.CopyFromSource, in copyColumns order.
func (s *copySource) Values() ([]any, error) {
	r := &s.cur.rows[s.i]
	p := &r.p
	v := s.vals
	v[0], v[1], v[2], v[3], v[4], v[5] = &s.vid, &r.rowNo, &r.line, &p.NPI, &s.discs[p.Discipline], &p.Name
	v[6], v[7] = &p.Location.Lat, &p.Location.Lon
	v[8], v[9], v[10], v[11], v[12] = &p.Address.Line1, &p.Address.Line2, &p.Address.City, &p.Address.State, &p.Address.ZIP
	v[13], v[14], v[15], v[16], v[17] = &p.CountyFIPS, &r.network, &p.Participating, &p.TelehealthOnly, &p.AcceptingNewPatients
	v[18], v[19] = &r.eff, &r.term
	v[20], v[21], v[22] = (*codeList)(&p.Networks), (*codeList)(&p.Designations), (*codeList)(&p.Services)
	return v, nil
}

// Err implements pgx.CopyFromSource.
func (s *copySource) Err() error { return s.err }
