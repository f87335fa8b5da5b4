package data

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/geoaccess/geoaccess/adequacy"
)

// ProfileError is a problem in a profile file, with where it is.
type ProfileError struct {
	Profile string // file or profile name
	Line    int    // 0 when unknown
	Path    string // e.g. disciplines.PT.standards.metro.max_miles
	Msg     string
}

func (e *ProfileError) Error() string { return placed("profile", e.Profile, e.Line, e.Path, e.Msg) }

// placed is a file error's text: "KIND FILE, line N, PATH: MSG", the
// line and path when known.
func placed(kind, file string, line int, path, msg string) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteString(" ")
	b.WriteString(file)
	if line > 0 {
		fmt.Fprintf(&b, ", line %d", line)
	}
	if path != "" {
		b.WriteString(", ")
		b.WriteString(path)
	}
	b.WriteString(": ")
	b.WriteString(msg)
	return b.String()
}

// ErrInvalidProfile is wrapped by every ProfileError.
var ErrInvalidProfile = errors.New("invalid profile")

func (e *ProfileError) Unwrap() error { return ErrInvalidProfile }

// rawProfile mirrors the file format.
type rawProfile struct {
	Name            string                    `yaml:"name,omitempty"`
	Title           string                    `yaml:"title,omitempty"`
	Version         string                    `yaml:"version,omitempty"`
	Source          string                    `yaml:"source,omitempty"`
	Effective       rawRange                  `yaml:"effective,omitempty"`
	CountyStandards string                    `yaml:"county_standards,omitempty"`
	CountyTable     string                    `yaml:"county_table,omitempty"`
	Counting        rawCounting               `yaml:"counting,omitempty"`
	TimeModel       rawTimeModel              `yaml:"time_model,omitempty"`
	Defaults        rawDefaults               `yaml:"defaults,omitempty"`
	Disciplines     map[string]*rawDiscipline `yaml:"disciplines,omitempty"`
	Services        map[string]*rawDiscipline `yaml:"services,omitempty"`
	Credits         []rawCredit               `yaml:"credits,omitempty"`
}

type rawRange struct {
	From string `yaml:"from,omitempty"`
	To   string `yaml:"to,omitempty"`
}

type rawCounting struct {
	InPersonOnly         *bool `yaml:"in_person_only,omitempty"`
	AcceptingNewPatients *bool `yaml:"accepting_new_patients,omitempty"`
	EffectiveOnAsOf      *bool `yaml:"effective_on_as_of,omitempty"`
}

type rawTimeModel struct {
	Kind           string             `yaml:"kind,omitempty"`
	MinutesPerMile map[string]float64 `yaml:"minutes_per_mile,omitempty"`
}

type rawDefaults struct {
	ProvidersRequired int                `yaml:"providers_required,omitempty"`
	ServedShare       map[string]float64 `yaml:"served_share,omitempty"`
}

type rawDiscipline struct {
	Standards         map[string]*rawStandard `yaml:"standards,omitempty"`
	ProvidersRequired int                     `yaml:"providers_required,omitempty"`
	ServedShare       map[string]float64      `yaml:"served_share,omitempty"`
	MinimumCount      rawMinimum              `yaml:"minimum_count,omitempty"`
}

type rawStandard struct {
	MaxMiles          *float64 `yaml:"max_miles,omitempty"`
	MaxMinutes        *float64 `yaml:"max_minutes,omitempty"`
	ProvidersRequired int      `yaml:"providers_required,omitempty"`
	ServedShare       *float64 `yaml:"served_share,omitempty"`
}

type rawMinimum struct {
	Rule  string             `yaml:"rule,omitempty"`
	Count *int               `yaml:"count,omitempty"`
	Ratio map[string]float64 `yaml:"ratio_per_1000,omitempty"`
}

type rawCredit struct {
	Name        string   `yaml:"name,omitempty"`
	Points      float64  `yaml:"points,omitempty"`
	Disciplines []string `yaml:"disciplines,omitempty"`
	AppliesWhen string   `yaml:"applies_when,omitempty"`
	Basis       string   `yaml:"basis,omitempty"`
}

