package data

import (
	"bytes"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

var builtinProfiles = sync.OnceValues(func() (*adequacy.Profiles, error) { return LoadProfiles() })

func testProfiles(t testing.TB) *adequacy.Profiles {
	t.Helper()
	ps, err := builtinProfiles()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func testCounties(t testing.TB) *adequacy.Counties {
	t.Helper()
	ct, err := EmbeddedCounties()
	if err != nil {
		t.Fatal(err)
	}
	return ct.Counties
}

// countiesOf lists a state's counties in the table.
func countiesOf(t testing.TB, state string) []string {
	var out []string
	for _, c := range testCounties(t).All() {
		if c.State == state {
			out = append(out, c.FIPS)
		}
	}
	return out
}

const examplePlans = "assets/plans/example.yaml"

// The example file loads, and every field lands where the format says.
func TestLoadExamplePlans(t *testing.T) {
	reg, err := LoadPlans(examplePlans, testProfiles(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(examplePlans)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^file:[0-9a-f]{12}$`).MatchString(reg.Version) || reg.Version != PlansVersion(b) || reg.Source != examplePlans {
		t.Errorf("version %q, source %q", reg.Version, reg.Source)
	}
	var ids []string
	for _, p := range reg.All() {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"acme-ma", "acme-ppo", "acme-star"}) {
		t.Fatalf("ids = %v", ids)
	}
	ma, _ := reg.Get("acme-ma")
	nyTX := append(countiesOf(t, "NY"), countiesOf(t, "TX")...)
	slices.Sort(nyTX)
	if ma.Name != "Acme Medicare Advantage" || ma.ProductLine != adequacy.MedicareAdvantage || ma.Profile != "cms-ma" || ma.ProfileVersion != "2026.1" ||
		!slices.Equal(ma.Networks, []string{"ACME-MA"}) || !slices.Equal(ma.ServiceArea, nyTX) ||
		ma.Effective.String() != "2026-01-01 to 2026-12-31" {
		t.Errorf("acme-ma = %+v", ma)
	}
	star, _ := reg.Get("acme-star")
	tx := slices.DeleteFunc(countiesOf(t, "TX"), func(f string) bool { return f == "48141" })
	if star.ProductLine != adequacy.Medicaid || star.Profile != "tx-medicaid" || !slices.Equal(star.ServiceArea, tx) ||
		!slices.Equal(star.Networks, []string{"ACME-MA", "ACME-MCD"}) ||
		star.InServiceArea("48141") || !star.InServiceArea("48201") || star.InServiceArea("36061") || !star.Effective.To.IsZero() {
		t.Errorf("acme-star = %+v", star)
	}
	nw, _ := reg.Get("acme-ppo")
	if !slices.Equal(nw.ServiceArea, []string{"02020", "36047", "36061", "36081"}) || !nw.Effective.From.IsZero() || !nw.HasNetwork("ACME-COMM") {
		t.Errorf("acme-ppo = %+v", nw)
	}
	if got := reg.Networks(); !slices.Equal(got, []string{"ACME-COMM", "ACME-MA", "ACME-MCD"}) {
		t.Errorf("networks = %v", got)
	}
	// The example is over the sample roster: each network has
	// participating providers there.
	roster, err := SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	participating := map[string]int{}
	for _, p := range roster.Providers {
		for _, n := range p.Networks {
			if p.Participating {
				participating[n]++
			}
		}
	}
	for _, n := range reg.Networks() {
		if participating[n] == 0 {
			t.Errorf("network %s has no participating provider in the sample roster", n)
		}
	}
}

// The minimal format: product line other, no service area, always in effect.
func TestParseMinimalPlans(t *testing.T) {
	const y = `plans:
  - id: acme-ma
    name: Acme Medicare Advantage
    profile: cms-ma
    networks: [ACME-MA]
`
	reg, err := ParsePlans("p.yaml", []byte(y), testProfiles(t), testCounties(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Get("acme-ma")
	if err != nil {
		t.Fatal(err)
	}
	if p.ProductLine != adequacy.OtherProduct || len(p.ServiceArea) != 0 || !p.InServiceArea("36061") || p.Effective != (adequacy.DateRange{}) {
		t.Errorf("plan = %+v", p)
	}
	if _, err := reg.Get("nope"); !errors.Is(err, adequacy.ErrUnknownPlan) {
		t.Errorf("Get(nope) = %v", err)
	}
}

// JSON is YAML: the same file as JSON, counties given as numbers.
func TestParsePlansJSON(t *testing.T) {
	const j = `{"plans": [{"id": "tx", "name": "T", "product_line": "marketplace", "profile": "qhp-ffe",
	  "networks": ["N1", "N 2"], "service_area": {"counties": [48141, "48201"]}, "effective": {"to": "2026-12-31"}}]}`
	reg, err := ParsePlans("p.json", []byte(j), testProfiles(t), testCounties(t))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := reg.Get("tx")
	if !slices.Equal(p.ServiceArea, []string{"48141", "48201"}) || !slices.Equal(p.Networks, []string{"N 2", "N1"}) || p.Effective.To.String() != "2026-12-31" {
		t.Errorf("plan = %+v", p)
	}
}

const onePlan = `plans:
  - id: acme
    name: Acme
    product_line: commercial
    profile: cms-ma
    networks: [A, B]
    service_area:
      states: [NY]
      counties: ["48141"]
    effective: {from: 2026-01-01, to: 2026-12-31}
`

// Every malformed plans file gets an error naming the line and the field
// path, in the file's terms.
func TestPlansErrors(t *testing.T) {
	second := onePlan + strings.TrimPrefix(onePlan, "plans:\n")
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "plans bad.yaml: file is empty"},
		{"not yaml", "plans: [", "plans bad.yaml: line 1: did not find expected node content"},
		{"not a mapping", "- a\n- b", "plans bad.yaml, line 1: a list where a mapping is expected"},
		{"no plans", "plans: []", "plans bad.yaml, line 1, plans: list at least one plan"},
		{"empty plan", "plans:\n  -\n", "line 2, plans.0: is empty"},
		{"unknown top field", "plan:\n  - id: x\n", "line 1, plan: unknown field plan"},
		{"unknown field", strings.Replace(onePlan, "    networks:", "    netwrks: [A]\n    networks:", 1), "line 6, plans.0.netwrks: unknown field netwrks"},
		{"networks not a list", strings.Replace(onePlan, "[A, B]", "A", 1), `line 6, plans.0.networks: "A" where a list is expected`},
		{"missing id", strings.Replace(onePlan, "id: acme", "idx: acme", 1), "plans.0.idx: unknown field idx"},
		{"empty id", strings.Replace(onePlan, "id: acme", `id: ""`, 1), "line 2, plans.0.id: is required"},
		{"bad id", strings.Replace(onePlan, "id: acme", "id: Acme MA", 1), `line 2, plans.0.id: "Acme MA" must be letters, digits`},
		{"duplicate id", second, "line 11, plans.1.id: acme is defined twice"},
		{"duplicate key", strings.Replace(onePlan, "name: Acme", "name: Acme\n    name: Other", 1), "line 4, plans.0.name: name is given twice (first on line 3)"},
		{"missing name", strings.Replace(onePlan, "    name: Acme\n", "", 1), "line 2, plans.0.name: is required"},
		{"missing profile", strings.Replace(onePlan, "    profile: cms-ma\n", "", 1), "plans.0.profile: is required"},
		{"unknown profile", strings.Replace(onePlan, "profile: cms-ma", "profile: cms-mx", 1), `line 5, plans.0.profile: unknown profile "cms-mx" (known: `},
		{"unknown profile version", strings.Replace(onePlan, "profile: cms-ma", "profile: cms-ma\n    profile_version: 2099.1", 1), `line 6, plans.0.profile_version: unknown profile: cms-ma has no version "2099.1" (loaded: 2026.1)`},
		{"bad product line", strings.Replace(onePlan, "commercial", "hmo", 1), `line 4, plans.0.product_line: "hmo" must be one of medicare_advantage, commercial, medicaid, marketplace, other`},
		{"no networks", strings.Replace(onePlan, "[A, B]", "[]", 1), "line 6, plans.0.networks: is required"},
		{"bad network", strings.Replace(onePlan, "[A, B]", `[A, "B;C"]`, 1), `line 6, plans.0.networks.1: "B;C" cannot contain ';' (list several networks instead)`},
		{"duplicate network", strings.Replace(onePlan, "[A, B]", "[A, A]", 1), "line 6, plans.0.networks.1: A is listed twice"},
		{"unknown state", strings.Replace(onePlan, "[NY]", "[NY, XX]", 1), `line 8, plans.0.service_area.states.1: "XX" is not a state or territory code`},
		{"duplicate state", strings.Replace(onePlan, "[NY]", "[NY, ny]", 1), "line 8, plans.0.service_area.states.1: NY is listed twice"},
		{"unknown county", strings.Replace(onePlan, `"48141"`, `"48141", "99999"`, 1), "line 9, plans.0.service_area.counties.1: 99999 is not a county of the county table"},
		{"county as a short number", strings.Replace(onePlan, `"48141"`, `1001`, 1), `line 9, plans.0.service_area.counties.0: "1001" must be a 5-digit county FIPS code (quote it, "01001": a number loses its leading zero)`},
		{"county inside a state", strings.Replace(onePlan, `"48141"`, `"36061"`, 1), "plans.0.service_area.counties.0: 36061 (New York, NY) is already in the service area through state NY"},
		{"duplicate county", strings.Replace(onePlan, `"48141"`, `"48141", "48141"`, 1), "plans.0.service_area.counties.1: 48141 is listed twice"},
		{"exclude outside", strings.Replace(onePlan, `counties: ["48141"]`, `exclude_counties: ["48141"]`, 1), "line 9, plans.0.service_area.exclude_counties.0: 48141 (El Paso, TX) is not in the service area"},
		{"exclude all", strings.Replace(onePlan, `      states: [NY]
      counties: ["48141"]`, `      counties: ["48141"]
      exclude_counties: ["48141"]`, 1), "plans.0.service_area.exclude_counties: excludes every county of the service area"},
		{"empty service area", strings.Replace(onePlan, `      states: [NY]
      counties: ["48141"]`, `      states: []`, 1), "line 7, plans.0.service_area: give states and/or counties"},
		{"unknown service area field", strings.Replace(onePlan, "states: [NY]", "state: [NY]", 1), "line 8, plans.0.service_area.state: unknown field state"},
		{"bad date", strings.Replace(onePlan, "from: 2026-01-01", "from: 01/01/2026", 1), `line 10, plans.0.effective.from: date must be YYYY-MM-DD (got "01/01/2026")`},
		{"long date", strings.Replace(onePlan, "from: 2026-01-01", "from: "+strings.Repeat("9", 500), 1), `plans.0.effective.from: date must be YYYY-MM-DD (got "99999999999999999999999999999999…")`},
		{"reversed dates", strings.Replace(onePlan, "to: 2026-12-31", "to: 2025-12-31", 1), "line 10, plans.0.effective.to: 2025-12-31 is before effective.from 2026-01-01"},
		{"empty effective", strings.Replace(onePlan, "{from: 2026-01-01, to: 2026-12-31}", "{}", 1), "line 10, plans.0.effective: give from and/or to"},
		{"too large", "plans:\n" + strings.Repeat("#", MaxPlansFileBytes), "plans bad.yaml: file is larger than 8 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePlans("bad.yaml", []byte(tt.file), testProfiles(t), testCounties(t))
			var pe *PlansError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPlans) {
				t.Fatalf("err = %v (%T), want a *PlansError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.want)
			}
			checkPlansMessage(t, err, []byte(tt.file))
		})
	}
}

// checkPlansMessage: no Go words (but the file's own text, which errors
// echo), nothing long echoed.
func checkPlansMessage(t testing.TB, err error, in []byte) {
	t.Helper()
	msg := err.Error()
	for _, w := range goWords.FindAllString(quoted.ReplaceAllString(msg, `""`), -1) {
		if !bytes.Contains(in, []byte(w)) {
			t.Errorf("message names Go types (%s): %s", w, msg)
		}
	}
	if len(msg) > 600 {
		t.Errorf("message is %d bytes long: %.200s…", len(msg), msg)
	}
}

// FuzzParsePlans: any input gives plans that hold the format's promises
// or a *PlansError in the file's terms, never a panic.
func FuzzParsePlans(f *testing.F) {
	b, err := os.ReadFile(examplePlans)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(b), onePlan, "", "plans: [", "plans:\n  -\n", `{"plans":[{"id":"a","name":"b","profile":"cms-ma","networks":["x"]}]}`,
		"plans:\n  - &a {id: a}\n  - *a\n", "plans:\n  - id: a\n    id: b\n"} {
		f.Add([]byte(s))
	}
	profiles := testProfiles(f)
	counties := testCounties(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		reg, err := ParsePlans("fuzz.yaml", in, profiles, counties)
		if err != nil {
			if _, ok := errors.AsType[*PlansError](err); !ok {
				t.Fatalf("error %v is a %T, not a *PlansError", err, err)
			}
			checkPlansMessage(t, err, in)
			return
		}
		if reg.Len() == 0 || reg.Version != PlansVersion(in) {
			t.Fatalf("%d plans, version %q", reg.Len(), reg.Version)
		}
		for _, p := range reg.All() {
			if len(p.Networks) == 0 || p.Name == "" || !slices.IsSorted(p.ServiceArea) || !slices.IsSorted(p.Networks) {
				t.Fatalf("plan %+v", p)
			}
			if _, err := profiles.Versions(p.Profile); err != nil {
				t.Fatalf("plan %s: %v", p.ID, err)
			}
			for _, f := range p.ServiceArea {
				if _, err := counties.Lookup(f); err != nil {
					t.Fatalf("plan %s: service area %v", p.ID, err)
				}
			}
			if !p.Effective.To.IsZero() && p.Effective.To.Before(p.Effective.From) {
				t.Fatalf("plan %s: effective %s", p.ID, p.Effective)
			}
		}
	})
}
