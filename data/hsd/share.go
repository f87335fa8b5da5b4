package hsd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// share is one polygon and the CMS counties that map to it.
type share struct {
	poly  Polygon
	rows  []*Row   // file order
	whys  []string // distinct mapping explanations
	spans []string // notes on CMS counties that span several polygons
}

func (s *share) add(row *Row, why string, to []Polygon) {
	s.rows = append(s.rows, row)
	if why != "" && !slices.Contains(s.whys, why) {
		s.whys = append(s.whys, why)
	}
	if len(to) > 1 {
		names := make([]string, len(to))
		for i, p := range to {
			names[i] = fmt.Sprintf("%s (%s)", p.Name, p.FIPS)
		}
		s.spans = append(s.spans, fmt.Sprintf(
			"CMS county %s (%s) covers %d polygons, %s; each carries its full figures (beneficiaries are not split).",
			row.Name, row.SSA, len(to), strings.Join(names, " and ")))
	}
}

// dominant is the CMS county with the most beneficiaries (the first in
// file order on a tie): its designation and time/distance standards speak
// for the polygon, as they do for most of its beneficiaries.
func (s *share) dominant() *Row {
	d := s.rows[0]
	for _, r := range s.rows[1:] {
		if r.Beneficiaries > d.Beneficiaries {
			d = r
		}
	}
	return d
}

// county builds the polygon's County: the dominant CMS county's
// designation, ratio and standards; beneficiaries and beneficiaries
// required summed; each minimum number the largest, so that no CMS
// county's minimum is understated.
func (s *share) county(title string) adequacy.County {
	dom := s.dominant()
	c := adequacy.County{
		FIPS:  s.poly.FIPS,
		Name:  s.poly.Name,
		State: s.poly.State,
		Designation: adequacy.Designation{
			Type:     dom.Designation,
			Official: true,
			Basis:    fmt.Sprintf("%s: %s, %s (SSA %s)", title, dom.Name, dom.State, dom.SSA),
		},
		BasePopulationRatio: dom.BasePopulationRatio,
		Standards:           dom.Standards,
	}
	if len(s.rows) > 1 {
		c.Designation.Basis += fmt.Sprintf(", the largest by beneficiaries of the %d CMS counties on this polygon", len(s.rows))
	}
	for _, r := range s.rows {
		c.CMSCounties = append(c.CMSCounties, r.SSA)
		c.Beneficiaries += r.Beneficiaries
		c.BeneficiariesRequired += r.BeneficiariesRequired
		for d := range c.Standards {
			c.Standards[d].MinProviders = max(c.Standards[d].MinProviders, r.Standards[d].MinProviders)
		}
	}
	c.Note = s.note(dom)
	return c
}

// note explains the mapping: why it is not a plain name match, spans,
// and, for a shared polygon, which CMS counties share it and whether they
// differ.
func (s *share) note(dom *Row) string {
	parts := append(slices.Clone(s.whys), s.spans...)
	if len(s.rows) > 1 {
		parts = append(parts, s.sharedNote(dom))
	}
	return strings.Join(parts, " ")
}

func (s *share) sharedNote(dom *Row) string {
	names := make([]string, len(s.rows))
	for i, r := range s.rows {
		names[i] = fmt.Sprintf("%s (%s)", r.Name, r.SSA)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d CMS counties share this polygon: %s. ", len(s.rows), strings.Join(names, ", "))
	fmt.Fprintf(&b, "Designation and standards are those of %s (%s), which has the most beneficiaries; "+
		"beneficiaries are summed and each minimum number is the largest of theirs. ", dom.Name, dom.SSA)
	if types := s.designations(); len(types) > 1 {
		fmt.Fprintf(&b, "Their designations differ (%s)", strings.Join(types, ", "))
	} else {
		fmt.Fprintf(&b, "Their designations agree (%s)", dom.Designation)
	}
	if ds := s.differingStandards(); len(ds) > 0 {
		fmt.Fprintf(&b, "; their time/distance standards differ for %s.", strings.Join(ds, ", "))
	} else {
		b.WriteString("; their time/distance standards agree.")
	}
	return b.String()
}

// designations counts the CMS counties by type: "Metro 3", "Rural 18".
func (s *share) designations() []string {
	var out []string
	for _, t := range adequacy.CountyTypes {
		n := 0
		for _, r := range s.rows {
			if r.Designation == t {
				n++
			}
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%s %d", t, n))
		}
	}
	return out
}

// differingStandards lists the disciplines whose time, distance or CON
// flag differ between the CMS counties (minimum numbers differ with size
// and are combined by taking the largest).
func (s *share) differingStandards() []string {
	var out []string
	for _, d := range adequacy.Disciplines {
		a := s.rows[0].Standards[d]
		for _, r := range s.rows[1:] {
			b := r.Standards[d]
			if a.Set != b.Set || a.MaxMinutes != b.MaxMinutes || a.MaxMiles != b.MaxMiles || a.CertificateOfNeed != b.CertificateOfNeed {
				out = append(out, d.String())
				break
			}
		}
	}
	return out
}
