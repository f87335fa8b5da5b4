package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/hsd"
	"github.com/geoaccess/geoaccess/geo"
)

// embeddedCountyTable is the resolved CMS HSD reference file, CY2026.
const embeddedCountyTable = "assets/standards/cms-hsd-2026.csv"

// populationSupplement holds Census populations for the polygons no CMS
// county maps to, so their designation can be derived.
const populationSupplement = "assets/standards/county-population-supplement.csv"

// CountyTable is the county table with what could not be designated.
type CountyTable struct {
	*adequacy.Counties
	// Undesignated lists polygons with neither an official designation nor
	// a population to derive one from; decisions there are indeterminate.
	Undesignated []string
}

var embeddedCounties = sync.OnceValues(func() (*CountyTable, error) {
	b, err := assets.ReadFile(embeddedCountyTable)
	if err != nil {
		return nil, err
	}
	src, cs, err := hsd.ReadTable(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("embedded county table: %w", err)
	}
	return completeCounties(src, cs)
})

// EmbeddedCounties returns the built-in county table: the official CMS
// CY2026 designations and standards, plus derived designations for the
// polygons CMS does not list.
func EmbeddedCounties() (*CountyTable, error) { return embeddedCounties() }

// LoadCounties reads a county table from a file: a CMS HSD reference
// workbook (.xlsx, resolved to the county polygons on the fly) or a table
// written by "geoaccess standards import-hsd".
func LoadCounties(path string) (*CountyTable, error) {
	if strings.HasSuffix(strings.ToLower(path), ".xlsx") {
		res, source, err := ImportHSD(path)
		if err != nil {
			return nil, err
		}
		return completeCounties(source, res.Counties)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load county table: %w", err)
	}
	defer f.Close()
	src, cs, err := hsd.ReadTable(f)
	if err != nil {
		return nil, fmt.Errorf("load county table %s: %w", path, err)
	}
	return completeCounties(src, cs)
}

// ImportHSD reads a CMS HSD reference workbook and resolves its counties
// to the embedded county polygons.
func ImportHSD(path string) (*hsd.Resolution, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("import HSD: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("import HSD: %w", err)
	}
	ref, err := hsd.ReadXLSX(f, st.Size())
	if err != nil {
		return nil, "", fmt.Errorf("import HSD %s: %w", path, err)
	}
	g, err := EmbeddedGeography()
	if err != nil {
		return nil, "", err
	}
	var polys []hsd.Polygon
	for _, s := range g.Counties.Shapes() {
		polys = append(polys, hsd.Polygon{FIPS: s.FIPS, State: s.State, Name: s.Name})
	}
	res, err := hsd.Resolve(ref, polys)
	if err != nil {
		return nil, "", fmt.Errorf("import HSD %s: %w", path, err)
	}
	return res, ref.Title, nil
}

// completeCounties adds a derived designation for every polygon the
// official table lacks, from its Census population and its area.
func completeCounties(source string, official []adequacy.County) (*CountyTable, error) {
	g, err := EmbeddedGeography()
	if err != nil {
		return nil, err
	}
	pops, err := readPopulations()
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	all := append([]adequacy.County(nil), official...)
	for _, c := range official {
		have[c.FIPS] = true
	}
	var undesignated []string
	for _, s := range g.Counties.Shapes() {
		if have[s.FIPS] {
			continue
		}
		pop, ok := pops[s.FIPS]
		area := geo.AreaSqMiles(s.Shape)
		if !ok || area <= 0 {
			undesignated = append(undesignated, s.FIPS)
			continue
		}
		d, err := adequacy.Designate(float64(pop.n), float64(pop.n)/area)
		if err != nil {
			return nil, fmt.Errorf("county %s: %w", s.FIPS, err)
		}
		d.Basis = fmt.Sprintf("%s (population %d, %s; area %.1f sq mi from the polygon); no CMS county maps to this polygon",
			d.Basis, pop.n, pop.source, area)
		all = append(all, adequacy.County{FIPS: s.FIPS, Name: s.Name, State: s.State, Designation: d,
			Note: "not in the CMS HSD reference file: type derived, limits from the profile's base table"})
	}
	t, err := adequacy.NewCounties(source, all)
	if err != nil {
		return nil, err
	}
	return &CountyTable{Counties: t, Undesignated: undesignated}, nil
}

type population struct {
	n      int
	source string
}

func readPopulations() (map[string]population, error) {
	b, err := assets.ReadFile(populationSupplement)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.Comment = '#'
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", populationSupplement, err)
	}
	cols, err := findColumns(head, []string{"fips", "population", "source"}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", populationSupplement, err)
	}
	out := map[string]population{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", populationSupplement, err)
		}
		n, err := strconv.Atoi(rec[cols["population"]])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: %s: population %q is not a whole number", populationSupplement, rec[cols["fips"]], rec[cols["population"]])
		}
		out[rec[cols["fips"]]] = population{n, rec[cols["source"]]}
	}
}
