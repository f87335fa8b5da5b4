package adequacy

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Profiles is a set of standards profiles by name. A name may have several
// versions side by side (CY2026 and CY2027, say) whose effective periods do
// not overlap; a request picks the version in effect on its as-of date.
// Immutable once built.
type Profiles struct {
	byName map[string][]*Profile // versions, earliest first
	names  []string
}

// NewProfiles indexes profiles. Versions of one name must have distinct
// version strings and effective periods that do not overlap.
func NewProfiles(ps ...*Profile) (*Profiles, error) {
	r := &Profiles{byName: map[string][]*Profile{}}
	for _, p := range ps {
		if _, seen := r.byName[p.Name]; !seen {
			r.names = append(r.names, p.Name)
		}
		r.byName[p.Name] = append(r.byName[p.Name], p)
	}
	sort.Strings(r.names)
	for _, n := range r.names {
		vs := r.byName[n]
		slices.SortStableFunc(vs, func(a, b *Profile) int { return int(a.Effective.From.days - b.Effective.From.days) })
		for i := 1; i < len(vs); i++ {
			a, b := vs[i-1], vs[i]
			if a.Version == b.Version {
				return nil, fmt.Errorf("profiles: %s version %s is defined twice", n, a.Version)
			}
			if a.Effective.To.IsZero() || !a.Effective.To.Before(b.Effective.From) {
				return nil, fmt.Errorf("profiles: %s versions %s (%s) and %s (%s) overlap: each day may have one version",
					n, a.Version, a.Effective, b.Version, b.Effective)
			}
		}
	}
	return r, nil
}

// Get returns the latest version (the one that starts last) of the profile
// with that name, or an error wrapping ErrUnknownProfile that lists the
// known names.
func (r *Profiles) Get(name string) (*Profile, error) {
	vs, err := r.Versions(name)
	if err != nil {
		return nil, err
	}
	return vs[len(vs)-1], nil
}

// Versions returns every version of a profile, earliest first.
func (r *Profiles) Versions(name string) ([]*Profile, error) {
	if vs, ok := r.byName[name]; ok {
		return vs, nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownProfile, ExcerptN(name, 64), strings.Join(r.names, ", "))
}

// Version returns one version of a profile by its version string.
func (r *Profiles) Version(name, version string) (*Profile, error) {
	vs, err := r.Versions(name)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, p := range vs {
		if p.Version == version {
			return p, nil
		}
		known = append(known, p.Version)
	}
	return nil, fmt.Errorf("%w: %s has no version %q (loaded: %s)", ErrUnknownProfile, name, ExcerptN(version, 64), strings.Join(known, ", "))
}

// Names returns the profile names in order.
func (r *Profiles) Names() []string { return slices.Clone(r.names) }

// All returns every version of every profile: names in order, each name's
// versions earliest first.
func (r *Profiles) All() []*Profile {
	var out []*Profile
	for _, n := range r.names {
		out = append(out, r.byName[n]...)
	}
	return out
}

// ExpiryPolicy says what a request for today does when no loaded version
// of its profile is in effect today. A request naming its as-of date is
// never carried forward: a date outside every version is an error.
type ExpiryPolicy uint8

// Expiry policies.
const (
	// CarryForward decides with the version that ended most recently and
	// flags the decision (Decision.ProfileExpired). The rules that bind
	// rarely change at a year's end; only the yearly county file is late.
	CarryForward ExpiryPolicy = iota
	// FailExpired refuses the request, as for an explicit date.
	FailExpired
)

// ExpiryPolicies are the policies' names, as flags and files spell them.
var expiryPolicyNames = [...]string{CarryForward: "carry-forward", FailExpired: "fail"}

func (p ExpiryPolicy) String() string {
	if int(p) < len(expiryPolicyNames) {
		return expiryPolicyNames[p]
	}
	return fmt.Sprintf("ExpiryPolicy(%d)", uint8(p))
}

