package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/geoaccess/geoaccess/adequacy"
)

// PlansError is a problem in a plans file, with where it is.
type PlansError struct {
	File string
	Line int    // 0 when unknown
	Path string // e.g. plans.1.service_area.counties.0
	Msg  string
}

func (e *PlansError) Error() string { return placed("plans", e.File, e.Line, e.Path, e.Msg) }

// ErrInvalidPlans is wrapped by every PlansError.
var ErrInvalidPlans = errors.New("invalid plans file")

func (e *PlansError) Unwrap() error { return ErrInvalidPlans }

// MaxPlansFileBytes bounds a plans file: thousands of plans with
// state-wide service areas take a few hundred kilobytes.
const MaxPlansFileBytes = 8 << 20

// rawPlans mirrors the file format.
type rawPlans struct {
	Plans []*rawPlan `yaml:"plans"`
}

type rawPlan struct {
	ID             string          `yaml:"id"`
	Name           string          `yaml:"name"`
	ProductLine    string          `yaml:"product_line"`
	Profile        string          `yaml:"profile"`
	ProfileVersion string          `yaml:"profile_version"`
	Networks       []string        `yaml:"networks"`
	ServiceArea    *rawServiceArea `yaml:"service_area"`
	Effective      *rawRange       `yaml:"effective"`
}

// rawServiceArea: whole states and single counties, less some counties.
type rawServiceArea struct {
	States          []string `yaml:"states"`
	Counties        []string `yaml:"counties"`
	ExcludeCounties []string `yaml:"exclude_counties"`
}

// PlansVersion is the version a plans file's registry carries:
// "file:" and the first 12 hex digits of the file's SHA-256.
func PlansVersion(b []byte) string {
	sum := sha256.Sum256(b)
	return "file:" + hex.EncodeToString(sum[:])[:12]
}

// LoadPlans reads a plans file (YAML or JSON; see docs/plans.md) and
// validates it against the loaded profiles: every plan's profile (and
// pinned profile_version) must be one of them (nil profiles: not checked). State codes in service
// areas expand to their counties in counties (nil: the embedded county
// table). The registry's Version is PlansVersion of the file, its Source
// the file name. Every error about the file's content is a *PlansError
// naming the line and field path.
func LoadPlans(file string, profiles *adequacy.Profiles, counties *adequacy.Counties) (*adequacy.Plans, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("load plans: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxPlansFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load plans %s: %w", file, err)
	}
	return ParsePlans(file, b, profiles, counties)
}

