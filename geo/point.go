package geo

import (
	"errors"
	"fmt"
	"math"
)

// Point is a location in WGS84 degrees.
type Point struct {
	Lat float64 // degrees north, -90..90
	Lon float64 // degrees east, -180..180
}

// Sentinel errors for invalid coordinates; Validate wraps them with the value.
var (
	ErrLatitude  = errors.New("latitude must be a finite number between -90 and 90")
	ErrLongitude = errors.New("longitude must be a finite number between -180 and 180")
)

// Validate reports whether p is a usable WGS84 location. The error wraps
// ErrLatitude or ErrLongitude so callers can name the offending field.
// It reports the latitude when both are wrong; CheckLat and CheckLon
// check one each, for callers that report every wrong field.
func (p Point) Validate() error {
	if err := CheckLat(p.Lat); err != nil {
		return err
	}
	return CheckLon(p.Lon)
}

// CheckLat reports whether lat is a usable latitude; the error wraps
// ErrLatitude.
func CheckLat(lat float64) error {
	if math.IsNaN(lat) || math.IsInf(lat, 0) || lat < -90 || lat > 90 {
		return fmt.Errorf("%w (got %v)", ErrLatitude, lat)
	}
	return nil
}

// CheckLon reports whether lon is a usable longitude; the error wraps
// ErrLongitude.
func CheckLon(lon float64) error {
	if math.IsNaN(lon) || math.IsInf(lon, 0) || lon < -180 || lon > 180 {
		return fmt.Errorf("%w (got %v)", ErrLongitude, lon)
	}
	return nil
}

// String formats p as "lat,lon" with six decimals. It exists for tests and
// tools; member locations are PHI and must not be logged.
func (p Point) String() string { return fmt.Sprintf("%.6f,%.6f", p.Lat, p.Lon) }

const deg = math.Pi / 180

// vec3 is a point on the unit sphere, with geodetic latitude and longitude
// taken as spherical coordinates. Chords between vec3s prune candidates;
// they are never reported as distances.
type vec3 struct{ x, y, z float64 }

func unit(p Point) vec3 {
	sφ, cφ := math.Sincos(p.Lat * deg)
	sλ, cλ := math.Sincos(p.Lon * deg)
	return vec3{cφ * cλ, cφ * sλ, sφ}
}

// chord2 is the squared chord length between two unit vectors.
func chord2(a, b vec3) float64 {
	dx, dy, dz := a.x-b.x, a.y-b.y, a.z-b.z
	return dx*dx + dy*dy + dz*dz
}

// angleToChord2 converts a central angle in radians (0..π) to a squared chord.
func angleToChord2(θ float64) float64 {
	if θ >= math.Pi {
		return 4
	}
	s := 2 * math.Sin(θ/2)
	return s * s
}

// chord2ToAngle converts a squared chord back to a central angle in radians.
func chord2ToAngle(c2 float64) float64 {
	if c2 >= 4 {
		return math.Pi
	}
	return 2 * math.Asin(math.Sqrt(c2)/2)
}
