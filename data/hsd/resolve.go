package hsd

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Polygon is a county polygon of the geography.
type Polygon struct{ FIPS, State, Name string }

// Resolution is the CMS counties joined to county polygons.
type Resolution struct {
	// Counties has one County per polygon that at least one CMS county
	// maps to, in FIPS order, with the official designation and standards.
	Counties []adequacy.County
	// Unresolved lists the CMS counties that map to no polygon, in file
	// order.
	Unresolved []Unresolved
	// Unmatched lists the polygons no CMS county maps to, in FIPS order;
	// they get derived designations elsewhere.
	Unmatched []Polygon
}

// Unresolved is a CMS county that maps to no polygon, and why.
type Unresolved struct {
	Row    Row
	Reason string
}

// Resolve joins the CMS counties of ref to polygons by state and
// normalised name (normName), Virginia-style independent cities, renamed
// counties and the documented mappings of mappings.go.
//
// Where several CMS counties share a polygon, its County takes the
// designation, ratio and time/distance standards of the one with the most
// beneficiaries, sums beneficiaries and beneficiaries required, and takes
// the largest minimum number per discipline; its Note says so and whether
// the counties differ. Where one CMS county spans several polygons, each
// carries its full figures.
func Resolve(ref *Reference, polys []Polygon) (*Resolution, error) {
	if ref == nil {
		return nil, errors.New("hsd: resolve: no reference")
	}
	ix, err := newPolyIndex(polys)
	if err != nil {
		return nil, err
	}
	title := ref.Title
	if title == "" {
		title = Title
	}
	shares := make(map[string]*share)
	res := &Resolution{}
	for i := range ref.Rows {
		row := &ref.Rows[i]
		to, why, reason := ix.resolve(row)
		if reason != "" {
			res.Unresolved = append(res.Unresolved, Unresolved{*row, reason})
			continue
		}
		for _, p := range to {
			s := shares[p.FIPS]
			if s == nil {
				s = &share{poly: p}
				shares[p.FIPS] = s
			}
			s.add(row, why, to)
		}
	}
	for _, p := range ix.all {
		if s, ok := shares[p.FIPS]; ok {
			res.Counties = append(res.Counties, s.county(title))
		} else {
			res.Unmatched = append(res.Unmatched, p)
		}
	}
	return res, nil
}

// independentCity reports whether a polygon is an independent city:
// Census codes them from 510 up within their state (Virginia's cities,
// Baltimore, St. Louis, Carson City), a range no county reaches (Texas's
// counties run to 507).
func independentCity(fips string) bool { return fips[2:] >= "510" }

// polyIndex finds polygons by state and normalised name.
type polyIndex struct {
	all    []Polygon            // FIPS order
	byName map[string][]Polygon // state|key → polygons
}

func newPolyIndex(polys []Polygon) (*polyIndex, error) {
	ix := &polyIndex{byName: make(map[string][]Polygon)}
	seen := make(map[string]bool, len(polys))
	for i, p := range polys {
		if len(p.FIPS) != 5 || strings.Trim(p.FIPS, "0123456789") != "" {
			return nil, fmt.Errorf("hsd: resolve: polygon %d: FIPS %q is not 5 digits", i+1, p.FIPS)
		}
		if seen[p.FIPS] {
			return nil, fmt.Errorf("hsd: resolve: polygon %d: FIPS %s appears twice", i+1, p.FIPS)
		}
		seen[p.FIPS] = true
		k := nameKey(p.State, p.Name)
		ix.byName[k] = append(ix.byName[k], p)
		ix.all = append(ix.all, p)
	}
	sort.Slice(ix.all, func(i, j int) bool { return ix.all[i].FIPS < ix.all[j].FIPS })
	return ix, nil
}

// nameKey is the join key of a county: state and normalised name, with
// renamed counties under their new name.
func nameKey(state, name string) string {
	n := normName(name)
	for _, r := range renamed {
		if r.state == state && normName(r.old) == n {
			n = normName(r.new)
		}
	}
	return state + "|" + n
}

// named returns the polygon named name in state. Where a county and an
// independent city share the name (Fairfax County and Fairfax city, VA;
// Baltimore County and Baltimore city, MD), the plain name is the county.
func (ix *polyIndex) named(state, name string) (Polygon, bool) {
	ps := ix.byName[nameKey(state, name)]
	if len(ps) > 1 {
		ps = filter(ps, false)
	}
	if len(ps) != 1 {
		return Polygon{}, false
	}
	return ps[0], true
}

func filter(ps []Polygon, cities bool) []Polygon {
	var out []Polygon
	for _, p := range ps {
		if independentCity(p.FIPS) == cities {
			out = append(out, p)
		}
	}
	return out
}

// resolve finds the polygons of a CMS county: by name; as an independent
// city ("Fairfax City" is the polygon "Fairfax" coded as a city); by a
// documented mapping. why explains a mapping; reason, when set, says why
// there is no polygon.
func (ix *polyIndex) resolve(row *Row) (to []Polygon, why, reason string) {
	if m, ok := findMapping(row); ok && m.override {
		return ix.mapped(row, m)
	}
	if p, ok := ix.named(row.State, row.Name); ok {
		return []Polygon{p}, "", ""
	}
	if ps := ix.byName[nameKey(row.State, row.Name)]; len(ps) > 1 {
		return nil, "", fmt.Sprintf("%d polygons in %s are named %q", len(ps), row.State, row.Name)
	}
	if base, ok := strings.CutSuffix(normName(row.Name), "city"); ok && base != "" {
		if ps := filter(ix.byName[row.State+"|"+base], true); len(ps) == 1 {
			return ps, "", ""
		}
	}
	m, ok := findMapping(row)
	if !ok {
		return nil, "", fmt.Sprintf("no polygon in %s is named %q", row.State, row.Name)
	}
	return ix.mapped(row, m)
}

// mapped resolves a CMS county by a documented mapping.
func (ix *polyIndex) mapped(row *Row, m mapping) (to []Polygon, why, reason string) {
	for _, name := range m.polygons {
		p, ok := ix.named(row.State, name)
		if !ok {
			return nil, "", fmt.Sprintf("%s The geography has no polygon %q in %s.", m.why, name, row.State)
		}
		to = append(to, p)
	}
	return to, m.why, ""
}

// findMapping returns the mapping for a CMS county: by name, else the
// state's catch-all.
func findMapping(row *Row) (mapping, bool) {
	n := normName(row.Name)
	for _, m := range mappings {
		if m.state == row.State && m.cms != "*" && normName(m.cms) == n {
			return m, true
		}
	}
	for _, m := range mappings {
		if m.state == row.State && m.cms == "*" {
			return m, true
		}
	}
	return mapping{}, false
}
