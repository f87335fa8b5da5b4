package adequacy

import (
	"fmt"
	"math"

	"github.com/geoaccess/geoaccess/geo"
)

// TimeModel turns a member–provider trip into travel minutes. The rule
// does not say how time is measured; until a routing engine is wired in,
// time is estimated from geodesic distance and labelled as an estimate.
// A routing engine implements this interface with DistanceOnly false.
type TimeModel interface {
	// Name describes the model in a decision's evidence.
	Name() string
	// Estimated reports whether minutes are estimates rather than routed
	// travel times.
	Estimated() bool
	// Minutes is the travel time for a trip of the given geodesic miles
	// from member to provider, under rule r.
	Minutes(member, provider geo.Point, miles float64, r Rule) float64
	// ReachMiles is the greatest geodesic distance at which Minutes can
	// still be within r.MaxMinutes: decisions search no farther. +Inf when
	// the rule has no time limit.
	ReachMiles(r Rule) float64
	// DistanceOnly reports whether minutes depend only on distance and
	// grow with it, so that "within ReachMiles" means "within the time".
	DistanceOnly() bool
}

// CountyRatio estimates minutes as miles × the county's own max minutes ÷
// max miles for the discipline, so the estimate never contradicts the
// official distance test: a provider within the distance limit is within
// the time limit, and the reverse.
type CountyRatio struct{}

// Name implements TimeModel.
func (CountyRatio) Name() string {
	return "estimated from distance: minutes per mile = the county's max minutes ÷ max miles"
}

// Estimated implements TimeModel.
func (CountyRatio) Estimated() bool { return true }

// Minutes implements TimeModel.
func (CountyRatio) Minutes(_, _ geo.Point, miles float64, r Rule) float64 {
	return miles * r.MaxMinutes / r.MaxMiles
}

// ReachMiles implements TimeModel.
func (CountyRatio) ReachMiles(r Rule) float64 { return r.MaxMiles }

// DistanceOnly implements TimeModel.
func (CountyRatio) DistanceOnly() bool { return true }

// SpeedTable estimates minutes as miles × a fixed minutes-per-mile for each
// county type. STANDARDS.md's default reading of Table 1 is 2.0 (Large
// Metro), 1.5 (Metro), 1.33 (Micro), 1.2 (Rural) and 1.14 (CEAC).
type SpeedTable struct {
	MinutesPerMile [numCountyTypes]float64
}

// Name implements TimeModel.
func (s SpeedTable) Name() string {
	return fmt.Sprintf("estimated from distance: minutes per mile by county type (Large Metro %.2f, Metro %.2f, Micro %.2f, Rural %.2f, CEAC %.2f)",
		s.MinutesPerMile[LargeMetro], s.MinutesPerMile[Metro], s.MinutesPerMile[Micro], s.MinutesPerMile[Rural], s.MinutesPerMile[CEAC])
}

// Estimated implements TimeModel.
func (SpeedTable) Estimated() bool { return true }

// Minutes implements TimeModel.
func (s SpeedTable) Minutes(_, _ geo.Point, miles float64, r Rule) float64 {
	return miles * s.MinutesPerMile[r.CountyType]
}

// ReachMiles implements TimeModel.
func (s SpeedTable) ReachMiles(r Rule) float64 {
	if r.MaxMinutes <= 0 {
		return math.Inf(1)
	}
	return r.MaxMinutes / s.MinutesPerMile[r.CountyType]
}

// DistanceOnly implements TimeModel.
func (SpeedTable) DistanceOnly() bool { return true }
