package adequacy

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// ProductLine is the kind of health plan product.
type ProductLine string

// Product lines.
const (
	MedicareAdvantage ProductLine = "medicare_advantage"
	Commercial        ProductLine = "commercial"
	Medicaid          ProductLine = "medicaid"
	Marketplace       ProductLine = "marketplace"
	OtherProduct      ProductLine = "other"
)

// ProductLines lists the product lines.
var ProductLines = []ProductLine{MedicareAdvantage, Commercial, Medicaid, Marketplace, OtherProduct}

// Plan is one client health plan (or product) an administrator serves:
// the standards its contract mandates and the networks whose providers
// participate for its members.
type Plan struct {
	ID          string // identifier used in requests: "acme-ma"
	Name        string
	ProductLine ProductLine
	// Profile is the standards profile the contract mandates; a request
	// takes the version in effect on its as-of date unless ProfileVersion
	// pins one.
	Profile        string
	ProfileVersion string
	// Networks are the network ids whose participating providers count
	// for the plan's members.
	Networks []string
	// ServiceArea lists the county FIPS codes where the plan enrols
	// members; empty means no restriction.
	ServiceArea []string
	Effective   DateRange
}

// InServiceArea reports whether a county is in the plan's service area.
func (p *Plan) InServiceArea(fips string) bool {
	if len(p.ServiceArea) == 0 {
		return true
	}
	_, ok := slices.BinarySearch(p.ServiceArea, fips)
	return ok
}

// ErrUnknownPlan: no plan has that id (gRPC NotFound).
var ErrUnknownPlan = errors.New("unknown plan")

// Plans is a plan registry: a versioned set of plans by id. Immutable.
type Plans struct {
	Version string // e.g. "file:1a2b3c4d5e6f" or "pg:7"
	Source  string
	byID    map[string]*Plan
	ids     []string
}

var planID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewPlans validates and indexes plans against the loaded profiles: ids
// unique and well formed, the profile (and pinned version) known, at least
// one network, service areas of 5-digit FIPS codes.
func NewPlans(version, source string, ps []Plan, profiles *Profiles) (*Plans, error) {
	r := &Plans{Version: version, Source: source, byID: map[string]*Plan{}}
	for i := range ps {
		p := ps[i]
		switch {
		case !planID.MatchString(p.ID):
			return nil, fmt.Errorf("plans: plan %d: id %q must be letters, digits, '.', '_' or '-' (at most 64)", i+1, ExcerptN(p.ID, 64))
		case r.byID[p.ID] != nil:
			return nil, fmt.Errorf("plans: plan %s is defined twice", p.ID)
		case len(p.Networks) == 0:
			return nil, fmt.Errorf("plans: plan %s names no network", p.ID)
		case !slices.Contains(ProductLines, p.ProductLine):
			return nil, fmt.Errorf("plans: plan %s: product line %q (want %s)", p.ID, ExcerptN(string(p.ProductLine), 32), productLineList())
		}
		if profiles != nil {
			if _, err := profiles.Versions(p.Profile); err != nil {
				return nil, fmt.Errorf("plans: plan %s: %w", p.ID, err)
			}
			if p.ProfileVersion != "" {
				if _, err := profiles.Version(p.Profile, p.ProfileVersion); err != nil {
					return nil, fmt.Errorf("plans: plan %s: %w", p.ID, err)
				}
			}
		}
		p.ServiceArea = slices.Clone(p.ServiceArea)
		for _, f := range p.ServiceArea {
			if !validFIPS(f) {
				return nil, fmt.Errorf("plans: plan %s: service area county %q must be a 5-digit FIPS code", p.ID, ExcerptN(f, 16))
			}
		}
		sort.Strings(p.ServiceArea)
		p.ServiceArea = slices.Compact(p.ServiceArea)
		r.byID[p.ID] = &p
		r.ids = append(r.ids, p.ID)
	}
	sort.Strings(r.ids)
	return r, nil
}

func productLineList() string {
	s := make([]string, len(ProductLines))
	for i, p := range ProductLines {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// Get returns the plan with that id, or an error wrapping ErrUnknownPlan.
func (r *Plans) Get(id string) (*Plan, error) {
	if r != nil {
		if p, ok := r.byID[id]; ok {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownPlan, ExcerptN(id, 64))
}

// All returns the plans in id order.
func (r *Plans) All() []*Plan {
	if r == nil {
		return nil
	}
	out := make([]*Plan, len(r.ids))
	for i, id := range r.ids {
		out[i] = r.byID[id]
	}
	return out
}

// Networks lists every network id the plans name, sorted.
func (r *Plans) Networks() []string {
	var out []string
	for _, p := range r.All() {
		out = append(out, p.Networks...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
