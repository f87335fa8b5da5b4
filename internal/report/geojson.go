package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// WriteGeoJSON writes gaps.geojson: every county with members, its status
// per discipline and service (properties prefixed with the subject's key:
// PT_served, lymphedema_served), and the unserved members aggregated to grid cells
// (counts only, never a member's own location).
func WriteGeoJSON(dir string, r *adequacy.GapReport, shapes *geo.CountyMap) error {
	fc := geojson.NewFeatureCollection()
	for _, c := range countyStatus(r) {
		s, ok := shapes.Shape(c.county.FIPS)
		if !ok {
			continue
		}
		f := geojson.NewFeature(s.Shape)
		f.Properties = geojson.Properties{
			"kind": "county", "fips": c.county.FIPS, "name": c.county.Name, "state": c.county.State,
			"county_type": c.county.Designation.Type.String(), "county_type_source": typeSource(c.county),
		}
		for _, row := range c.rows {
			p := row.Key()
			f.Properties[p+"_members"] = row.Members
			f.Properties[p+"_served"] = row.Served
			f.Properties[p+"_served_pct"] = round2(row.ServedPct)
			f.Properties[p+"_required_pct"] = round2(row.RequiredPct)
			f.Properties[p+"_pass"] = row.Pass
			f.Properties[p+"_min_pass"] = row.MinPass
		}
		fc.Append(f)
	}
	for _, cell := range r.Cells {
		ring := orb.Ring{{cell.Lon, cell.Lat}, {cell.Lon + cell.Size, cell.Lat}, {cell.Lon + cell.Size, cell.Lat + cell.Size},
			{cell.Lon, cell.Lat + cell.Size}, {cell.Lon, cell.Lat}}
		f := geojson.NewFeature(orb.Polygon{ring})
		f.Properties = geojson.Properties{"kind": "unserved_cell", "cell_degrees": cell.Size}
		for si, s := range r.Subjects {
			f.Properties[s.Key()+"_unserved"] = cell.UnservedBy[si]
		}
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{"profile": r.Profile.Name, "profile_version": r.Profile.Version,
		"roster_version": r.RosterVersion, "as_of": r.AsOf.String(), "county_table": r.CountySource}
	if r.Plan != nil {
		fc.ExtraMembers["plan"], fc.ExtraMembers["networks"], fc.ExtraMembers["plans_version"] = r.Plan.ID, r.Plan.Networks, r.PlansVersion
	}
	b, err := json.Marshal(fc)
	if err != nil {
		return fmt.Errorf("write gaps.geojson: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gaps.geojson"), b, 0o644); err != nil {
		return fmt.Errorf("write gaps.geojson: %w", err)
	}
	return nil
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// countyRows groups a report's rows by county, in FIPS order.
type countyRows struct {
	county *adequacy.County
	rows   []adequacy.CountyRow
}

func countyStatus(r *adequacy.GapReport) []countyRows {
	var out []countyRows
	for _, row := range r.Counties {
		if len(out) == 0 || out[len(out)-1].county != row.County {
			out = append(out, countyRows{county: row.County})
		}
		out[len(out)-1].rows = append(out[len(out)-1].rows, row)
	}
	return out
}
