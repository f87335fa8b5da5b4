package report

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// AdequacyHeader is the header of adequacy.csv.
var AdequacyHeader = []string{"county_fips", "state", "county", "county_type", "county_type_source", "discipline", "members", "served",
	"served_pct", "required_pct", "pass", "providers_counted", "min_required", "min_pass", "nearest_median_miles", "nearest_p90_miles",
	"min_source", "credits"}

// writeCSV creates dir/name and writes rows produced by fill.
func writeCSV(dir, name string, header []string, fill func(w *csv.Writer) error) error {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	w := csv.NewWriter(f)
	w.Write(header)
	if err := fill(w); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// WriteAdequacy writes adequacy.csv: one row per county × discipline.
func WriteAdequacy(dir string, r *adequacy.GapReport) error {
	return writeCSV(dir, "adequacy.csv", AdequacyHeader, func(w *csv.Writer) error {
		for _, c := range r.Counties {
			if err := w.Write(adequacyRecord(c)); err != nil {
				return err
			}
		}
		return nil
	})
}

func adequacyRecord(c adequacy.CountyRow) []string {
	return []string{c.County.FIPS, c.County.State, c.County.Name, c.County.Designation.Type.String(), typeSource(c.County),
		c.Discipline.String(), itoa(c.Members), itoa(c.Served), pct(c.ServedPct), pct(c.RequiredPct), yn(c.Pass),
		itoa(c.Counted), itoa(c.MinRequired), yn(c.MinPass), miles(c.NearestP50), miles(c.NearestP90), c.MinSource.String(), strings.Join(c.Credits, ";")}
}

func typeSource(c *adequacy.County) string {
	if c.Designation.Official {
		return "official"
	}
	return "derived"
}

// WriteUnserved writes unserved.csv.
func WriteUnserved(dir string, r *adequacy.GapReport) error {
	return writeCSV(dir, "unserved.csv", []string{"member_id", "county_fips", "discipline", "nearest_npi", "nearest_miles"}, func(w *csv.Writer) error {
		for _, u := range r.Unserved {
			if err := w.Write([]string{u.MemberID, u.CountyFIPS, u.Discipline.String(), u.NearestNPI, miles(u.NearestMiles)}); err != nil {
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
	return writeCSV(dir, "rejected.csv", []string{"line", "member_id", "column", "reason"}, func(w *csv.Writer) error {
		for _, r := range rows {
			if err := w.Write([]string{itoa(r.Line), r.MemberID, r.Column, r.Reason}); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteRecruitment writes recruitment.csv.
func WriteRecruitment(dir string, picks []adequacy.RecruitPick) error {
	return writeCSV(dir, "recruitment.csv", []string{"rank", "npi", "name", "discipline", "county_fips", "newly_served", "cumulative_served", "counties_flipped_to_pass"},
		func(w *csv.Writer) error {
			for _, p := range picks {
				if err := w.Write([]string{itoa(p.Rank), p.Provider.NPI, p.Provider.Name, p.Provider.Discipline.String(), p.Provider.CountyFIPS,
					itoa(p.NewlyServed), itoa(p.CumulativeServed), itoa(p.CountiesFlipped)}); err != nil {
					return err
				}
			}
			return nil
		})
}

func itoa(i int) string { return strconv.Itoa(i) }

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

func pct(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

// miles formats a distance to the metre or so; empty when there is none.
func miles(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'f', 3, 64)
}
