package adequacy

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Profile is a standards profile: for each discipline and county type, the
// time and distance a member may have to travel, how many providers must
// lie within them, the share of members that must be served, the minimum
// provider count, which providers count, credits, and the time model.
// Profiles are data; docs/profiles.md documents the file format.
type Profile struct {
	Name      string // identifier, e.g. "cms-ma"
	Title     string
	Version   string
	Source    string // the regulation or contract the numbers come from
	Effective DateRange
	// OfficialCountyStandards: use the per-county time, distance and
	// minimum counts of the loaded county table (the CMS HSD reference
	// file) where it has them, instead of the base table below.
	OfficialCountyStandards bool
	Counting                Counting
	Time                    TimeModel
	Disciplines             map[Discipline]*DisciplineStandards
	Credits                 []Credit
}

// DateRange is an inclusive range of dates; a zero To is open-ended.
type DateRange struct{ From, To Date }

// Contains reports whether d is within the range.
func (r DateRange) Contains(d Date) bool {
	return !d.Before(r.From) && (r.To.IsZero() || !r.To.Before(d))
}

// Counting says which participating providers count toward the standard.
type Counting struct {
	InPersonOnly         bool // telehealth-only providers never count
	AcceptingNewPatients bool // only providers accepting new patients count
	EffectiveOnAsOf      bool // only providers effective on the as-of date count
}

// DisciplineStandards is one discipline's standards by county type.
type DisciplineStandards struct {
	ByType       [numCountyTypes]Standard
	MinimumCount MinimumCount
}

// Standard is the time/distance standard for one discipline in one county
// type.
type Standard struct {
	MaxMiles          float64 // 0 = no distance limit
	MaxMinutes        float64 // 0 = no time limit
	ProvidersRequired int     // within the limits: 1, or 2 for "choice of 2"
	ServedShare       float64 // share of members who must be served, 0..1
}

// MinimumCount is the minimum-number-of-providers rule of a discipline.
type MinimumCount struct {
	Rule  MinimumRule
	Fixed int                     // for MinimumFixed
	Ratio [numCountyTypes]float64 // providers per 1,000 beneficiaries, for MinimumPer1000
}

// MinimumRule selects how the minimum provider count is computed.
type MinimumRule uint8

// The minimum-count rules.
const (
	MinimumNone    MinimumRule = iota // no minimum count
	MinimumFixed                      // a fixed number per county
	MinimumPer1000                    // ceil(ratio × beneficiaries required to cover / 1000)
)

// Credit is a percentage-point reduction of the served share required,
// such as the 10-point Certificate-of-Need credit of 422.116(d).
type Credit struct {
	Name        string
	Points      float64 // percentage points
	Disciplines []Discipline
	AppliesWhen CreditCondition
	Basis       string
}

// CreditCondition says when a credit applies.
type CreditCondition uint8

// Credit conditions.
const (
	CreditRequested         CreditCondition = iota // only when the caller claims it
	CreditCertificateOfNeed                        // where the county table flags CON for the county × discipline
)

// ProfileError is a problem in a profile file, with where it is.
type ProfileError struct {
	Profile string // file or profile name
	Line    int    // 0 when unknown
	Path    string // e.g. disciplines.PT.standards.metro.max_miles
	Msg     string
}

