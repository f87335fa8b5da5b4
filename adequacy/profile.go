package adequacy

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
	// Counties is the county table this version decides with (the CMS
	// reference file of its year); nil means the engine's.
	Counties *Counties
	// Services holds the profile's own standards for services, by
	// service code (limits, providers required, served share and minimum
	// count by county type); a service without one takes its discipline's.
	Services map[string]*DisciplineStandards
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

// String is "FROM to TO", with "open" for an open end.
func (r DateRange) String() string { return r.From.String() + " to " + orOpen(r.To) }
