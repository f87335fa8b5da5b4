package pg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
)

// ReadRoster reads a published version's providers, in the roster's
// order, as a roster whose Version is "pg:<id>", Source the version's
// source and LoadedAt the time of reading. Any published version can be
// read, current or not, to replay past decisions; ErrRetired,
// ErrNotPublished, ErrNoSuchVersion or ErrEmptyRoster (no participating
// in-person provider, so never served) say why one cannot.
//
// It is built for a server's reload: one read-only transaction, one
// sequential scan of the version's own partition (never the parent, so a
// concurrent retention does not block it), rows decoded straight from the
// wire into a slice sized in advance, and the repetitive strings (city,
// state, ZIP, county) and lists (networks, designations, services) shared
// rather than allocated per row.
func ReadRoster(ctx context.Context, pool *pgxpool.Pool, id int64) (*adequacy.Roster, error) {
	r, _, err := readRoster(ctx, pool, id, false)
	if err != nil {
		return nil, fmt.Errorf("read roster version %d: %w", id, err)
	}
	return r, nil
}

// ReadRosterCompact is ReadRoster returning the roster compactly
// (adequacy.Roster.Compact), built as the rows arrive: what a server
// serves, with about half the memory of the providers as values at the
// peak of a reload.
func ReadRosterCompact(ctx context.Context, pool *pgxpool.Pool, id int64) (*adequacy.Roster, error) {
	r, _, err := readRoster(ctx, pool, id, true)
	if err != nil {
		return nil, fmt.Errorf("read roster version %d: %w", id, err)
	}
	return r, nil
}

// Current reads the current version (see ReadRoster) and its record;
// ErrNoPublishedRoster if none was ever published.
func Current(ctx context.Context, pool *pgxpool.Pool) (*adequacy.Roster, *Version, error) {
	cur, err := currentVersion(ctx, pool)
	if err != nil {
		return nil, nil, fmt.Errorf("read current roster: %w", err)
	}
	r, v, err := readRoster(ctx, pool, cur.ID, false)
	if err != nil {
		return nil, nil, fmt.Errorf("read current roster (version %d): %w", cur.ID, err)
	}
	return r, v, nil
}

const readColumns = `row_no, npi, discipline, name, lat, lon, address1, address2, city, state, zip,
	county_fips, networks, designations, services, participating, telehealth_only, accepting_new_patients,
	effective_date, termination_date`

const numReadColumns = 20

func readRoster(ctx context.Context, pool *pgxpool.Pool, id int64, compact bool) (*adequacy.Roster, *Version, error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Text-format dates, should the connection use a text-only protocol,
	// then come as YYYY-MM-DD whatever the server's default.
	if _, err := tx.Exec(ctx, `SET LOCAL datestyle = 'ISO, YMD'`); err != nil {
		return nil, nil, err
	}
	v, err := getVersion(ctx, tx, id)
	if err != nil {
		return nil, v, err
	}
	if err := servable(v); err != nil {
		return nil, v, err
	}
	rows, err := tx.Query(ctx, `SELECT `+readColumns+` FROM `+partition(id), pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return nil, v, retiredIfGone(err, id)
	}
	defer rows.Close()
	read := readValues
	if compact {
		read = readCompact
	}
	r, n, err := read(rows, v.Providers)
	if err != nil {
		return nil, v, retiredIfGone(err, id)
	}
	if n != v.Providers {
		return nil, v, fmt.Errorf("version %d has %d provider rows, its record says %d", id, n, v.Providers)
	}
	if err := r.Stats().Servable(); err != nil {
		// Refused for itself: a server never retries it (VersionFinal).
		return nil, v, adequacy.NewVersionError(adequacy.VersionNotServable, err)
	}
	r.Version, r.Source, r.LoadedAt = Label(id), v.Source, time.Now().UTC()
	return r, v, nil
}

