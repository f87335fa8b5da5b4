package adequacy

import (
	"errors"
	"fmt"
	"sort"
)

// CountyStandard is the official per-county standard for one discipline,
// as published in the CMS HSD reference file: maximum time and distance
// (which already include CMS's county customisations) and the minimum
// number of providers.
type CountyStandard struct {
	Set          bool    // the reference file has this county × discipline
	MaxMinutes   float64 // maximum travel time, minutes
	MaxMiles     float64 // maximum distance, statute miles
	MinProviders int     // minimum number of providers (422.116(e))
	// CertificateOfNeed marks a county × specialty where CMS lists a
	// Certificate-of-Need limit, which makes the CON credit available.
	CertificateOfNeed bool
}

// County is one county (a county polygon of the geography, keyed by FIPS)
// with its designation and, where CMS publishes them, its official
// standards.
type County struct {
	FIPS        string
	Name        string
	State       string // USPS state or territory code
	Designation Designation

	// From the CMS HSD reference file, when the county is in it.
	CMSCounties           []string // SSA county codes mapped to this polygon
	Beneficiaries         int      // total Medicare beneficiaries
	BasePopulationRatio   float64  // 95th percentile base population ratio
	BeneficiariesRequired int      // beneficiaries required to cover
	Standards             [numDisciplines]CountyStandard

	// Note explains anything unusual about the mapping, such as several
	// CMS counties sharing this polygon.
	Note string
}

// Official reports whether CMS publishes standards for this county.
func (c *County) Official() bool { return c.Designation.Official }

// Standard returns the county's official standard for d, if any.
func (c *County) Standard(d Discipline) (CountyStandard, bool) {
	if !d.Valid() {
		return CountyStandard{}, false
	}
	s := c.Standards[d]
	return s, s.Set
}

// ErrUnknownCounty is returned for a FIPS code the county table lacks.
var ErrUnknownCounty = errors.New("unknown county")

// Counties is the county table: every county of the geography with its
// designation and official standards. Immutable once built.
type Counties struct {
	// Source names the reference the official values came from, e.g.
	// "CMS MA HSD reference file CY2026 (12-17-2025)".
	Source string
	byFIPS map[string]*County
	fips   []string
}

// NewCounties validates and indexes a county table.
func NewCounties(source string, cs []County) (*Counties, error) {
	t := &Counties{Source: source, byFIPS: make(map[string]*County, len(cs))}
	for i := range cs {
		c := cs[i]
		if !validFIPS(c.FIPS) {
			return nil, fmt.Errorf("county table: row %d: FIPS %q must be 5 digits", i+1, Excerpt(c.FIPS))
		}
		if _, dup := t.byFIPS[c.FIPS]; dup {
			return nil, fmt.Errorf("county table: row %d: FIPS %s appears twice", i+1, c.FIPS)
		}
		if !c.Designation.Type.Valid() {
			return nil, fmt.Errorf("county table: %s: %w", c.FIPS, ErrUnknownCountyType)
		}
		for d, s := range c.Standards {
			if s.Set && (!(s.MaxMiles > 0) || !(s.MaxMinutes > 0) || s.MinProviders < 0) {
				return nil, fmt.Errorf("county table: %s %s: standard needs max miles > 0, max minutes > 0 and minimum ≥ 0 (got %v mi, %v min, %d)",
					c.FIPS, Discipline(d), s.MaxMiles, s.MaxMinutes, s.MinProviders)
			}
		}
		t.byFIPS[c.FIPS] = &c
		t.fips = append(t.fips, c.FIPS)
	}
	sort.Strings(t.fips)
	return t, nil
}

// Lookup returns the county with the given FIPS code.
func (t *Counties) Lookup(fips string) (*County, error) {
	if c, ok := t.byFIPS[fips]; ok {
		return c, nil
	}
	if !validFIPS(fips) {
		return nil, fmt.Errorf("%w %q: a county FIPS code is 5 digits", ErrUnknownCounty, Excerpt(fips))
	}
	return nil, fmt.Errorf("%w %s", ErrUnknownCounty, Excerpt(fips))
}

// Len is the number of counties.
func (t *Counties) Len() int { return len(t.fips) }

// All returns the counties in FIPS order.
func (t *Counties) All() []*County {
	out := make([]*County, len(t.fips))
	for i, f := range t.fips {
		out[i] = t.byFIPS[f]
	}
	return out
}

func validFIPS(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := 0; i < 5; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
