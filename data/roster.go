package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
	"github.com/geoaccess/geoaccess/geo"
)

// Roster CSV columns: canonical name → accepted header spellings.
var rosterColumns = map[string][]string{
	"npi":                    {"npi"},
	"discipline":             {"discipline", "specialty"},
	"lat":                    {"lat", "latitude"},
	"lon":                    {"lon", "lng", "long", "longitude"},
	"name":                   {"name", "provider_name"},
	"address1":               {"address", "address1", "address_line1", "street"},
	"address2":               {"address2", "address_line2"},
	"city":                   {"city"},
	"state":                  {"state"},
	"zip":                    {"zip", "zip_code", "postal_code"},
	"county_fips":            {"county_fips", "county"},
	"networks":               {"networks", "network"}, // "network": one id, as rosters had it
	"designations":           {"designations", "credentials", "certifications"},
	"services":               {"services"},
	"participating":          {"participating", "par"},
	"in_person":              {"in_person"},
	"telehealth_only":        {"telehealth_only"},
	"accepting_new_patients": {"accepting_new_patients", "accepting"},
	"effective_date":         {"effective_date", "effective"},
	"termination_date":       {"termination_date", "termination"},
}

// RosterColumns are the roster CSV's canonical column names, required first.
var RosterColumns = []string{"npi", "discipline", "lat", "lon", "name", "address1", "address2", "city", "state", "zip",
	"county_fips", "networks", "designations", "services", "participating", "in_person", "telehealth_only", "accepting_new_patients",
	"effective_date", "termination_date"}

// rosterCol numbers the roster's columns in RosterColumns order: the row
// parser finds a cell by this number, not by a map lookup per field.
type rosterCol int

const (
	colNPI rosterCol = iota
	colDiscipline
	colLat
	colLon
	colName
	colAddress1
	colAddress2
	colCity
	colState
	colZIP
	colCountyFIPS
	colNetworks
	colDesignations
	colServices
	colParticipating
	colInPerson
	colTelehealthOnly
	colAccepting
	colEffective
	colTermination
	numRosterCols
)

// RosterOptions control ReadRoster.
type RosterOptions struct {
	Source  string // file name for messages and the roster's Source
	Version string // "" = "csv:" + the first 12 hex digits of the file's SHA-256
	// Counties, if not nil, places providers without county_fips by point
	// in polygon and rejects a county_fips it does not know.
	Counties *geo.CountyMap
	// Vocabulary resolves the designations and services columns' codes
	// and aliases to canonical codes; nil means the embedded one.
	Vocabulary *adequacy.Vocabulary
	// MaxBadRows: more bad rows than this fail the read; 0 = none allowed,
	// negative = no limit. Bad rows are always reported, never dropped
	// silently.
	MaxBadRows int
	// AllowNoParticipating reads a file that need not be servable, such
	// as recruitment candidates (non-participating providers). Without
	// it a roster with no participating in-person provider fails with
	// ErrEmptyRoster: it would leave every member unserved.
	AllowNoParticipating bool
	// Candidates reads recruitment candidates: a row whose participating
	// cell is empty, or a file with no participating column, is a
	// non-participating provider (a roster's rows participate unless they
	// say N). A row that says Y is read as participating, and recruitment
	// skips it.
	Candidates bool
	// Compact returns the roster compactly (adequacy.Roster.Compact):
	// Providers nil, read with Len, Provider and All. What a server, or a
	// report over a large roster, wants.
	Compact bool
	Now     func() time.Time
}

// RosterReport says what a roster read did with each row.
type RosterReport struct {
	Rows     int // data rows read
	Accepted int
	Errors   []RowError // every problem found, bad rows only
	Bad      int        // rows rejected
	SHA256   string
	// Unplaced counts providers whose point is in no county polygon (nor
	// within a mile of one) and who have no county_fips: accepted, with an
	// empty county, and always reported — such a point is usually a
	// geocoding fault (0,0, or latitude and longitude swapped). Counted
	// only when the reader is given the county polygons.
	Unplaced int
	// UnplacedLines are the lines of the first MaxListedUnplaced of them.
	UnplacedLines []int
	// Warnings are the designation and service codes an accepted row
	// gave that were ignored: unknown to the vocabulary (a degree such as
	// DPT, a typo), or not held or offered by the row's discipline. They
	// never make a row bad. The first MaxRosterWarnings are listed;
	// WarningCount counts them all.
	Warnings     []RowError
	WarningCount int
}

