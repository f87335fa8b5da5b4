package geo

import "math"

// WGS84 ellipsoid.
const (
	wgs84A = 6378137.0         // semi-major axis, metres
	wgs84F = 1 / 298.257223563 // flattening
	wgs84B = wgs84A * (1 - wgs84F)

	// MetersPerMile is the international statute mile.
	MetersPerMile = 1609.344

	// Spheres of the Earth, metres, for what needs no ellipsoid: the mean
	// radius R1 = (2a + b)/3 (IUGG) turns miles into angles for grouping
	// points, the authalic radius (a sphere of the ellipsoid's area)
	// measures areas.
	meanEarthRadius     = 6371008.8
	authalicEarthRadius = 6371007.2
)

// Distance is the geodesic distance between a and b on the WGS84 ellipsoid
// in statute miles: the project's one definition of distance.
func Distance(a, b Point) float64 { return DistanceMeters(a, b) / MetersPerMile }

// DistanceMeters is Distance in metres.
//
// It solves the inverse geodesic problem with Vincenty's iteration (1975),
// accurate to well under a millimetre. Vincenty's iteration fails to
// converge only for nearly antipodal points; there the distance is found as
// the minimum, over a closed curve separating the two points, of the sum of
// two ordinary (convergent) geodesics, which is exact because the shortest
// path must cross that curve.
func DistanceMeters(a, b Point) float64 {
	return ellipsoid{wgs84A, wgs84F}.distance(a, b)
}

// ellipsoid is parameterised so the reference lines of other ellipsoids
// (Vincenty's own test lines use Bessel and International) can be checked.
type ellipsoid struct{ a, f float64 }

func (e ellipsoid) distance(p, q Point) float64 {
	a, b := e.origin(p), e.origin(q)
	if s, ok := e.vincenty(a, b); ok {
		return s
	}
	return e.antipodal(p, q)
}

// end is one end of a geodesic with the sine and cosine of its reduced
// latitude, so a query centre's trigonometry is done once for many lines.
type end struct {
	lon    float64 // degrees
	sU, cU float64
}

// origin goes through the unit vector, exactly as the index does, so
// that Distance and the index agree to the last bit.
func (e ellipsoid) origin(p Point) end {
	u := unit(p)
	return e.endFrom(p.Lon, u.z, math.Hypot(u.x, u.y))
}

// endFrom takes the latitude's sine and cosine (from a unit vector, say):
// tan U = (1-f) tan φ, without any trigonometric call.
func (e ellipsoid) endFrom(lon, sφ, cφ float64) end {
	s := (1 - e.f) * sφ
	h := math.Sqrt(s*s + cφ*cφ)
	return end{lon, s / h, cφ / h}
}

// vincenty returns the geodesic length in metres and whether the iteration
// converged.
func (e ellipsoid) vincenty(p, q end) (float64, bool) {
	a, f := e.a, e.f
	b := a * (1 - f)
	L := normalizeLon(q.lon-p.lon) * deg
	sU1, cU1, sU2, cU2 := p.sU, p.cU, q.sU, q.cU

	λ := L
	var sinσ, cosσ, σ, cos2α, cos2σm float64
	converged := false
	for i := 0; i < 200; i++ {
		sλ, cλ := math.Sincos(λ)
		t1 := cU2 * sλ
		t2 := cU1*sU2 - sU1*cU2*cλ
		sinσ = math.Sqrt(t1*t1 + t2*t2)
		if sinσ == 0 {
			return 0, true // coincident points
		}
		cosσ = sU1*sU2 + cU1*cU2*cλ
		σ = math.Atan2(sinσ, cosσ)
		sinα := cU1 * cU2 * sλ / sinσ
		cos2α = 1 - sinα*sinα
		if cos2α != 0 {
			cos2σm = cosσ - 2*sU1*sU2/cos2α
		} else {
			cos2σm = 0 // equatorial line
		}
		C := f / 16 * cos2α * (4 + f*(4-3*cos2α))
		prev := λ
		λ = L + (1-C)*f*sinα*(σ+C*sinσ*(cos2σm+C*cosσ*(-1+2*cos2σm*cos2σm)))
		if math.Abs(λ) > math.Pi+1e-9 {
			return 0, false // the nearly antipodal case
		}
		if math.Abs(λ-prev) < 1e-12 {
			converged = true
			break
		}
	}
	if !converged {
		return 0, false
	}
	u2 := cos2α * (a*a - b*b) / (b * b)
	A := 1 + u2/16384*(4096+u2*(-768+u2*(320-175*u2)))
	B := u2 / 1024 * (256 + u2*(-128+u2*(74-47*u2)))
	Δσ := B * sinσ * (cos2σm + B/4*(cosσ*(-1+2*cos2σm*cos2σm)-
		B/6*cos2σm*(-3+4*sinσ*sinσ)*(-3+4*cos2σm*cos2σm)))
	return b * A * (σ - Δσ), true
}