// MarshalText implements encoding.TextMarshaler.
func (p ExpiryPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (flags take it).
func (p *ExpiryPolicy) UnmarshalText(b []byte) error {
	v, err := ParseExpiryPolicy(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ParseExpiryPolicy accepts "carry-forward" or "fail".
func ParseExpiryPolicy(s string) (ExpiryPolicy, error) {
	for i, n := range expiryPolicyNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return ExpiryPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("profile expiry policy %q: want carry-forward or fail", ExcerptN(s, 32))
}

// ErrProfileNotInEffect: no loaded version of the profile is in effect on
// the as-of date (and the request may not be carried forward).
var ErrProfileNotInEffect = errors.New("no version of the profile is in effect")

// NotInEffectError says which versions were loaded when none applied.
type NotInEffectError struct {
	Name     string
	AsOf     Date
	Versions []*Profile
}

func (e *NotInEffectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is outside profile %s's effective period", e.AsOf, e.Name)
	if len(e.Versions) > 1 {
		b.WriteString("s")
	}
	for i, p := range e.Versions {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", p.Version, p.Effective)
	}
	b.WriteString("); load the profile version for that date")
	return b.String()
}

func (e *NotInEffectError) Unwrap() error { return ErrProfileNotInEffect }

// Choice is the profile version a request resolved to.
type Choice struct {
	*Profile
	// Expired: no loaded version is in effect on the as-of date (today);
	// this one, which ended most recently, was carried forward.
	Expired bool
}

// Choose picks the version of name in effect on asOf. When none is and
// asOf is the caller's today (not a date they named), policy CarryForward
// takes the version that ended most recently before it. Errors wrap
// ErrUnknownProfile or ErrProfileNotInEffect.
func (r *Profiles) Choose(name string, asOf Date, today bool, policy ExpiryPolicy) (Choice, error) {
	vs, err := r.Versions(name)
	if err != nil {
		return Choice{}, err
	}
	var ended *Profile // the version that ended most recently before asOf
	for _, p := range vs {
		if p.Effective.Contains(asOf) {
			return Choice{Profile: p}, nil
		}
		if !p.Effective.To.IsZero() && p.Effective.To.Before(asOf) {
			ended = p // versions are in order and do not overlap: the last such ended last
		}
	}
	if today && policy == CarryForward && ended != nil {
		return Choice{Profile: ended, Expired: true}, nil
	}
	return Choice{}, &NotInEffectError{Name: name, AsOf: asOf, Versions: vs}
}

// Standing is where a profile stands on a day: which version answers for
// it, and until when some loaded version will be in effect.
type Standing struct {
	Name string
	// InUse answers requests for the day: the version in effect, or, when
	// Expired, the one carried forward. Nil when every version starts
	// later.
	InUse   *Profile
	Expired bool
	// LastDay is the last day of unbroken coverage by loaded versions from
	// the day on (InUse's end when Expired); zero when it never ends.
	LastDay Date
}

// DaysLeft is how many days from day on stay covered, day included: 0 on
// the day after the last, negative later. Meaningless when LastDay is zero.
func (s Standing) DaysLeft(day Date) int { return s.LastDay.Sub(day) + 1 }

// StandingOn reports where a profile stands on day.
func (r *Profiles) StandingOn(name string, day Date) (Standing, error) {
	vs, err := r.Versions(name)
	if err != nil {
		return Standing{}, err
	}
	st := Standing{Name: name}
	ch, err := r.Choose(name, day, true, CarryForward)
	if err != nil {
		return st, nil // every version starts later
	}
	st.InUse, st.Expired, st.LastDay = ch.Profile, ch.Expired, ch.Effective.To
	if ch.Expired {
		return st, nil
	}
	i := slices.Index(vs, ch.Profile)
	for ; i+1 < len(vs) && !vs[i].Effective.To.IsZero() && vs[i].Effective.To.AddDays(1) == vs[i+1].Effective.From; i++ {
		st.LastDay = vs[i+1].Effective.To
	}
	return st, nil
}
