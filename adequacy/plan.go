package adequacy

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
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
	// for the plan's members, sorted. Ids are compared as written.
	Networks []string
	// ServiceArea lists the county FIPS codes where the plan enrols
	// members, sorted; empty means no restriction.
	ServiceArea []string
	// Effective is when the plan is in force; the zero range means always.
	Effective DateRange
}

// InServiceArea reports whether a county is in the plan's service area.
func (p *Plan) InServiceArea(fips string) bool {
	if len(p.ServiceArea) == 0 {
		return true
	}
	_, ok := slices.BinarySearch(p.ServiceArea, fips)
	return ok
}

// HasNetwork reports whether id is one of the plan's networks.
func (p *Plan) HasNetwork(id string) bool {
	_, ok := slices.BinarySearch(p.Networks, id)
	return ok
}

// ErrUnknownPlan: no plan has that id (gRPC NotFound).
var ErrUnknownPlan = errors.New("unknown plan")

// ErrInvalidPlan is wrapped by every *PlanError.
var ErrInvalidPlan = errors.New("invalid plan")

// PlanError is a plan NewPlans refuses: its position and id in the list
// given, and the field at fault, so a file reader can point at the place.
type PlanError struct {
	Index int    // 0-based position in the list
	ID    string // the plan's id as given, shortened; may be empty
	// Field is the field's dotted path within the plan: id, name,
	// product_line, profile, profile_version, networks, networks.2,
	// service_area, service_area.3, effective.to.
	Field string
	Err   error // what is wrong; wraps ErrUnknownProfile for an unknown profile or version
}

func (e *PlanError) Error() string {
	who := fmt.Sprintf("plan %d", e.Index+1)
	if e.ID != "" && planID.MatchString(e.ID) {
		who = "plan " + e.ID
	}
	if e.Field == "" {
		return fmt.Sprintf("plans: %s: %v", who, e.Err)
	}
	return fmt.Sprintf("plans: %s: %s: %v", who, e.Field, e.Err)
}

// Unwrap returns ErrInvalidPlan and the cause.
func (e *PlanError) Unwrap() []error { return []error{ErrInvalidPlan, e.Err} }

// Plans is a plan registry: a versioned set of plans by id. Immutable.
type Plans struct {
	Version string // e.g. "file:1a2b3c4d5e6f" or "pg:7"
	Source  string
	byID    map[string]*Plan
	ids     []string
}

var planID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// MaxNetworkIDLen bounds a network id, in characters.
const MaxNetworkIDLen = 64

// NetworkIDFault is why a text cannot be a network id (NetworkIDOK: it
// can). CheckNetworkID is the one rule for plans and for a roster's
// networks column; each words the fault for its own input.
type NetworkIDFault uint8

// The faults CheckNetworkID finds, in the order it looks.
const (
	NetworkIDOK NetworkIDFault = iota
	NetworkIDEmpty
	NetworkIDNotUTF8
	NetworkIDTooLong   // more than MaxNetworkIDLen characters
	NetworkIDSeparator // holds ';', the networks column's separator
	NetworkIDNonPrinting
	NetworkIDSpaces // spaces at an end, which the networks column trims
)

// CheckNetworkID says whether id can be a network id: printable text of
// at most MaxNetworkIDLen characters with no ';' and nothing a roster's
// networks column would trim.
func CheckNetworkID(id string) NetworkIDFault {
	switch {
	case id == "":
		return NetworkIDEmpty
	case !utf8.ValidString(id):
		return NetworkIDNotUTF8
	case utf8.RuneCountInString(id) > MaxNetworkIDLen:
		return NetworkIDTooLong
	case strings.Contains(id, ";"):
		return NetworkIDSeparator
	case strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return NetworkIDNonPrinting
	case strings.TrimSpace(id) != id:
		return NetworkIDSpaces
	}
	return NetworkIDOK
}