var (
	profileName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	serviceKey  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// ParseProfile parses and validates a profile file (YAML or JSON). file
// names the source in errors. Every error is a *ProfileError with the
// line and field path where the file is wrong. A county_table the file
// names is not read here: LoadProfiles reads it.
func ParseProfile(file string, b []byte) (*adequacy.Profile, error) {
	p, _, err := parseProfile(file, b)
	return p, err
}

// parseProfile is ParseProfile that also returns the county_table path as
// the file gives it.
func parseProfile(file string, b []byte) (*adequacy.Profile, string, error) {
	p, raw, err := decodeProfile(file, b)
	if err != nil {
		return nil, "", err
	}
	return p, raw.CountyTable, nil
}

func decodeProfile(file string, b []byte) (*adequacy.Profile, *rawProfile, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, nil, &ProfileError{Profile: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 {
		return nil, nil, &ProfileError{Profile: file, Msg: "file is empty"}
	}
	var raw rawProfile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, nil, decodeError(file, root.Content[0], err)
	}
	v := validator{file: file, root: root.Content[0]}
	p := v.profile(&raw)
	if v.err != nil {
		return nil, nil, v.err
	}
	return p, &raw, nil
}

// The decoder's messages name Go types; decodePlace rewrites the kinds a
// file meets (an unknown field, a value of the wrong kind, a key given
// twice) in the file's own terms, with the field's path. Every YAML/JSON
// reader here (profiles, plans, the services vocabulary) reports through
// it.
var (
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (.+) not found in type \S+$`)
	wrongKindRE    = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+) (?:`(.*)` )?into (\\S+)$")
	duplicateKeyRE = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
)

func decodeError(file string, root *yaml.Node, err error) error {
	line, path, msg := decodePlace(root, err, "profile")
	return &ProfileError{Profile: file, Line: line, Path: path, Msg: msg}
}

// decodePlace turns a decoder error into the line, the field path and a
// message without Go type names; format names the file's format ("profile")
// for errors it cannot place.
func decodePlace(root *yaml.Node, err error, format string) (line int, path, msg string) {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return 0, "", strings.TrimPrefix(err.Error(), "yaml: ")
	}
	first := te.Errors[0]
	if m := unknownFieldRE.FindStringSubmatch(first); m != nil {
		line = atoiOr(m[1])
		return line, pathAt(root, line, m[2], true), fmt.Sprintf("unknown field %s", adequacy.ExcerptN(m[2], 40))
	}
	if m := wrongKindRE.FindStringSubmatch(first); m != nil {
		line = atoiOr(m[1])
		got := yamlKind(m[2])
		if m[3] != "" {
			got = fmt.Sprintf("%q", adequacy.ExcerptN(m[3], 40))
		}
		if root.Kind == yaml.MappingNode { // else the file itself is of the wrong kind
			path = pathAt(root, line, m[3], false)
		}
		return line, path, fmt.Sprintf("%s where %s is expected", got, goKind(m[4]))
	}
	if m := duplicateKeyRE.FindStringSubmatch(first); m != nil {
		line = atoiOr(m[1])
		return line, pathAt(root, line, m[2], true), fmt.Sprintf("%s is given twice (first on line %s)", adequacy.ExcerptN(m[2], 40), m[3])
	}
	// Any other decoder message: drop Go's words.
	return 0, "", "the file does not have the " + format + " format"
}

func atoiOr(s string) int {
	n := 0
	fmt.Sscanf(s, "%d", &n) //nolint:errcheck // the regexp matched digits
	return n
}

func yamlKind(tag string) string {
	switch tag {
	case "str":
		return "text"
	case "map":
		return "a mapping"
	case "seq":
		return "a list"
	case "int", "float":
		return "a number"
	case "bool":
		return "true/false"
	}
	return "a value of the wrong kind"
}

// goKind names what a Go destination type expects, in a profile's words.
func goKind(t string) string {
	t = strings.TrimLeft(t, "*")
	switch {
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "text"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return "a mapping" // maps and the file's own sections
}

// pathAt finds the dotted path of the node on line whose key (key true) or
// value is s; the empty path when there is none.
func pathAt(root *yaml.Node, line int, s string, key bool) string {
	var walk func(n *yaml.Node, path string) (string, bool)
	walk = func(n *yaml.Node, path string) (string, bool) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := join(path, adequacy.ExcerptN(k.Value, 40)) // a key is the file's text: bounded
				if (key && k.Line == line && k.Value == s) || (!key && v.Line == line && (s == "" || (v.Kind == yaml.ScalarNode && v.Value == s))) {
					return p, true
				}
				if got, ok := walk(v, p); ok {
					return got, true
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := join(path, fmt.Sprint(i))
				if !key && c.Line == line && (s == "" || (c.Kind == yaml.ScalarNode && c.Value == s)) {
					return p, true
				}
				if got, ok := walk(c, p); ok {
					return got, true
				}
			}
		}
		return "", false
	}
	p, _ := walk(root, "")
	return p
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
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

func (v *validator) profile(r *rawProfile) *adequacy.Profile {
	p := &adequacy.Profile{Name: r.Name, Title: r.Title, Version: r.Version, Source: r.Source}
	switch {
	case r.Name == "":
		v.fail("name", "is required")
	case !profileName.MatchString(r.Name):
		v.fail("name", "%q must be lower-case letters, digits and hyphens", adequacy.Excerpt(r.Name))
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
		v.fail("county_standards", "%q must be official or base", adequacy.Excerpt(r.CountyStandards))
	}
	p.Counting = adequacy.Counting{
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
	p.Disciplines = map[adequacy.Discipline]*adequacy.DisciplineStandards{}
	for key, rd := range r.Disciplines {
		d, err := adequacy.ParseDiscipline(key)
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
	for key, rd := range r.Services {
		path := "services." + key
		code := strings.ToLower(strings.TrimSpace(key))
		switch {
		case !serviceKey.MatchString(code):
			v.fail(path, "%q is not a service code (lower-case letters, digits and hyphens)", adequacy.Excerpt(key))
			continue
		case rd == nil:
			v.fail(path, "needs standards")
			continue
		}
		if p.Services == nil {
			p.Services = map[string]*adequacy.DisciplineStandards{}
		}
		if _, dup := p.Services[code]; dup {
			v.fail(path, "%s is given twice", code)
			continue
		}
		p.Services[code] = v.discipline(path, rd, shares, req)
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

func (v *validator) dateRange(r rawRange) adequacy.DateRange {
	var out adequacy.DateRange
	var err error
	if r.From == "" {
		v.fail("effective.from", "is required (YYYY-MM-DD)")
	} else if out.From, err = adequacy.ParseDate(r.From); err != nil {
		v.fail("effective.from", "%v", err)
	}
	if r.To != "" {
		if out.To, err = adequacy.ParseDate(r.To); err != nil {
			v.fail("effective.to", "%v", err)
		} else if out.To.Before(out.From) {
			v.fail("effective.to", "%s is before effective.from %s", out.To, out.From)
		}
	}
	return out
}

// byType reads a per-county-type map of shares (0..1] or, with ratio,
// non-negative ratios. Every county type must be present.
func (v *validator) byType(path string, m map[string]float64, ratio bool) [adequacy.NumCountyTypes]float64 {
	var out [adequacy.NumCountyTypes]float64
	seen := [adequacy.NumCountyTypes]bool{}
	for k, x := range m {
		t, err := adequacy.ParseCountyType(k)
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
				v.fail(path, "needs a value for %s", adequacy.CountyType(t).Key())
			}
		}
	}
	return out
}

func (v *validator) discipline(path string, rd *rawDiscipline, shares [adequacy.NumCountyTypes]float64, req int) *adequacy.DisciplineStandards {
	ds := &adequacy.DisciplineStandards{}
	if rd.ServedShare != nil {
		shares = v.byType(path+".served_share", rd.ServedShare, false)
	}
	if rd.ProvidersRequired != 0 {
		req = rd.ProvidersRequired
	}
	if len(rd.Standards) == 0 {
		v.fail(path+".standards", "needs a standard for each county type (large_metro, metro, micro, rural, ceac)")
	}
	seen := [adequacy.NumCountyTypes]bool{}
	for key, rs := range rd.Standards {
		t, err := adequacy.ParseCountyType(key)
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
		s := adequacy.Standard{ProvidersRequired: req, ServedShare: shares[t]}
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
			v.fail(path+".standards", "needs a standard for %s", adequacy.CountyType(t).Key())
		}
	}
	ds.MinimumCount = v.minimum(path+".minimum_count", rd.MinimumCount)
	return ds
}

func (v *validator) minimum(path string, r rawMinimum) adequacy.MinimumCount {
	var m adequacy.MinimumCount
	switch r.Rule {
	case "", "none":
		m.Rule = adequacy.MinimumNone
	case "fixed":
		m.Rule = adequacy.MinimumFixed
		if r.Count == nil || *r.Count < 0 {
			v.fail(path+".count", "a fixed minimum needs count ≥ 0")
		} else {
			m.Fixed = *r.Count
		}
	case "ratio_per_1000":
		m.Rule = adequacy.MinimumPer1000
		if r.Ratio == nil {
			v.fail(path+".ratio_per_1000", "needs a ratio for each county type")
		}
		m.Ratio = v.byType(path+".ratio_per_1000", r.Ratio, true)
	default:
		v.fail(path+".rule", "%q must be none, fixed or ratio_per_1000", adequacy.Excerpt(r.Rule))
	}
	return m
}

func (v *validator) timeModel(r rawTimeModel, p *adequacy.Profile) adequacy.TimeModel {
	switch r.Kind {
	case "", "county_ratio":
		for d, ds := range p.Disciplines {
			for t, s := range ds.ByType {
				if s.MaxMiles == 0 || s.MaxMinutes == 0 {
					v.fail("time_model.kind", "county_ratio estimates minutes per mile as max_minutes ÷ max_miles, but %s %s lacks one of them; use speed_table", d, adequacy.CountyType(t).Key())
					return nil
				}
			}
		}
		for code, ss := range p.Services {
			for t, s := range ss.ByType {
				if s.MaxMiles == 0 || s.MaxMinutes == 0 {
					v.fail("time_model.kind", "county_ratio estimates minutes per mile as max_minutes ÷ max_miles, but service %s %s lacks one of them; use speed_table", code, adequacy.CountyType(t).Key())
					return nil
				}
			}
		}
		return adequacy.CountyRatio{}
	case "speed_table":
		if r.MinutesPerMile == nil {
			v.fail("time_model.minutes_per_mile", "speed_table needs minutes per mile for each county type")
			return nil
		}
		mpm := v.byType("time_model.minutes_per_mile", r.MinutesPerMile, true)
		for t, x := range mpm {
			if x <= 0 {
				v.fail("time_model.minutes_per_mile."+adequacy.CountyType(t).Key(), "must be > 0")
			}
		}
		return adequacy.SpeedTable{MinutesPerMile: mpm}
	}
	v.fail("time_model.kind", "%q must be county_ratio or speed_table", adequacy.Excerpt(r.Kind))
	return nil
}

func (v *validator) credit(path string, r rawCredit) adequacy.Credit {
	c := adequacy.Credit{Name: r.Name, Points: r.Points, Basis: r.Basis}
	if r.Name == "" {
		v.fail(path+".name", "is required")
	}
	if !(r.Points >= 0 && r.Points <= 100) {
		v.fail(path+".points", "%v must be between 0 and 100 percentage points", r.Points)
	}
	for i, s := range r.Disciplines {
		d, err := adequacy.ParseDiscipline(s)
		if err != nil {
			v.fail(fmt.Sprintf("%s.disciplines.%d", path, i), "%v", err)
			continue
		}
		c.Disciplines = append(c.Disciplines, d)
	}
	switch r.AppliesWhen {
	case "", "requested":
		c.AppliesWhen = adequacy.CreditRequested
	case "certificate_of_need":
		c.AppliesWhen = adequacy.CreditCertificateOfNeed
	default:
		v.fail(path+".applies_when", "%q must be requested or certificate_of_need", adequacy.Excerpt(r.AppliesWhen))
	}
	return c
}
