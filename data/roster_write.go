package data

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// RosterHeader is the header WriteRoster writes: every column ReadRoster
// knows, in its canonical spelling.
var RosterHeader = []string{"npi", "discipline", "name", "lat", "lon", "address1", "address2", "city", "state", "zip",
	"county_fips", "networks", "designations", "services", "participating", "telehealth_only", "accepting_new_patients",
	"effective_date", "termination_date"}

// WriteRoster writes providers as a roster CSV that ReadRoster reads back
// unchanged.
func WriteRoster(w io.Writer, ps []adequacy.Provider) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(RosterHeader); err != nil {
		return fmt.Errorf("write roster: %w", err)
	}
	rec := make([]string, len(RosterHeader))
	for i := range ps {
		p := &ps[i]
		rec = append(rec[:0], p.NPI, p.Discipline.String(), p.Name,
			strconv.FormatFloat(p.Location.Lat, 'f', -1, 64), strconv.FormatFloat(p.Location.Lon, 'f', -1, 64),
			p.Address.Line1, p.Address.Line2, p.Address.City, p.Address.State, p.Address.ZIP,
			p.CountyFIPS, strings.Join(p.Networks, listSeparator), strings.Join(p.Designations, listSeparator),
			strings.Join(p.Services, listSeparator), yn(p.Participating), yn(p.TelehealthOnly), yn(p.AcceptingNewPatients),
			p.Effective.String(), p.Termination.String())
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write roster: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write roster: %w", err)
	}
	return nil
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}
