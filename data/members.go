package data

import (
	"fmt"
	"io"
	"strconv"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

var memberColumns = map[string][]string{
	"member_id":   {"member_id", "member", "id"},
	"lat":         {"lat", "latitude"},
	"lon":         {"lon", "lng", "long", "longitude"},
	"zip":         {"zip", "zip_code", "postal_code"},
	"county_fips": {"county_fips", "county"},
}

// MemberReader streams a member CSV: member_id, then lat and lon or zip,
// and optionally county_fips (trusted over the polygons). Each row becomes
// a member or its errors, with line and column.
type MemberReader struct {
	rr   *rowReader
	seen map[string]int
	// Rows and Bad count what has been read.
	Rows, Bad int
}

// NewMemberReader reads the header: member_id is required, and either
// both lat and lon or zip.
func NewMemberReader(r io.Reader) (*MemberReader, error) {
	rr, err := newRowReader(r, memberColumns, []string{"member_id"})
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	_, lat := rr.cols["lat"]
	_, lon := rr.cols["lon"]
	_, zip := rr.cols["zip"]
	if lat != lon || (!lat && !zip) {
		return nil, fmt.Errorf("members: line 1: %w: want lat and lon, or zip (header has: %s)", ErrMissingColumn, headerExcerpt(rr.header))
	}
	return &MemberReader{rr: rr, seen: map[string]int{}}, nil
}

// Next returns the next member, or its row's errors; io.EOF after the last.
func (mr *MemberReader) Next() (adequacy.GapMember, []RowError, error) {
	rowErr, err := mr.rr.next()
	if err != nil {
		return adequacy.GapMember{}, nil, err
	}
	mr.Rows++
	if rowErr != nil {
		mr.Bad++
		return adequacy.GapMember{}, []RowError{*rowErr}, nil
	}
	m, errs := parseMemberRow(mr.rr)
	if len(errs) == 0 && m.ID != "" {
		if first, dup := mr.seen[m.ID]; dup {
			errs = append(errs, RowError{Line: m.Line, Key: m.ID, Column: mr.rr.colName("member_id"), Reason: fmt.Sprintf("repeats the member of line %d", first)})
		}
	}
	if len(errs) > 0 {
		mr.Bad++
		return adequacy.GapMember{}, errs, nil
	}
	mr.seen[m.ID] = m.Line
	return m, nil, nil
}

// parseMemberRow validates the current record of rr (all but repeats).
func parseMemberRow(rr *rowReader) (adequacy.GapMember, []RowError) {
	e := &rowErrs{rr: rr, key: rr.get("member_id")}
	m := adequacy.GapMember{ID: rr.get("member_id"), Line: rr.line, ZIP: rr.get("zip"), CountyFIPS: rr.get("county_fips")}
	if m.ID == "" {
		e.add("member_id", "", "is required")
	}
	lat, lon := rr.get("lat"), rr.get("lon")
	switch {
	case lat != "" || lon != "":
		// Every wrong coordinate is reported: missing, not a number, or
		// out of range.
		n := len(e.errs)
		m.Point = geo.Point{Lat: parseCoord(e, "lat", lat, geo.CheckLat), Lon: parseCoord(e, "lon", lon, geo.CheckLon)}
		m.HasPoint = len(e.errs) == n
	case m.ZIP == "":
		e.add("lat", "", "a location is required: lat and lon, or zip")
	}
	if m.ZIP != "" {
		if z, err := geo.NormalizeZIP(m.ZIP); err != nil {
			e.add("zip", m.ZIP, err.Error())
		} else {
			m.ZIP = z
		}
	}
	if m.CountyFIPS != "" && (len(m.CountyFIPS) != 5 || !allDigits(m.CountyFIPS)) {
		e.add("county_fips", m.CountyFIPS, "a county FIPS code is 5 digits")
	}
	return m, e.errs
}

func parseCoord(e *rowErrs, col, s string, check func(float64) error) float64 {
	if s == "" {
		e.add(col, "", "is required when the other coordinate is given")
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		e.add(col, s, "is not a number")
	} else if err := check(v); err != nil {
		e.add(col, s, err.Error())
	}
	return v
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