// readValues decodes the rows into providers as values, each at its
// row_no: unique (the primary key) and in range (checked), so as many
// rows as the record says fill every slot. n is the rows read.
func readValues(rows pgx.Rows, count int) (r *adequacy.Roster, n int, err error) {
	ps := make([]adequacy.Provider, count)
	dec := newDecoder(rows.FieldDescriptions())
	for rows.Next() {
		rowNo, err := dec.rowNo(rows.RawValues(), count)
		if err == nil {
			err = dec.provider(&ps[rowNo], rows.RawValues())
		}
		if err != nil {
			return nil, n, fmt.Errorf("row %d: %w", n, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, n, err
	}
	return &adequacy.Roster{Providers: ps}, n, nil
}

// readCompact decodes the rows into a compact roster, putting them in
// row_no order (rows usually arrive in it).
func readCompact(rows pgx.Rows, count int) (r *adequacy.Roster, n int, err error) {
	b := adequacy.NewRosterBuilder(count)
	b.Grow(0, 48*count) // NPI, name, state, ZIP and county, and some address
	dec := newDecoder(rows.FieldDescriptions())
	order := make([]int32, count) // row_no → arrival
	seen := make([]bool, count)
	inOrder := true
	var p adequacy.Provider
	var t adequacy.ProviderBytes
	for rows.Next() {
		v := rows.RawValues()
		rowNo, err := dec.rowNo(v, count)
		if err == nil && seen[rowNo] {
			err = fmt.Errorf("row_no %d repeated", rowNo)
		}
		if err == nil {
			err = dec.fields(&p, v)
		}
		if err == nil {
			dec.rawText(&t, v)
			err = b.AddBytes(&p, &t)
		}
		if err != nil {
			return nil, n, fmt.Errorf("row %d: %w", n, err)
		}
		seen[rowNo], order[rowNo] = true, int32(n)
		inOrder = inOrder && int(rowNo) == n
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, n, err
	}
	if n != count {
		return nil, n, nil // the caller reports the count
	}
	if !inOrder {
		if err := b.Reorder(order); err != nil {
			return nil, n, err
		}
	}
	return b.Roster("", "", time.Time{}), n, nil
}

// retiredIfGone maps "no such table" to ErrRetired: retention dropped the
// partition between reading the version's record and its rows.
func retiredIfGone(err error, id int64) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" {
		return fmt.Errorf("%w (version %d, just now)", ErrRetired, id)
	}
	return err
}

// decoder turns raw column values into providers, in readColumns order.
// It accepts the binary format (which ReadRoster asks for) and, should a
// connection be set to a text-only protocol (pgbouncer's simple query
// mode), the text format.
type decoder struct {
	text   []bool              // column i arrives in the text format
	shared map[string]string   // one copy of each repeated string
	lists  map[string][]string // one copy of each repeated list, by its wire bytes
	discs  map[string]adequacy.Discipline
	types  *pgtype.Map // for text-format arrays only
}

// maxShared bounds the shared strings: a column of unique values (say,
// street addresses) would only grow the map.
const maxShared = 1 << 18

func newDecoder(fds []pgconn.FieldDescription) *decoder {
	d := &decoder{text: make([]bool, len(fds)), shared: map[string]string{}, lists: map[string][]string{},
		discs: map[string]adequacy.Discipline{}}
	for i, fd := range fds {
		d.text[i] = fd.Format == pgx.TextFormatCode
	}
	for _, disc := range adequacy.Disciplines {
		d.discs[disc.String()] = disc
	}
	return d
}

// rowNo is a row's row_no, checked to be in [0, count).
func (d *decoder) rowNo(v [][]byte, count int) (int32, error) {
	if len(v) != numReadColumns {
		return 0, fmt.Errorf("got %d columns, want %d", len(v), numReadColumns)
	}
	rowNo, err := d.int4(0, v[0])
	if err != nil {
		return 0, fmt.Errorf("row_no: %w", err)
	}
	if rowNo < 0 || int(rowNo) >= count {
		return 0, fmt.Errorf("row_no %d out of range [0, %d)", rowNo, count)
	}
	return rowNo, nil
}

// provider decodes a row (whose row_no rowNo checked) into p, every
// field set.
func (d *decoder) provider(p *adequacy.Provider, v [][]byte) error {
	p.NPI = string(v[1])
	p.Name = string(v[3])
	p.Address = adequacy.Address{Line1: string(v[6]), Line2: d.str(v[7]), City: d.str(v[8]), State: d.str(v[9]), ZIP: d.str(v[10])}
	p.CountyFIPS = d.str(v[11])
	return d.fields(p, v)
}

// rawText is a row's strings as the raw bytes they arrive in (valid until the
// next row).
func (d *decoder) rawText(t *adequacy.ProviderBytes, v [][]byte) {
	*t = adequacy.ProviderBytes{NPI: v[1], Name: v[3], Line1: v[6], Line2: v[7], City: v[8], State: v[9], ZIP: v[10], CountyFIPS: v[11]}
}

