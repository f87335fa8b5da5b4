package adequacy_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

// NewPlans refuses each kind of bad plan with a *PlanError naming the
// plan and the field; the profile checks keep adequacy's sentinel.
func TestNewPlansValidation(t *testing.T) {
	profiles, err := adequacy.NewProfiles(
		&adequacy.Profile{Name: "cms-ma", Version: "2026.1", Effective: adequacy.DateRange{From: mustDate("2026-01-01"), To: mustDate("2026-12-31")}},
		&adequacy.Profile{Name: "cms-ma", Version: "2027.1", Effective: adequacy.DateRange{From: mustDate("2027-01-01")}})
	if err != nil {
		t.Fatal(err)
	}
	good := adequacy.Plan{ID: "acme-ma", Name: "Acme", ProductLine: adequacy.MedicareAdvantage, Profile: "cms-ma", Networks: []string{"B", "A"}}
	with := func(edit func(p *adequacy.Plan)) []adequacy.Plan {
		p := good
		p.Networks = slices.Clone(good.Networks)
		edit(&p)
		return []adequacy.Plan{{ID: "first", Name: "F", ProductLine: adequacy.OtherProduct, Profile: "cms-ma", Networks: []string{"N"}}, p}
	}
	tests := []struct {
		name  string
		plans []adequacy.Plan
		field string
		want  string
		is    error
	}{
		{"good", with(func(*adequacy.Plan) {}), "", "", nil},
		{"pinned", with(func(p *adequacy.Plan) { p.ProfileVersion = "2027.1" }), "", "", nil},
		{"bad id", with(func(p *adequacy.Plan) { p.ID = "-x" }), "id", `plans: plan 2: id: "-x" must be`, nil},
		{"twice", with(func(p *adequacy.Plan) { p.ID = "first" }), "id", "plans: plan first: id: first is defined twice", nil},
		{"no name", with(func(p *adequacy.Plan) { p.Name = " " }), "name", "plans: plan acme-ma: name: is required", nil},
		{"control in name", with(func(p *adequacy.Plan) { p.Name = "a\nb" }), "name", "control characters", nil},
		{"long name", with(func(p *adequacy.Plan) { p.Name = strings.Repeat("n", 201) }), "name", "longer than 200 bytes", nil},
		{"product line", with(func(p *adequacy.Plan) { p.ProductLine = "hmo" }), "product_line", `"hmo" must be one of`, nil},
		{"no profile", with(func(p *adequacy.Plan) { p.Profile = "" }), "profile", "profile: is required", nil},
		{"unknown profile", with(func(p *adequacy.Plan) { p.Profile = "nope" }), "profile", `unknown profile "nope" (known: cms-ma)`, adequacy.ErrUnknownProfile},
		{"unknown version", with(func(p *adequacy.Plan) { p.ProfileVersion = "2025.1" }), "profile_version", `cms-ma has no version "2025.1" (loaded: 2026.1, 2027.1)`, adequacy.ErrUnknownProfile},
		{"no networks", with(func(p *adequacy.Plan) { p.Networks = nil }), "networks", "name at least one network", nil},
		{"separator in network", with(func(p *adequacy.Plan) { p.Networks = []string{"A", "B;C"} }), "networks.1", `"B;C" cannot contain ';'`, nil},
		{"space at the end", with(func(p *adequacy.Plan) { p.Networks = []string{"A "} }), "networks.0", `"A " has spaces at an end`, nil},
		{"control character", with(func(p *adequacy.Plan) { p.Networks = []string{"A\tB"} }), "networks.0", "control or non-printing", nil},
		{"long network", with(func(p *adequacy.Plan) { p.Networks = []string{strings.Repeat("é", 65)} }), "networks.0", "longer than 64 characters", nil},
		{"network with commas and accents", with(func(p *adequacy.Plan) { p.Networks = []string{"Réseau Santé, Québec", strings.Repeat("é", 64)} }), "", "", nil},
		{"network twice", with(func(p *adequacy.Plan) { p.Networks = []string{"A", "B", "A"} }), "networks.2", "A is listed twice", nil},
		{"bad county", with(func(p *adequacy.Plan) { p.ServiceArea = []string{"36061", "3606"} }), "service_area.1", `county "3606" must be a 5-digit FIPS code`, nil},
		{"reversed", with(func(p *adequacy.Plan) {
			p.Effective = adequacy.DateRange{From: mustDate("2026-02-01"), To: mustDate("2026-01-31")}
		}), "effective.to", "2026-01-31 is before effective.from 2026-02-01", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := adequacy.NewPlans("v1", "test", tc.plans, profiles)
			if tc.want == "" {
				if err != nil || reg.Len() != 2 {
					t.Fatalf("NewPlans = %v, %v", reg, err)
				}
				return
			}
			pe, ok := errors.AsType[*adequacy.PlanError](err)
			if !ok || pe.Index != 1 || pe.Field != tc.field || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, adequacy.ErrInvalidPlan) {
				t.Fatalf("err = %v (%+v), want field %s and %q", err, pe, tc.field, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.is)
			}
		})
	}
}

// A registry owns its plans: sorted, deduplicated copies, looked up by id.
func TestPlansRegistry(t *testing.T) {
	in := []adequacy.Plan{
		{ID: "b", Name: "B", ProductLine: adequacy.Medicaid, Profile: "x", Networks: []string{"N2", "N1"}, ServiceArea: []string{"48141", "36061", "48141"}},
		{ID: "a", Name: "A", ProductLine: adequacy.Commercial, Profile: "y", Networks: []string{"N1"}},
	}
	reg, err := adequacy.NewPlans("file:0123456789ab", "plans.yaml", in, nil)
	if err != nil {
		t.Fatal(err)
	}
	in[0].Networks[0], in[0].ServiceArea[0] = "changed", "changed"
	b, err := reg.Get("b")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Networks, []string{"N1", "N2"}) || !slices.Equal(b.ServiceArea, []string{"36061", "48141"}) {
		t.Errorf("b = %+v", b)
	}
	if !b.HasNetwork("N2") || b.HasNetwork("N3") || !b.InServiceArea("36061") || b.InServiceArea("36047") {
		t.Error("HasNetwork or InServiceArea is wrong")
	}
	a, _ := reg.Get("a")
	if !a.InServiceArea("36047") {
		t.Error("a plan without a service area serves everywhere")
	}
	if ids := []string{reg.All()[0].ID, reg.All()[1].ID}; !slices.Equal(ids, []string{"a", "b"}) || reg.Len() != 2 {
		t.Errorf("All = %v", ids)
	}
	if got := reg.Networks(); !slices.Equal(got, []string{"N1", "N2"}) {
		t.Errorf("Networks = %v", got)
	}
	if _, err := reg.Get("c"); !errors.Is(err, adequacy.ErrUnknownPlan) || err.Error() != `unknown plan "c"` {
		t.Errorf("Get(c) = %v", err)
	}
	var none *adequacy.Plans
	if _, err := none.Get("a"); !errors.Is(err, adequacy.ErrUnknownPlan) || none.Len() != 0 || none.All() != nil {
		t.Errorf("nil registry: %v", err)
	}
}
