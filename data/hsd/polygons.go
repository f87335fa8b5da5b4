package hsd

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// ReadPolygons reads the county polygons' attribute table
// (data/assets/geography/counties.csv): a CSV with a header row naming at
// least the columns fips, state and name, in any order.
func ReadPolygons(r io.Reader) ([]Polygon, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("hsd: polygons: header: %w", err)
	}
	col := map[string]int{"fips": -1, "state": -1, "name": -1}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		if _, ok := col[h]; ok {
			col[h] = i
		}
	}
	for _, k := range []string{"fips", "state", "name"} {
		if col[k] < 0 {
			return nil, fmt.Errorf("hsd: polygons: no %q column in the header %q", k, adequacy.ExcerptN(strings.Join(head, ","), 300))
		}
	}
	var out []Polygon
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("hsd: polygons: %w", err)
		}
		out = append(out, Polygon{FIPS: rec[col["fips"]], State: rec[col["state"]], Name: rec[col["name"]]})
	}
}