// badNetworkID says why a plan's network id is not one, or "".
func badNetworkID(id string) string {
	switch CheckNetworkID(id) {
	case NetworkIDEmpty:
		return "is empty"
	case NetworkIDNotUTF8:
		return "is not valid UTF-8 text"
	case NetworkIDTooLong:
		return fmt.Sprintf("is longer than %d characters", MaxNetworkIDLen)
	case NetworkIDSeparator:
		return "cannot contain ';' (list several networks instead)"
	case NetworkIDNonPrinting:
		return "has a control or non-printing character"
	case NetworkIDSpaces:
		return "has spaces at an end, which a roster's networks column trims"
	}
	return ""
}

// maxPlanName bounds a plan's display name, in bytes.
const maxPlanName = 200

// NewPlans validates and indexes plans against the loaded profiles: ids
// unique and well formed, a name, a known product line, the profile (and
// pinned version) known, at least one network, each well formed and named
// once, service areas of 5-digit FIPS codes, an effective period that ends
// after it starts. With nil profiles the profile names are not checked.
// Every error is a *PlanError.
func NewPlans(version, source string, ps []Plan, profiles *Profiles) (*Plans, error) {
	r := &Plans{Version: version, Source: source, byID: map[string]*Plan{}}
	for i := range ps {
		p := ps[i]
		fail := func(field, format string, args ...any) error {
			return &PlanError{Index: i, ID: ExcerptN(p.ID, 64), Field: field, Err: fmt.Errorf(format, args...)}
		}
		switch {
		case !planID.MatchString(p.ID):
			return nil, fail("id", "%q must be letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)", ExcerptN(p.ID, 64))
		case r.byID[p.ID] != nil:
			return nil, fail("id", "%s is defined twice", p.ID)
		case strings.TrimSpace(p.Name) == "":
			return nil, fail("name", "is required")
		case len(p.Name) > maxPlanName:
			return nil, fail("name", "is longer than %d bytes", maxPlanName)
		case strings.ContainsFunc(p.Name, unicode.IsControl):
			return nil, fail("name", "must not contain control characters")
		case !slices.Contains(ProductLines, p.ProductLine):
			return nil, fail("product_line", "%q must be one of %s", ExcerptN(string(p.ProductLine), 32), productLineList())
		case p.Profile == "":
			return nil, fail("profile", "is required")
		case len(p.Networks) == 0:
			return nil, fail("networks", "name at least one network")
		}
		if profiles != nil {
			if _, err := profiles.Versions(p.Profile); err != nil {
				return nil, &PlanError{Index: i, ID: ExcerptN(p.ID, 64), Field: "profile", Err: err}
			}
			if p.ProfileVersion != "" {
				if _, err := profiles.Version(p.Profile, p.ProfileVersion); err != nil {
					return nil, &PlanError{Index: i, ID: ExcerptN(p.ID, 64), Field: "profile_version", Err: err}
				}
			}
		}
		seen := map[string]bool{}
		for j, n := range p.Networks {
			if why := badNetworkID(n); why != "" {
				return nil, fail(fmt.Sprintf("networks.%d", j), "%q %s", ExcerptN(n, 64), why)
			}
			if seen[n] {
				return nil, fail(fmt.Sprintf("networks.%d", j), "%s is listed twice", ExcerptN(n, 64))
			}
			seen[n] = true
		}
		p.Networks = slices.Clone(p.Networks)
		sort.Strings(p.Networks)
		p.ServiceArea = slices.Clone(p.ServiceArea)
		for j, f := range p.ServiceArea {
			if !validFIPS(f) {
				return nil, fail(fmt.Sprintf("service_area.%d", j), "county %q must be a 5-digit FIPS code", ExcerptN(f, 16))
			}
		}
		sort.Strings(p.ServiceArea)
		p.ServiceArea = slices.Compact(p.ServiceArea)
		if !p.Effective.To.IsZero() && p.Effective.To.Before(p.Effective.From) {
			return nil, fail("effective.to", "%s is before effective.from %s", p.Effective.To, p.Effective.From)
		}
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

// Len is the number of plans.
func (r *Plans) Len() int {
	if r == nil {
		return 0
	}
	return len(r.ids)
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
