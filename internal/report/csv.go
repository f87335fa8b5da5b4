package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
)

// AdequacyHeader is the header of adequacy.csv.
var AdequacyHeader = []string{"county_fips", "state", "county", "county_type", "county_type_source", "discipline", "service", "members", "served",
	"served_pct", "required_pct", "pass", "providers_counted", "min_required", "min_pass", "nearest_median_miles", "nearest_p90_miles",
	"min_source", "credits"}

// writeCSV creates dir/name and writes rows produced by fill, through
// csvsafe: text cells that could start a spreadsheet formula are
// neutralised, number cells stay numbers.
func writeCSV(dir, name string, header []string, fill func(w *csvsafe.Writer) error) error {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	w := csvsafe.NewWriter(f)
	w.WriteText(header...)
	if err := fill(w); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// WriteAdequacy writes adequacy.csv: one row per county × discipline and
// per county × service (discipline empty on a service row, service empty
// on a discipline row).
func WriteAdequacy(dir string, r *adequacy.GapReport) error {
	return writeCSV(dir, "adequacy.csv", AdequacyHeader, func(w *csvsafe.Writer) error {
		for _, c := range r.Counties {
			if err := w.Write(adequacyRecord(c)...); err != nil {
				return err
			}
		}
		return nil
	})
}

func adequacyRecord(c adequacy.CountyRow) []csvsafe.Cell {
	t := csvsafe.Text
	return []csvsafe.Cell{t(c.County.FIPS), t(c.County.State), t(c.County.Name), t(c.County.Designation.Type.String()), t(typeSource(c.County)),
		t(disciplineCell(c.Discipline)), t(c.Service), csvsafe.Int(c.Members), csvsafe.Int(c.Served), pct(c.ServedPct), pct(c.RequiredPct), t(yn(c.Pass)),
		csvsafe.Int(c.Counted), csvsafe.Int(c.MinRequired), t(yn(c.MinPass)), milesCell(c.NearestP50), milesCell(c.NearestP90), t(c.MinSource.String()),
		t(strings.Join(c.Credits, ";"))}
}

// disciplineCell is a discipline's code; empty on a service row, decided
// across its disciplines.
func disciplineCell(d adequacy.Discipline) string {
	if !d.Valid() {
		return ""
	}
	return d.String()
}

func typeSource(c *adequacy.County) string {
	if c.Designation.Official {
		return "official"
	}
	return "derived"
}

// WriteUnserved writes unserved.csv: every member unserved for a
// discipline or a service.
func WriteUnserved(dir string, r *adequacy.GapReport) error {
	return writeCSV(dir, "unserved.csv", []string{"member_id", "county_fips", "discipline", "service", "nearest_npi", "nearest_miles"}, func(w *csvsafe.Writer) error {
		for _, u := range r.Unserved {
			if err := w.Write(csvsafe.Text(u.MemberID), csvsafe.Text(u.CountyFIPS), csvsafe.Text(disciplineCell(u.Discipline)), csvsafe.Text(u.Service),
				csvsafe.Text(u.NearestNPI),
				milesCell(u.NearestMiles)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Rejected is one member-file row the report did not evaluate.
type Rejected struct {
	Line     int
	MemberID string
	Column   string
	Reason   string
}

// MemberColumn names the member-file column behind a request field.
func MemberColumn(field string) string {
	switch field {
	case "location.latitude", "location":
		return "lat"
	case "location.longitude":
		return "lon"
	}
	return field
}

// WriteRejected writes rejected.csv.
func WriteRejected(dir string, rows []Rejected) error {
	return writeCSV(dir, "rejected.csv", []string{"line", "member_id", "column", "reason"}, func(w *csvsafe.Writer) error {
		for _, r := range rows {
			if err := w.Write(csvsafe.Int(r.Line), csvsafe.Text(r.MemberID), csvsafe.Text(r.Column), csvsafe.Text(r.Reason)); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteRecruitment writes recruitment.csv.
func WriteRecruitment(dir string, picks []adequacy.RecruitPick) error {
	return writeCSV(dir, "recruitment.csv", []string{"rank", "npi", "name", "discipline", "service", "county_fips", "newly_served", "cumulative_served", "counties_flipped_to_pass"},
		func(w *csvsafe.Writer) error {
			for _, p := range picks {
				t := csvsafe.Text
				if err := w.Write(csvsafe.Int(p.Rank), t(p.Provider.NPI), t(p.Provider.Name), t(p.Provider.Discipline.String()), t(p.Service), t(p.Provider.CountyFIPS),
					csvsafe.Int(p.NewlyServed), csvsafe.Int(p.CumulativeServed), csvsafe.Int(p.CountiesFlipped)); err != nil {
					return err
				}
			}
			return nil
		})
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func pct(x float64) csvsafe.Cell { return csvsafe.Float(x, 2) }

// milesCell is a distance cell to the metre or so; empty when there is none.
func milesCell(x float64) csvsafe.Cell { return csvsafe.Float(x, 3) }

// miles formats a distance to the metre or so; empty when there is none.
func miles(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', 3, 64)
}