// MaxListedUnplaced bounds RosterReport.UnplacedLines.
const MaxListedUnplaced = 20

// MaxRosterWarnings bounds the warnings a roster read lists (all are
// counted): a million rows with a degree in the credentials column should
// not hold a million messages.
const MaxRosterWarnings = 1000

// RosterReader streams a roster CSV row by row: each row becomes a
// validated provider or a list of errors, never silently dropped.
type RosterReader struct {
	rr       *rowReader
	hash     hash.Hash
	counties *geo.CountyMap
	vocab    *adequacy.Vocabulary
	lists    *lists
	oneNet   bool               // the networks column is headed "network": one id per row
	partDef  bool               // a row's participating value when its cell is empty
	col      [numRosterCols]int // each column's position in a row; -1 when absent
	seen     map[dupKey]int
	Report   RosterReport // running totals
}

// newRowParser is a reader of rows in rr's columns with its own list
// memory: what each parallel worker, and the sequential reader, parse
// rows with.
func newRowParser(rr *rowReader, opts RosterOptions, v *adequacy.Vocabulary) *RosterReader {
	rd := &RosterReader{rr: rr, counties: opts.Counties, vocab: v, lists: newLists(), oneNet: normHeader(rr.colName("networks")) == "network",
		partDef: !opts.Candidates}
	for c, name := range RosterColumns {
		rd.col[c] = -1
		if i, ok := rr.cols[name]; ok {
			rd.col[c] = i
		}
	}
	return rd
}

// get returns a column's value as rowReader.get does.
func (rd *RosterReader) get(c rosterCol) string {
	i := rd.col[c]
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(csvsafe.Unescape(strings.TrimSpace(rd.rr.rec[i])))
}

// NewRosterReader reads the header and checks the required columns. Of
// opts it uses Counties and Vocabulary.
func NewRosterReader(r io.Reader, opts RosterOptions) (*RosterReader, error) {
	v := opts.Vocabulary
	if v == nil {
		var err error
		if v, err = Vocabulary(); err != nil {
			return nil, err
		}
	}
	h := sha256.New()
	rr, err := newRowReader(io.TeeReader(r, h), rosterColumns, []string{"npi", "discipline", "lat", "lon"})
	if err != nil {
		return nil, err
	}
	rd := newRowParser(rr, opts, v)
	rd.hash, rd.seen = h, map[dupKey]int{}
	return rd, nil
}

// Next returns the next row: a valid provider (errs empty), or the row's
// errors. It returns io.EOF after the last row.
func (rd *RosterReader) Next() (p adequacy.Provider, line int, errs []RowError, err error) {
	rowErr, err := rd.rr.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			rd.Report.SHA256 = hex.EncodeToString(rd.hash.Sum(nil))
		}
		return p, 0, nil, err
	}
	rd.Report.Rows++
	if rowErr != nil {
		rd.Report.Bad++
		rd.Report.Errors = append(rd.Report.Errors, *rowErr)
		return p, rowErr.Line, []RowError{*rowErr}, nil
	}
	var warns []RowError
	p, errs, warns = rd.parseProvider()
	if len(errs) == 0 {
		k := dupKey{p.NPI, p.Discipline, math.Round(p.Location.Lat * 1e6), math.Round(p.Location.Lon * 1e6)}
		if first, dup := rd.seen[k]; dup {
			errs = append(errs, RowError{Line: rd.rr.line, Key: p.NPI, Column: rd.rr.colName("npi"), Value: p.NPI,
				Reason: fmt.Sprintf("duplicate of line %d: same NPI, discipline and location", first)})
		} else {
			rd.seen[k] = rd.rr.line
		}
	}
	if len(errs) > 0 {
		rd.Report.Bad++
		rd.Report.Errors = append(rd.Report.Errors, errs...)
		return adequacy.Provider{}, rd.rr.line, errs, nil
	}
	rd.Report.Accepted++
	if p.CountyFIPS == "" && rd.counties != nil {
		rd.Report.Unplaced++
		if len(rd.Report.UnplacedLines) < MaxListedUnplaced {
			rd.Report.UnplacedLines = append(rd.Report.UnplacedLines, rd.rr.line)
		}
	}
	rd.Report.WarningCount += len(warns)
	if n := min(len(warns), MaxRosterWarnings-len(rd.Report.Warnings)); n > 0 {
		rd.Report.Warnings = append(rd.Report.Warnings, warns[:n]...)
	}
	return p, rd.rr.line, nil, nil
}