func (e *ProfileError) Error() string {
	var b strings.Builder
	b.WriteString("profile ")
	b.WriteString(e.Profile)
	if e.Line > 0 {
		fmt.Fprintf(&b, ", line %d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(", ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ErrInvalidProfile is wrapped by every ProfileError.
var ErrInvalidProfile = errors.New("invalid profile")

func (e *ProfileError) Unwrap() error { return ErrInvalidProfile }

// rawProfile mirrors the file format.
type rawProfile struct {
	Name            string                    `yaml:"name"`
	Title           string                    `yaml:"title"`
	Version         string                    `yaml:"version"`
	Source          string                    `yaml:"source"`
	Effective       rawRange                  `yaml:"effective"`
	CountyStandards string                    `yaml:"county_standards"`
	Counting        rawCounting               `yaml:"counting"`
	TimeModel       rawTimeModel              `yaml:"time_model"`
	Defaults        rawDefaults               `yaml:"defaults"`
	Disciplines     map[string]*rawDiscipline `yaml:"disciplines"`
	Credits         []rawCredit               `yaml:"credits"`
}

type rawRange struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

type rawCounting struct {
	InPersonOnly         *bool `yaml:"in_person_only"`
	AcceptingNewPatients *bool `yaml:"accepting_new_patients"`
	EffectiveOnAsOf      *bool `yaml:"effective_on_as_of"`
}

type rawTimeModel struct {
	Kind           string             `yaml:"kind"`
	MinutesPerMile map[string]float64 `yaml:"minutes_per_mile"`
}

type rawDefaults struct {
	ProvidersRequired int                `yaml:"providers_required"`
	ServedShare       map[string]float64 `yaml:"served_share"`
}

type rawDiscipline struct {
	Standards         map[string]*rawStandard `yaml:"standards"`
	ProvidersRequired int                     `yaml:"providers_required"`
	ServedShare       map[string]float64      `yaml:"served_share"`
	MinimumCount      rawMinimum              `yaml:"minimum_count"`
}

type rawStandard struct {
	MaxMiles          *float64 `yaml:"max_miles"`
	MaxMinutes        *float64 `yaml:"max_minutes"`
	ProvidersRequired int      `yaml:"providers_required"`
	ServedShare       *float64 `yaml:"served_share"`
}

type rawMinimum struct {
	Rule  string             `yaml:"rule"`
	Count *int               `yaml:"count"`
	Ratio map[string]float64 `yaml:"ratio_per_1000"`
}

type rawCredit struct {
	Name        string   `yaml:"name"`
	Points      float64  `yaml:"points"`
	Disciplines []string `yaml:"disciplines"`
	AppliesWhen string   `yaml:"applies_when"`
	Basis       string   `yaml:"basis"`
}

var profileName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ParseProfile parses and validates a profile file (YAML or JSON). file
// names the source in errors. Every error is a *ProfileError with the
// line and field path where the file is wrong.
func ParseProfile(file string, b []byte) (*Profile, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &ProfileError{Profile: file, Msg: cleanYAMLError(err)}
	}
	if len(root.Content) == 0 {
		return nil, &ProfileError{Profile: file, Msg: "file is empty"}
	}
	var raw rawProfile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, &ProfileError{Profile: file, Msg: cleanYAMLError(err)}
	}
	v := validator{file: file, root: root.Content[0]}
	p := v.profile(&raw)
	if v.err != nil {
		return nil, v.err
	}
	return p, nil
}

func cleanYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: ")
	s = strings.ReplaceAll(s, "unmarshal errors:\n  ", "")
	s = strings.ReplaceAll(s, " in type adequacy.raw", " in ")
	return s
}

// validator converts the raw file into a Profile, keeping the first error.
type validator struct {
	file string
	root *yaml.Node
	err  error
}

