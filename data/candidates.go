package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
	"github.com/geoaccess/geoaccess/geo"
)

// candidateColumns are the roster's columns and the plan's record of
// contracting.
var candidateColumns = func() map[string][]string {
	m := map[string][]string{
		"contract_status": {"contract_status", "status"},
		"status_date":     {"status_date"},
		"notes":           {"notes", "note"},
	}
	for k, v := range rosterColumns {
		m[k] = v
	}
	return m
}()

// ReadCandidates reads a candidates file for exception requests: a roster
// CSV (docs/roster-csv.md) of providers the plan does not contract with,
// plus contract_status (declined, not credentialed, closed panel, no
// response, other; required), status_date (YYYY-MM-DD) and notes. A row
// marked participating is an error: a candidate is not contracted. Bad
// rows come back as errors with line and column, never dropped silently;
// the error return is for the file as a whole (no header, a missing
// column).
func ReadCandidates(r io.Reader, counties *geo.CountyMap) ([]adequacy.Candidate, []RowError, error) {
	v, err := Vocabulary()
	if err != nil {
		return nil, nil, err
	}
	rr, err := newRowReader(r, candidateColumns, []string{"npi", "discipline", "lat", "lon", "contract_status"})
	if err != nil {
		return nil, nil, fmt.Errorf("candidates: %w", err)
	}
	// The roster's row parser, over these columns. Its warnings (about
	// designations and services) do not concern a candidate.
	rd := newRowParser(rr, RosterOptions{Counties: counties}, v)
	var out []adequacy.Candidate
	var bad []RowError
	seen := map[dupKey]int{}
	for {
		rowErr, err := rr.next()
		if errors.Is(err, io.EOF) {
			return out, bad, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("candidates: %w", err)
		}
		if rowErr != nil {
			bad = append(bad, *rowErr)
			continue
		}
		p, errs, _ := rd.parseProvider()
		e := &rowErrs{rr: rr, key: p.NPI, errs: errs}
		// parseProvider read participating with the roster's default, Y.
		p.Participating = p.Participating && rr.get("participating") != ""
		if p.Participating {
			e.add("participating", rr.get("participating"), "a candidate is a provider the plan does not contract with: leave participating empty or N")
		}
		c := adequacy.Candidate{Provider: p, Line: rr.line, Notes: rr.get("notes")}
		if s := rr.get("contract_status"); s == "" {
			e.add("contract_status", "", "is required: declined, not credentialed, closed panel, no response or other")
		} else if st, err := adequacy.ParseContractStatus(s); err != nil {
			e.add("contract_status", s, "must be declined, not credentialed, closed panel, no response or other")
		} else {
			c.Status = st
		}
		c.StatusDate = parseDateCell(e, "status_date", rr.get("status_date"))
		if len(e.errs) == 0 {
			k := dupKey{p.NPI, p.Discipline, math.Round(p.Location.Lat * 1e6), math.Round(p.Location.Lon * 1e6)}
			if first, dup := seen[k]; dup {
				e.add("npi", p.NPI, fmt.Sprintf("duplicate of line %d: same NPI, discipline and location", first))
			} else {
				seen[k] = rr.line
			}
		}
		if len(e.errs) > 0 {
			bad = append(bad, e.errs...)
			continue
		}
		out = append(out, c)
	}
}

// ReadCountyCodes reads a service-area file: one county code per line, or
// a CSV whose first column holds them. Blank lines and lines starting
// with # are skipped. A first line that is a header names the kind of
// code: ssa (ssa, ssa_county_code, ssacd, ssa_state_county_code) or fips
// (fips, county_fips); the codes below it get that prefix ("ssa:01000").
// Codes are checked against the county table by adequacy.NewServiceArea.
func ReadCountyCodes(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	var out []string
	prefix := ""
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		first, _, _ := strings.Cut(s, ",")
		first = csvsafe.Unescape(strings.Trim(strings.TrimSpace(first), `"`))
		if len(out) == 0 && prefix == "" && first != "" && (first[0] < '0' || first[0] > '9') && !strings.Contains(first, ":") {
			switch normHeader(first) {
			case "ssa", "ssa_county_code", "ssacd", "ssa_state_county_code", "ssa_state/county_code":
				prefix = "ssa:"
				continue
			case "fips", "county_fips", "fips_county_code":
				prefix = "fips:"
				continue
			}
			return nil, fmt.Errorf("service area: line %d: %q is neither a county code nor a header (ssa or fips)", line, shortValue(first))
		}
		if first == "" {
			return nil, fmt.Errorf("service area: line %d: no county code in the first column", line)
		}
		out = append(out, prefix+first)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("service area: %w (lines are county codes, at most 4 KB)", err)
	}
	return out, nil
}

func shortValue(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