// ReadRoster reads a roster CSV (see docs/roster-csv.md). Columns are found
// by header name; unknown columns are ignored. Every bad row is reported
// with line, column and reason; if there are more than opts.MaxBadRows the
// read fails with *BadRows and no roster. A roster with no participating
// in-person provider (a header and nothing else, say) fails with an error
// wrapping ErrEmptyRoster unless opts.AllowNoParticipating.
//
// The file is parsed on every processor (see readRosterParallel), with
// the same result, row for row, as reading it with a RosterReader.
func ReadRoster(r io.Reader, opts RosterOptions) (*adequacy.Roster, *RosterReport, error) {
	v := opts.Vocabulary
	if v == nil {
		var err error
		if v, err = Vocabulary(); err != nil {
			return nil, nil, fmt.Errorf("roster %s: %w", opts.Source, err)
		}
	}
	b, rep, err := readRosterParallel(r, opts, v)
	if err != nil {
		return nil, rep, fmt.Errorf("roster %s: %w", opts.Source, err)
	}
	if opts.MaxBadRows >= 0 && rep.Bad > opts.MaxBadRows {
		return nil, rep, &BadRows{File: opts.Source, Rows: rep.Rows, Bad: rep.Bad, Limit: opts.MaxBadRows, Errors: rep.Errors}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	ver := opts.Version
	if ver == "" {
		ver = "csv:" + rep.SHA256[:12]
	}
	roster := b.Roster(ver, opts.Source, now().UTC())
	if !opts.AllowNoParticipating {
		if err := roster.Stats().Servable(); err != nil {
			return nil, rep, fmt.Errorf("roster %s: %w (%d rows read, %d bad)", opts.Source, err, rep.Rows, rep.Bad)
		}
	}
	if !opts.Compact {
		roster = roster.Expand()
	}
	return roster, rep, nil
}

type dupKey struct {
	npi      string
	d        adequacy.Discipline
	lat, lon float64
}

func (rd *RosterReader) parseProvider() (adequacy.Provider, []RowError, []RowError) {
	rr, counties := rd.rr, rd.counties
	npi := rd.get(colNPI)
	e := &rowErrs{rr: rr, key: npi}
	var p adequacy.Provider
	p.NPI = npi
	if err := ValidNPI(p.NPI); err != nil {
		e.add("npi", p.NPI, err.Error())
	}
	if d, err := adequacy.ParseDiscipline(rd.get(colDiscipline)); err != nil {
		e.add("discipline", rd.get(colDiscipline), "must be DC, PT, OT or ST")
	} else {
		p.Discipline = d
	}
	// Every wrong coordinate is reported: not a number, or out of range.
	n := len(e.errs)
	lat := rd.get(colLat)
	p.Location.Lat = e.float("lat", lat)
	if len(e.errs) == n {
		if err := geo.CheckLat(p.Location.Lat); err != nil {
			e.add("lat", lat, err.Error())
		}
	}
	n = len(e.errs)
	lon := rd.get(colLon)
	p.Location.Lon = e.float("lon", lon)
	if len(e.errs) == n {
		if err := geo.CheckLon(p.Location.Lon); err != nil {
			e.add("lon", lon, err.Error())
		}
	}
	p.Name = rd.get(colName)
	p.Address = adequacy.Address{Line1: rd.get(colAddress1), Line2: rd.get(colAddress2), City: rd.get(colCity), State: rd.get(colState), ZIP: rd.get(colZIP)}
	p.Networks = rd.networks(e)
	p.Participating = e.flag("participating", rd.get(colParticipating), rd.partDef)
	inPersonCell, teleCell := rd.get(colInPerson), rd.get(colTelehealthOnly)
	inPerson := e.flag("in_person", inPersonCell, true)
	p.TelehealthOnly = e.flag("telehealth_only", teleCell, !inPerson)
	if inPersonCell != "" && teleCell != "" && inPerson == p.TelehealthOnly {
		e.add("telehealth_only", teleCell, "contradicts in_person")
	}
	p.AcceptingNewPatients = e.flag("accepting_new_patients", rd.get(colAccepting), true)
	p.Effective = parseDateCell(e, "effective_date", rd.get(colEffective))
	p.Termination = parseDateCell(e, "termination_date", rd.get(colTermination))
	if !p.Effective.IsZero() && !p.Termination.IsZero() && !p.Effective.Before(p.Termination) {
		e.add("termination_date", p.Termination.String(), "must be after effective_date "+p.Effective.String())
	}
	p.CountyFIPS = rd.get(colCountyFIPS)
	if len(e.errs) == 0 && counties != nil {
		placeCounty(e, &p, counties)
	}
	var warns []RowError
	if len(e.errs) == 0 {
		w := &rowErrs{rr: rr, key: e.key}
		p.Designations = rd.designations(w, p.Discipline)
		p.Services = rd.services(w, p.Discipline)
		warns = w.errs
	}
	return p, e.errs, warns
}

func placeCounty(e *rowErrs, p *adequacy.Provider, counties *geo.CountyMap) {
	if p.CountyFIPS != "" {
		if _, ok := counties.Shape(p.CountyFIPS); !ok {
			e.add("county_fips", p.CountyFIPS, "is not a known county FIPS code")
		}
		return
	}
	if s, err := counties.Locate(p.Location); err == nil {
		p.CountyFIPS = s.FIPS
	} else if s, _, err := counties.Nearest(p.Location, 1); err == nil {
		p.CountyFIPS = s.FIPS
	}
}

func parseDateCell(e *rowErrs, canon, s string) adequacy.Date {
	if s == "" {
		return adequacy.Date{}
	}
	d, err := adequacy.ParseDate(s)
	if err != nil {
		e.add(canon, s, "must be a date YYYY-MM-DD")
	}
	return d
}

// ErrBadNPI is wrapped by ValidNPI.
var ErrBadNPI = errors.New("invalid NPI")

// ValidNPI checks a National Provider Identifier: ten digits whose last is
// the Luhn check digit over the prefix 80840 and the first nine.
func ValidNPI(s string) error {
	if len(s) != 10 {
		return fmt.Errorf("%w: must be 10 digits", ErrBadNPI)
	}
	sum := 24 // the Luhn sum of the prefix 80840
	for i := 0; i < 9; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: must be 10 digits", ErrBadNPI)
		}
		d := int(c - '0')
		if i%2 == 0 { // doubled: every other digit from the rightmost of the nine
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	if s[9] < '0' || s[9] > '9' {
		return fmt.Errorf("%w: must be 10 digits", ErrBadNPI)
	}
	if want := byte('0' + (10-sum%10)%10); s[9] != want {
		return fmt.Errorf("%w: check digit is %c, want %c", ErrBadNPI, s[9], want)
	}
	return nil
}

// UnplacedNote says which accepted providers are in no county, or "" when
// none is: for the report of a load, a log line or a warning.
func (r *RosterReport) UnplacedNote() string {
	if r == nil || r.Unplaced == 0 {
		return ""
	}
	lines := make([]string, len(r.UnplacedLines))
	for i, l := range r.UnplacedLines {
		lines[i] = strconv.Itoa(l)
	}
	more := ""
	if r.Unplaced > len(r.UnplacedLines) {
		more = ", …"
	}
	return fmt.Sprintf("%d providers are in no county (lines %s%s): loaded without a county; check their coordinates",
		r.Unplaced, strings.Join(lines, ", "), more)
}
