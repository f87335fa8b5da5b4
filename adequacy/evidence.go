package adequacy

import "fmt"

// Where a decision's evidence came from, as enums: callers switch on the
// value, and String (and MarshalText, for JSON) gives the words reports
// have always printed. The zero value of each is "not set" and prints as
// "" (an indeterminate decision has no county and no rule).

// RuleSource says where a rule's limits came from.
type RuleSource uint8

// Rule sources.
const (
	RuleOfficial        RuleSource = iota + 1 // the county table's per-county limits
	RuleFromProfile                           // the profile's base table for the county type
	RuleServiceStandard                       // the profile's own standard for the requested service
)

func (s RuleSource) String() string {
	switch s {
	case 0:
		return ""
	case RuleOfficial:
		return "official county standard"
	case RuleFromProfile:
		return "profile base table for the county type"
	case RuleServiceStandard:
		return "profile standard for the service"
	}
	return fmt.Sprintf("RuleSource(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s RuleSource) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LocationSource says how a member was located.
type LocationSource uint8

// Location sources.
const (
	LocatedByPoint LocationSource = iota + 1 // the caller's latitude and longitude
	LocatedByZIP                             // the ZIP code's point (approximate)
)

func (s LocationSource) String() string {
	switch s {
	case 0:
		return ""
	case LocatedByPoint:
		return "point"
	case LocatedByZIP:
		return "zip"
	}
	return fmt.Sprintf("LocationSource(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s LocationSource) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// CountySource says how a member's county was found.
type CountySource uint8

// County sources.
const (
	CountyGiven   CountySource = iota + 1 // the caller's county FIPS, trusted over the polygons
	CountyPolygon                         // the county polygon holding the point
	CountyZIP                             // the ZIP code's county, the point being in no polygon
	CountyNearest                         // the nearest polygon within SnapMiles (generalised coastlines)
)

func (s CountySource) String() string {
	switch s {
	case 0:
		return ""
	case CountyGiven:
		return "given"
	case CountyPolygon:
		return "polygon"
	case CountyZIP:
		return "zip"
	case CountyNearest:
		return "nearest"
	}
	return fmt.Sprintf("CountySource(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s CountySource) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MinimumSource says where a gap report row's minimum provider count
// (42 CFR 422.116(e)) came from.
type MinimumSource uint8

// Minimum sources.
const (
	MinimumOfficial         MinimumSource = iota + 1 // the county table's per-county minimum
	MinimumProfileFixed                              // the profile's fixed number
	MinimumProfileRatio                              // the profile's ratio × beneficiaries required to cover
	MinimumProfileRatioPlan                          // the profile's ratio × the plan's members in the county (beneficiaries unknown)
	MinimumNoRule                                    // the profile sets no minimum
	MinimumServiceFixed                              // the profile's fixed number for the service
	MinimumServiceRatio                              // the profile's ratio for the service × beneficiaries required to cover
	MinimumServiceRatioPlan                          // the profile's ratio for the service × the plan's members in the county
)

func (s MinimumSource) String() string {
	switch s {
	case 0:
		return ""
	case MinimumOfficial:
		return "official"
	case MinimumProfileFixed:
		return "profile fixed"
	case MinimumProfileRatio:
		return "profile ratio × beneficiaries required to cover"
	case MinimumProfileRatioPlan:
		return "profile ratio × plan members in the county (beneficiaries unknown)"
	case MinimumNoRule:
		return "none"
	case MinimumServiceFixed:
		return "service fixed"
	case MinimumServiceRatio:
		return "service ratio × beneficiaries required to cover"
	case MinimumServiceRatioPlan:
		return "service ratio × plan members in the county (beneficiaries unknown)"
	}
	return fmt.Sprintf("MinimumSource(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s MinimumSource) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