func normalizeLon(d float64) float64 {
	d = math.Mod(d, 360)
	if d > 180 {
		d -= 360
	} else if d < -180 {
		d += 360
	}
	return d
}

// antipodal solves the inverse problem for nearly antipodal p and q. The
// set of points a quarter great circle from p (on the sphere of geodetic
// coordinates) is a closed curve with p on one side and q on the other, so
// the shortest path crosses it at some m and then d(p,q) = d(p,m) + d(m,q),
// while every other m gives a longer sum. Both legs are about a quarter of
// the globe long, where Vincenty's iteration always converges. The sum is
// minimised by a scan followed by golden-section refinement of the best
// brackets (two geodesics of nearly equal length can exist).
func (e ellipsoid) antipodal(p, q Point) float64 {
	up := unit(p)
	// An orthonormal frame (u, v) spanning the great circle 90° from p.
	var ref vec3
	if math.Abs(up.z) < 0.9 {
		ref = vec3{0, 0, 1}
	} else {
		ref = vec3{1, 0, 0}
	}
	u := normalize(cross(up, ref))
	v := cross(up, u)
	ep, eq := e.origin(p), e.origin(q)
	leg := func(m Point) float64 {
		em := e.origin(m)
		s, ok := e.vincenty(ep, em)
		t, ok2 := e.vincenty(em, eq)
		if !ok || !ok2 {
			return math.Inf(1)
		}
		return s + t
	}
	sum := func(t float64) float64 {
		st, ct := math.Sincos(t)
		w := vec3{u.x*ct + v.x*st, u.y*ct + v.y*st, u.z*ct + v.z*st}
		return leg(Point{Lat: math.Asin(clamp(w.z, -1, 1)) / deg, Lon: math.Atan2(w.y, w.x) / deg})
	}
	const n = 180
	step := 2 * math.Pi / n
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = sum(float64(i) * step)
	}
	best := math.Inf(1)
	for i := range vals {
		l, r := vals[(i+n-1)%n], vals[(i+1)%n]
		if vals[i] <= l && vals[i] <= r { // a local minimum of the scan
			if m := goldenMin(sum, float64(i-1)*step, float64(i+1)*step); m < best {
				best = m
			}
		}
	}
	return best
}

func goldenMin(fn func(float64) float64, lo, hi float64) float64 {
	const g = 0.6180339887498949
	x1 := hi - g*(hi-lo)
	x2 := lo + g*(hi-lo)
	f1, f2 := fn(x1), fn(x2)
	for i := 0; i < 80 && hi-lo > 1e-13; i++ {
		if f1 < f2 {
			hi, x2, f2 = x2, x1, f1
			x1 = hi - g*(hi-lo)
			f1 = fn(x1)
		} else {
			lo, x1, f1 = x1, x2, f2
			x2 = lo + g*(hi-lo)
			f2 = fn(x2)
		}
	}
	return math.Min(f1, f2)
}

func cross(a, b vec3) vec3 {
	return vec3{a.y*b.z - a.z*b.y, a.z*b.x - a.x*b.z, a.x*b.y - a.y*b.x}
}

func normalize(a vec3) vec3 {
	n := math.Sqrt(a.x*a.x + a.y*a.y + a.z*a.z)
	return vec3{a.x / n, a.y / n, a.z / n}
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// Radii of curvature of WGS84 at a geodetic latitude, metres: meridional M
// and prime vertical N. M ≤ N everywhere, and both grow with |latitude|, so
// over a band of latitudes a geodesic's length lies between M(min|φ|)·θ and
// N(max|φ|)·θ, where θ is the central angle between the points on the
// sphere of geodetic coordinates. The index prunes with these bounds.
func radiusM(latDeg float64) float64 {
	e2 := wgs84F * (2 - wgs84F)
	s := math.Sin(latDeg * deg)
	w := 1 - e2*s*s
	return wgs84A * (1 - e2) / (w * math.Sqrt(w))
}

func radiusN(latDeg float64) float64 {
	e2 := wgs84F * (2 - wgs84F)
	s := math.Sin(latDeg * deg)
	return wgs84A / math.Sqrt(1-e2*s*s)
}
