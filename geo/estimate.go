package geo

import "math"

// The index decides most points on the sphere of geodetic coordinates,
// whose angles bound the ellipsoidal distance within about ±0.5%. Points
// in that band get a far better estimate before, if still undecided, the
// exact figure: the sphere's central angle θ scaled by the ellipsoid's
// radius of curvature in the direction of travel at the mid-latitude,
//
//	D ≈ θ·√(M²·cos²α + N²·sin²α),  cos²α ≈ (Δφ/θ)²,
//
// which is the ellipsoid's own line element integrated along the line, with
// an error of second order in the length. Measured against Vincenty's
// inverse on random lines at every latitude, poles included
// (TestEstimateTolerance), the worst error is 1.3e-7 of the length up to 50
// miles, 5.3e-7 to 100, 1.2e-6 to 150 and 2.1e-6 to 200 (all near the
// poles; far less elsewhere). estimateTolerance leaves a margin of more
// than 20; a point within it of a limit still gets the exact figure, so
// answers are those of the exact geodesic.
const (
	estimateTolerance = 5e-5                // relative
	estimateMaxMeters = 200 * MetersPerMile // no estimate beyond this
)

// estimateMeters approximates the geodesic length between latitudes φ1
// and φ2 (radians) whose sphere angle is θ.
func estimateMeters(φ1, φ2, θ float64) float64 {
	if θ == 0 {
		return 0
	}
	dφ := φ2 - φ1
	c := math.Min(1, (dφ/θ)*(dφ/θ))
	const e2 = wgs84F * (2 - wgs84F)
	s := math.Sin((φ1 + φ2) / 2)
	w := 1 - e2*s*s
	n := wgs84A / math.Sqrt(w)
	m := n * (1 - e2) / w
	return θ * math.Sqrt(m*m*c+n*n*(1-c))
}