// ParsePlans is LoadPlans on a file's contents; file names it in errors
// and becomes the registry's Source.
func ParsePlans(file string, b []byte, profiles *adequacy.Profiles, counties *adequacy.Counties) (*adequacy.Plans, error) {
	if len(b) > MaxPlansFileBytes {
		return nil, &PlansError{File: file, Msg: fmt.Sprintf("file is larger than %d MiB", MaxPlansFileBytes>>20)}
	}
	if counties == nil {
		ct, err := EmbeddedCounties()
		if err != nil {
			return nil, err
		}
		counties = ct.Counties
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &PlansError{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 {
		return nil, &PlansError{File: file, Msg: "file is empty"}
	}
	var raw rawPlans
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		line, path, msg := decodePlace(root.Content[0], err, "plans")
		return nil, &PlansError{File: file, Line: line, Path: path, Msg: msg}
	}
	v := plansValidator{file: file, root: root.Content[0], counties: counties}
	ps := v.plans(&raw)
	if v.err != nil {
		return nil, v.err
	}
	reg, err := adequacy.NewPlans(PlansVersion(b), file, ps, profiles)
	if pe, ok := errors.AsType[*adequacy.PlanError](err); ok {
		path := fmt.Sprintf("plans.%d", pe.Index)
		if pe.Field != "" && !strings.HasPrefix(pe.Field, "service_area") {
			// A service area is checked here, path by path, before
			// NewPlans sees its expanded list.
			path += "." + pe.Field
		}
		return nil, &PlansError{File: file, Line: lineOf(v.root, path), Path: path, Msg: pe.Err.Error()}
	}
	if err != nil {
		return nil, &PlansError{File: file, Msg: err.Error()}
	}
	return reg, nil
}

// plansValidator converts the raw file into plans, keeping the first error.
type plansValidator struct {
	file     string
	root     *yaml.Node
	counties *adequacy.Counties
	byState  map[string][]string // state code → county FIPS, built on first use
	err      error
}

func (v *plansValidator) fail(path, format string, args ...any) {
	if v.err != nil {
		return
	}
	v.err = &PlansError{File: v.file, Line: lineOf(v.root, path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (v *plansValidator) plans(r *rawPlans) []adequacy.Plan {
	if len(r.Plans) == 0 {
		v.fail("plans", "list at least one plan")
		return nil
	}
	out := make([]adequacy.Plan, 0, len(r.Plans))
	for i, rp := range r.Plans {
		path := fmt.Sprintf("plans.%d", i)
		if rp == nil {
			v.fail(path, "is empty: a plan needs id, name, profile and networks")
			continue
		}
		p := adequacy.Plan{ID: rp.ID, Name: rp.Name, ProductLine: adequacy.ProductLine(rp.ProductLine),
			Profile: rp.Profile, ProfileVersion: rp.ProfileVersion, Networks: rp.Networks}
		switch {
		case rp.ID == "":
			v.fail(path+".id", "is required")
		case rp.Profile == "":
			v.fail(path+".profile", "is required: the standards profile the contract mandates")
		case len(rp.Networks) == 0:
			v.fail(path+".networks", "is required: list the networks whose providers count for the plan")
		}
		if rp.ProductLine == "" {
			p.ProductLine = adequacy.OtherProduct
		}
		if rp.ServiceArea != nil {
			p.ServiceArea = v.serviceArea(path+".service_area", rp.ServiceArea)
		}
		if rp.Effective != nil {
			p.Effective = v.effective(path+".effective", *rp.Effective)
		}
		out = append(out, p)
	}
	return out
}

// serviceArea expands states to their counties, adds the counties named
// and takes out the excluded ones: a sorted list of FIPS codes.
func (v *plansValidator) serviceArea(path string, r *rawServiceArea) []string {
	if len(r.States) == 0 && len(r.Counties) == 0 {
		v.fail(path, "give states and/or counties (or leave service_area out: no restriction)")
		return nil
	}
	in := map[string]bool{}
	seenState := map[string]bool{}
	for i, s := range r.States {
		sp := fmt.Sprintf("%s.states.%d", path, i)
		code := strings.ToUpper(strings.TrimSpace(s))
		fips, ok := v.state(code)
		switch {
		case !ok:
			v.fail(sp, "%q is not a state or territory code of the county table (NY, TX, PR, …)", adequacy.ExcerptN(s, 16))
		case seenState[code]:
			v.fail(sp, "%s is listed twice", code)
		}
		seenState[code] = true
		for _, f := range fips {
			in[f] = true
		}
	}
	for i, f := range r.Counties {
		sp := fmt.Sprintf("%s.counties.%d", path, i)
		c, ok := v.county(sp, f)
		if !ok {
			continue
		}
		switch {
		case seenState[c.State]:
			v.fail(sp, "%s (%s, %s) is already in the service area through state %s", f, c.Name, c.State, c.State)
		case in[f]:
			v.fail(sp, "%s is listed twice", f)
		}
		in[f] = true
	}
	for i, f := range r.ExcludeCounties {
		sp := fmt.Sprintf("%s.exclude_counties.%d", path, i)
		c, ok := v.county(sp, f)
		if !ok {
			continue
		}
		if !in[f] {
			v.fail(sp, "%s (%s, %s) is not in the service area: exclude only counties of its states or counties", f, c.Name, c.State)
		}
		delete(in, f)
	}
	if v.err == nil && len(in) == 0 {
		v.fail(path+".exclude_counties", "excludes every county of the service area")
	}
	out := make([]string, 0, len(in))
	for f := range in {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// county looks a FIPS code up in the county table.
func (v *plansValidator) county(path, f string) (*adequacy.County, bool) {
	if len(f) != 5 || strings.Trim(f, "0123456789") != "" {
		hint := ""
		if len(f) == 4 && strings.Trim(f, "0123456789") == "" {
			hint = fmt.Sprintf(` (quote it, "0%s": a number loses its leading zero)`, f)
		}
		v.fail(path, "%q must be a 5-digit county FIPS code%s", adequacy.ExcerptN(f, 16), hint)
		return nil, false
	}
	c, err := v.counties.Lookup(f)
	if err != nil {
		v.fail(path, "%s is not a county of the county table", f)
		return nil, false
	}
	return c, true
}

// state returns a state's counties.
func (v *plansValidator) state(code string) ([]string, bool) {
	if v.byState == nil {
		v.byState = map[string][]string{}
		for _, c := range v.counties.All() {
			v.byState[c.State] = append(v.byState[c.State], c.FIPS)
		}
	}
	fips, ok := v.byState[code]
	return fips, ok && code != ""
}

func (v *plansValidator) effective(path string, r rawRange) adequacy.DateRange {
	var out adequacy.DateRange
	var err error
	if r.From == "" && r.To == "" {
		v.fail(path, "give from and/or to (YYYY-MM-DD), or leave effective out: always in effect")
	}
	if r.From != "" {
		if out.From, err = adequacy.ParseDate(adequacy.ExcerptN(r.From, 32)); err != nil {
			v.fail(path+".from", "%v", err)
		}
	}
	if r.To != "" {
		if out.To, err = adequacy.ParseDate(adequacy.ExcerptN(r.To, 32)); err != nil {
			v.fail(path+".to", "%v", err)
		}
	}
	return out
}