func (v *validator) fail(path, format string, args ...any) {
	if v.err != nil {
		return
	}
	v.err = &ProfileError{Profile: v.file, Line: lineOf(v.root, path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

// lineOf finds the line of a dotted path in the YAML tree: the deepest key
// that exists, so a missing field points at its parent.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	if path == "" {
		return line
	}
	for _, key := range strings.Split(path, ".") {
		if n.Kind == yaml.SequenceNode {
			var i int
			if _, err := fmt.Sscanf(key, "%d", &i); err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			n = n.Content[i]
			line = n.Line
			continue
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if strings.EqualFold(n.Content[i].Value, key) {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

func (v *validator) profile(r *rawProfile) *Profile {
	p := &Profile{Name: r.Name, Title: r.Title, Version: r.Version, Source: r.Source}
	switch {
	case r.Name == "":
		v.fail("name", "is required")
	case !profileName.MatchString(r.Name):
		v.fail("name", "%q must be lower-case letters, digits and hyphens", Excerpt(r.Name))
	}
	if r.Version == "" {
		v.fail("version", "is required")
	}
	if r.Source == "" {
		v.fail("source", "is required: name the regulation or contract the numbers come from")
	}
	p.Effective = v.dateRange(r.Effective)
	switch r.CountyStandards {
	case "", "base":
	case "official":
		p.OfficialCountyStandards = true
	default:
		v.fail("county_standards", "%q must be official or base", Excerpt(r.CountyStandards))
	}
	p.Counting = Counting{
		InPersonOnly:         boolOr(r.Counting.InPersonOnly, true),
		AcceptingNewPatients: boolOr(r.Counting.AcceptingNewPatients, false),
		EffectiveOnAsOf:      boolOr(r.Counting.EffectiveOnAsOf, true),
	}
	shares := v.byType("defaults.served_share", r.Defaults.ServedShare, false)
	req := r.Defaults.ProvidersRequired
	if req == 0 {
		req = 1
	}
	if len(r.Disciplines) == 0 {
		v.fail("disciplines", "at least one discipline is required")
	}
	p.Disciplines = map[Discipline]*DisciplineStandards{}
	for key, rd := range r.Disciplines {
		d, err := ParseDiscipline(key)
		path := "disciplines." + key
		if err != nil {
			v.fail(path, "%v", err)
			continue
		}
		if _, dup := p.Disciplines[d]; dup {
			v.fail(path, "%s is given twice", d)
			continue
		}
		if rd == nil {
			v.fail(path, "needs standards")
			continue
		}
		p.Disciplines[d] = v.discipline(path, rd, shares, req)
	}
	p.Time = v.timeModel(r.TimeModel, p)
	for i, rc := range r.Credits {
		p.Credits = append(p.Credits, v.credit(fmt.Sprintf("credits.%d", i), rc))
	}
	return p
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func (v *validator) dateRange(r rawRange) DateRange {
	var out DateRange
	var err error
	if r.From == "" {
		v.fail("effective.from", "is required (YYYY-MM-DD)")
	} else if out.From, err = ParseDate(r.From); err != nil {
		v.fail("effective.from", "%v", err)
	}
	if r.To != "" {
		if out.To, err = ParseDate(r.To); err != nil {
			v.fail("effective.to", "%v", err)
		} else if out.To.Before(out.From) {
			v.fail("effective.to", "%s is before effective.from %s", out.To, out.From)
		}
	}
	return out
}

// byType reads a per-county-type map of shares (0..1] or, with ratio,
// non-negative ratios. Every county type must be present.
func (v *validator) byType(path string, m map[string]float64, ratio bool) [numCountyTypes]float64 {
	var out [numCountyTypes]float64
	seen := [numCountyTypes]bool{}
	for k, x := range m {
		t, err := ParseCountyType(k)
		if err != nil {
			v.fail(path+"."+k, "%v", err)
			continue
		}
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			v.fail(path+"."+k, "must be a finite number")
		case ratio && x < 0:
			v.fail(path+"."+k, "%v must be ≥ 0", x)
		case !ratio && (x <= 0 || x > 1):
			v.fail(path+"."+k, "%v must be a share between 0 and 1 (0.90 for 90%%)", x)
		}
		out[t], seen[t] = x, true
	}
	if m != nil {
		for t, ok := range seen {
			if !ok {
				v.fail(path, "needs a value for %s", CountyType(t).Key())
			}
		}
	}
	return out
}

func (v *validator) discipline(path string, rd *rawDiscipline, shares [numCountyTypes]float64, req int) *DisciplineStandards {
	ds := &DisciplineStandards{}
	if rd.ServedShare != nil {
		shares = v.byType(path+".served_share", rd.ServedShare, false)
	}
	if rd.ProvidersRequired != 0 {
		req = rd.ProvidersRequired
	}
	if len(rd.Standards) == 0 {
		v.fail(path+".standards", "needs a standard for each county type (large_metro, metro, micro, rural, ceac)")
	}
	seen := [numCountyTypes]bool{}
	for key, rs := range rd.Standards {
		t, err := ParseCountyType(key)
		sp := path + ".standards." + key
		if err != nil {
			v.fail(sp, "%v", err)
			continue
		}
		if rs == nil {
			v.fail(sp, "needs max_miles and/or max_minutes")
			continue
		}
		seen[t] = true
		s := Standard{ProvidersRequired: req, ServedShare: shares[t]}
		if rs.MaxMiles != nil {
			s.MaxMiles = *rs.MaxMiles
			if !(s.MaxMiles > 0) || math.IsInf(s.MaxMiles, 0) {
				v.fail(sp+".max_miles", "%v must be a positive number of miles", *rs.MaxMiles)
			}
		}
		if rs.MaxMinutes != nil {
			s.MaxMinutes = *rs.MaxMinutes
			if !(s.MaxMinutes > 0) || math.IsInf(s.MaxMinutes, 0) {
				v.fail(sp+".max_minutes", "%v must be a positive number of minutes", *rs.MaxMinutes)
			}
		}
		if rs.MaxMiles == nil && rs.MaxMinutes == nil {
			v.fail(sp, "needs max_miles and/or max_minutes")
		}
		if rs.ProvidersRequired != 0 {
			s.ProvidersRequired = rs.ProvidersRequired
		}
		if s.ProvidersRequired < 1 || s.ProvidersRequired > 100 {
			v.fail(sp+".providers_required", "%d must be between 1 and 100", s.ProvidersRequired)
		}
		if rs.ServedShare != nil {
			s.ServedShare = *rs.ServedShare
			if !(s.ServedShare > 0 && s.ServedShare <= 1) {
				v.fail(sp+".served_share", "%v must be a share between 0 and 1 (0.90 for 90%%)", *rs.ServedShare)
			}
		}
		if s.ServedShare == 0 {
			v.fail(sp+".served_share", "is required here or in defaults.served_share")
		}
		ds.ByType[t] = s
	}
	for t, ok := range seen {
		if !ok && len(rd.Standards) > 0 {
			v.fail(path+".standards", "needs a standard for %s", CountyType(t).Key())
		}
	}
	ds.MinimumCount = v.minimum(path+".minimum_count", rd.MinimumCount)
	return ds
}

func (v *validator) minimum(path string, r rawMinimum) MinimumCount {
	var m MinimumCount
	switch r.Rule {
	case "", "none":
		m.Rule = MinimumNone
	case "fixed":
		m.Rule = MinimumFixed
		if r.Count == nil || *r.Count < 0 {
			v.fail(path+".count", "a fixed minimum needs count ≥ 0")
		} else {
			m.Fixed = *r.Count
		}
	case "ratio_per_1000":
		m.Rule = MinimumPer1000
		if r.Ratio == nil {
			v.fail(path+".ratio_per_1000", "needs a ratio for each county type")
		}
		m.Ratio = v.byType(path+".ratio_per_1000", r.Ratio, true)
	default:
		v.fail(path+".rule", "%q must be none, fixed or ratio_per_1000", Excerpt(r.Rule))
	}
	return m
}

func (v *validator) timeModel(r rawTimeModel, p *Profile) TimeModel {
	switch r.Kind {
	case "", "county_ratio":
		for d, ds := range p.Disciplines {
			for t, s := range ds.ByType {
				if s.MaxMiles == 0 || s.MaxMinutes == 0 {
					v.fail("time_model.kind", "county_ratio estimates minutes per mile as max_minutes ÷ max_miles, but %s %s lacks one of them; use speed_table", d, CountyType(t).Key())
					return nil
				}
			}
		}
		return CountyRatio{}
	case "speed_table":
		if r.MinutesPerMile == nil {
			v.fail("time_model.minutes_per_mile", "speed_table needs minutes per mile for each county type")
			return nil
		}
		mpm := v.byType("time_model.minutes_per_mile", r.MinutesPerMile, true)
		for t, x := range mpm {
			if x <= 0 {
				v.fail("time_model.minutes_per_mile."+CountyType(t).Key(), "must be > 0")
			}
		}
		return SpeedTable{MinutesPerMile: mpm}
	}
	v.fail("time_model.kind", "%q must be county_ratio or speed_table", Excerpt(r.Kind))
	return nil
}

func (v *validator) credit(path string, r rawCredit) Credit {
	c := Credit{Name: r.Name, Points: r.Points, Basis: r.Basis}
	if r.Name == "" {
		v.fail(path+".name", "is required")
	}
	if !(r.Points >= 0 && r.Points <= 100) {
		v.fail(path+".points", "%v must be between 0 and 100 percentage points", r.Points)
	}
	for i, s := range r.Disciplines {
		d, err := ParseDiscipline(s)
		if err != nil {
			v.fail(fmt.Sprintf("%s.disciplines.%d", path, i), "%v", err)
			continue
		}
		c.Disciplines = append(c.Disciplines, d)
	}
	switch r.AppliesWhen {
	case "", "requested":
		c.AppliesWhen = CreditRequested
	case "certificate_of_need":
		c.AppliesWhen = CreditCertificateOfNeed
	default:
		v.fail(path+".applies_when", "%q must be requested or certificate_of_need", Excerpt(r.AppliesWhen))
	}
	return c
}

// Covers reports whether the profile has standards for d.
func (p *Profile) Covers(d Discipline) bool {
	_, ok := p.Disciplines[d]
	return ok
}

// CoveredDisciplines lists the disciplines the profile has standards for.
func (p *Profile) CoveredDisciplines() []Discipline {
	var out []Discipline
	for _, d := range Disciplines {
		if p.Covers(d) {
			out = append(out, d)
		}
	}
	return out
}