// fields decodes everything of a row but its strings into p.
func (d *decoder) fields(p *adequacy.Provider, v [][]byte) error {
	var err error
	disc, ok := d.discs[string(v[2])]
	if !ok {
		return fmt.Errorf("discipline %q: %w", adequacy.Excerpt(string(v[2])), adequacy.ErrUnknownDiscipline)
	}
	p.Discipline = disc
	if p.Location.Lat, err = d.float8(4, v[4]); err != nil {
		return fmt.Errorf("lat: %w", err)
	}
	if p.Location.Lon, err = d.float8(5, v[5]); err != nil {
		return fmt.Errorf("lon: %w", err)
	}
	for i, dst := range []*[]string{&p.Networks, &p.Designations, &p.Services} {
		if *dst, err = d.textArray(12+i, v[12+i]); err != nil {
			return fmt.Errorf("%s: %w", []string{"networks", "designations", "services"}[i], err)
		}
	}
	for i, dst := range []*bool{&p.Participating, &p.TelehealthOnly, &p.AcceptingNewPatients} {
		if *dst, err = d.boolean(15+i, v[15+i]); err != nil {
			return fmt.Errorf("%s: %w", []string{"participating", "telehealth_only", "accepting_new_patients"}[i], err)
		}
	}
	if p.Effective, err = d.date(18, v[18]); err != nil {
		return fmt.Errorf("effective_date: %w", err)
	}
	if p.Termination, err = d.date(19, v[19]); err != nil {
		return fmt.Errorf("termination_date: %w", err)
	}
	return nil
}

// textArray decodes a one-dimensional text[] without NULLs; an empty
// array is nil. Equal arrays share one slice (providers' lists are
// read-only).
func (d *decoder) textArray(i int, b []byte) ([]string, error) {
	if b == nil {
		return nil, errNull
	}
	if s, ok := d.lists[string(b)]; ok {
		return s, nil
	}
	var out []string
	var err error
	if d.text[i] {
		if d.types == nil {
			d.types = pgtype.NewMap()
		}
		err = d.types.Scan(pgtype.TextArrayOID, pgx.TextFormatCode, b, &out)
	} else {
		out, err = binaryTextArray(b)
	}
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		out = nil
	}
	if len(d.lists) < maxShared {
		d.lists[string(b)] = out
	}
	return out, nil
}

// binaryTextArray decodes PostgreSQL's binary array format: dimensions,
// a has-NULL flag, the element type, each dimension's length and lower
// bound, then each element as a length and its bytes.
func binaryTextArray(b []byte) ([]string, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("array of %d bytes", len(b))
	}
	ndim := int32(binary.BigEndian.Uint32(b))
	switch {
	case ndim == 0:
		return nil, nil
	case ndim != 1:
		return nil, fmt.Errorf("array of %d dimensions, want 1", ndim)
	case len(b) < 20:
		return nil, fmt.Errorf("array of %d bytes", len(b))
	}
	n := int32(binary.BigEndian.Uint32(b[12:]))
	if n < 0 || int(n) > (len(b)-20)/4 {
		return nil, fmt.Errorf("array of %d elements in %d bytes", n, len(b))
	}
	out := make([]string, 0, n)
	b = b[20:]
	for range n {
		if len(b) < 4 {
			return nil, errors.New("array ends early")
		}
		l := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if l < 0 {
			return nil, errors.New("array holds a NULL")
		}
		if int(l) > len(b) {
			return nil, errors.New("array ends early")
		}
		out = append(out, string(b[:l]))
		b = b[l:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("array has %d bytes left over", len(b))
	}
	return out, nil
}

// str returns a shared copy of a repeated value. Looking a []byte up by
// string(b) does not allocate.
func (d *decoder) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := d.shared[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.shared) < maxShared {
		d.shared[s] = s
	}
	return s
}

var errNull = errors.New("unexpected NULL")

func (d *decoder) int4(i int, b []byte) (int32, error) {
	if b == nil {
		return 0, errNull
	}
	if d.text[i] {
		n, err := strconv.ParseInt(string(b), 10, 32)
		return int32(n), err
	}
	if len(b) != 4 {
		return 0, fmt.Errorf("int4 of %d bytes", len(b))
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

func (d *decoder) float8(i int, b []byte) (float64, error) {
	if b == nil {
		return 0, errNull
	}
	if d.text[i] {
		return strconv.ParseFloat(string(b), 64)
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("float8 of %d bytes", len(b))
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

func (d *decoder) boolean(i int, b []byte) (bool, error) {
	if len(b) != 1 {
		return false, fmt.Errorf("bool of %d bytes", len(b))
	}
	if d.text[i] {
		return b[0] == 't', nil
	}
	return b[0] != 0, nil
}

// pgEpoch is PostgreSQL's day 0 for binary dates.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (d *decoder) date(i int, b []byte) (adequacy.Date, error) {
	if b == nil {
		return adequacy.Date{}, nil
	}
	if d.text[i] {
		return adequacy.ParseDate(string(b))
	}
	if len(b) != 4 {
		return adequacy.Date{}, fmt.Errorf("date of %d bytes", len(b))
	}
	days := int32(binary.BigEndian.Uint32(b))
	if days == math.MaxInt32 || days == math.MinInt32 {
		return adequacy.Date{}, errors.New("infinite date")
	}
	return adequacy.DateOf(pgEpoch.AddDate(0, 0, int(days))), nil
}
