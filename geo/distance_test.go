package geo

import (
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

func dms(d, m, s float64) float64 { return d + m/60 + s/3600 }

// Published reference lines for the inverse problem. Vincenty's own lines
// (1975, Survey Review XXIII) use the Bessel and International ellipsoids.
func TestReferenceLines(t *testing.T) {
	wgs84 := ellipsoid{wgs84A, wgs84F}
	bessel := ellipsoid{6377397.155, 1 / 299.1528128}
	intl := ellipsoid{6378388, 1.0 / 297}
	tests := []struct {
		name   string
		e      ellipsoid
		p, q   Point
		meters float64
		tol    float64
	}{
		{"Flinders Peak–Buninyong (Geoscience Australia)", wgs84,
			Point{-dms(37, 57, 3.72030), dms(144, 25, 29.52440)}, Point{-dms(37, 39, 10.15610), dms(143, 55, 35.38390)}, 54972.271, 0.001},
		{"Vincenty line (a), Bessel", bessel, Point{dms(55, 45, 0), 0}, Point{-dms(33, 26, 0), dms(108, 13, 0)}, 14110526.170, 0.001},
		{"Vincenty line (b), International", intl, Point{dms(37, 19, 54.95367), 0}, Point{dms(26, 7, 42.83946), dms(41, 28, 35.50729)}, 4085966.703, 0.001},
		{"Vincenty line (c), International", intl, Point{dms(35, 16, 11.24862), 0}, Point{dms(67, 22, 14.77638), dms(137, 47, 28.31435)}, 8084823.839, 0.001},
		{"equatorial antipodes: twice the meridian quadrant", wgs84, Point{0, 0}, Point{0, 180}, 20003931.4586, 0.001},
		{"pole to pole", wgs84, Point{90, 0}, Point{-90, 0}, 20003931.4586, 0.001},
		{"Karney (2013) nearly antipodal example", wgs84, Point{-30, 0}, Point{29.9, 179.8}, 19989832.82761, 0.001},
		{"coincident", wgs84, Point{40.75, -73.99}, Point{40.75, -73.99}, 0, 0},
		{"one degree of longitude at the equator", wgs84, Point{0, 0}, Point{0, 1}, 111319.4908, 0.001},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, swap := range []bool{false, true} {
				p, q := tc.p, tc.q
				if swap {
					p, q = q, p
				}
				got := tc.e.distance(p, q)
				if math.Abs(got-tc.meters) > tc.tol {
					t.Errorf("distance(%v, %v) = %.4f m, want %.4f m ± %g", p, q, got, tc.meters, tc.tol)
				}
			}
		})
	}
}

func TestMiles(t *testing.T) {
	// Statute miles are exactly 1609.344 m.
	p, q := Point{0, 0}, Point{0, 1}
	if got, want := Distance(p, q), DistanceMeters(p, q)/1609.344; got != want {
		t.Fatalf("Distance = %v, want %v", got, want)
	}
}

// testdata/postgis_distances.csv holds PostGIS 3.3 ST_Distance(geography,
// use_spheroid => true) for local, continental, antimeridian, polar and
// nearly antipodal pairs; testdata/README.md says how it was made.
func TestAgainstPostGIS(t *testing.T) {
	f, err := os.Open("testdata/postgis_distances.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	worst := map[string]float64{}
	for i, r := range rows[1:] {
		v := make([]float64, 5)
		for j := range v {
			if v[j], err = strconv.ParseFloat(r[j+1], 64); err != nil {
				t.Fatalf("row %d: %v", i+2, err)
			}
		}
		got := DistanceMeters(Point{v[0], v[1]}, Point{v[2], v[3]})
		diff := math.Abs(got - v[4])
		worst[r[0]] = math.Max(worst[r[0]], diff)
		if diff > 1 {
			t.Errorf("row %d (%s): %v→%v: got %.4f m, PostGIS %.4f m", i+2, r[0], Point{v[0], v[1]}, Point{v[2], v[3]}, got, v[4])
		}
	}
	for k, w := range worst {
		t.Logf("%-13s worst difference from PostGIS %.5f m", k, w)
	}
}

func TestSymmetricAndBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		p := Point{r.Float64()*180 - 90, r.Float64()*360 - 180}
		q := Point{r.Float64()*180 - 90, r.Float64()*360 - 180}
		a, b := DistanceMeters(p, q), DistanceMeters(q, p)
		if math.IsNaN(a) || math.Abs(a-b) > 1e-6 || a < 0 || a > 20003931.46 {
			t.Fatalf("d(%v,%v)=%v, d(q,p)=%v", p, q, a, b)
		}
	}
}

// The index prunes with lo·θ ≤ geodesic ≤ hi·θ; check it on random pairs at
// every scale, including the poles and the antimeridian.
func TestCurvatureBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 50000; i++ {
		p := Point{r.Float64()*180 - 90, r.Float64()*360 - 180}
		span := math.Pow(10, r.Float64()*4-2) // 0.01° .. 100°
		q := Point{clamp(p.Lat+(r.Float64()*2-1)*span, -90, 90), normalizeLon(p.Lon + (r.Float64()*2-1)*span)}
		θ := chord2ToAngle(chord2(unit(p), unit(q)))
		lo, hi := curvatureBounds(p.Lat, θ)
		d := DistanceMeters(p, q)
		if d < lo*θ*(1-1e-12)-1e-6 || d > hi*θ*(1+1e-12)+1e-6 {
			t.Fatalf("%v→%v: geodesic %.3f m outside [%.3f, %.3f]", p, q, d, lo*θ, hi*θ)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		p   Point
		err error
	}{
		{Point{40.75, -73.99}, nil},
		{Point{90, 180}, nil},
		{Point{-90, -180}, nil},
		{Point{90.0001, 0}, ErrLatitude},
		{Point{math.NaN(), 0}, ErrLatitude},
		{Point{math.Inf(1), 0}, ErrLatitude},
		{Point{0, 180.5}, ErrLongitude},
		{Point{0, math.NaN()}, ErrLongitude},
		{Point{0, math.Inf(-1)}, ErrLongitude},
	}
	for _, tc := range tests {
		err := tc.p.Validate()
		if (err == nil) != (tc.err == nil) || (err != nil && !errorsIs(err, tc.err)) {
			t.Errorf("Validate(%v) = %v, want %v", tc.p, err, tc.err)
		}
	}
}

func FuzzDistance(f *testing.F) {
	f.Add(40.75, -73.99, 40.76, -73.98)
	f.Add(0.0, 0.0, 0.0, 180.0)
	f.Add(-30.0, 0.0, 29.9, 179.8)
	f.Add(90.0, 0.0, -90.0, 0.0)
	f.Add(52.0, 179.9, 52.0, -179.9)
	f.Fuzz(func(t *testing.T, a, b, c, d float64) {
		p, q := Point{a, b}, Point{c, d}
		if p.Validate() != nil || q.Validate() != nil {
			return
		}
		m := DistanceMeters(p, q)
		if math.IsNaN(m) || m < 0 || m > 20003931.46 {
			t.Fatalf("d(%v,%v) = %v", p, q, m)
		}
	})
}

func BenchmarkDistance(b *testing.B) {
	p, q := Point{40.75, -73.99}, Point{40.80, -73.90}
	for b.Loop() {
		DistanceMeters(p, q)
	}
}

// The estimate's tolerance must hold with a wide margin on lines of every
// length it is used for, at every latitude, poles and antimeridian
// included.
func TestEstimateTolerance(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	worst := map[int]float64{}
	for i := 0; i < 300_000; i++ {
		lat := math.Asin(2*r.Float64()-1) / deg
		if i%4 == 0 {
			lat = math.Copysign(80+10*r.Float64(), lat) // polar
		}
		p := Point{lat, r.Float64()*360 - 180}
		d := math.Pow(r.Float64(), 2) * estimateMaxMeters
		az := r.Float64() * 2 * math.Pi
		q := destination(p, az, d)
		exact := DistanceMeters(p, q)
		est := estimateMeters(p.Lat*deg, q.Lat*deg, chord2ToAngle(chord2(unit(p), unit(q))))
		err := math.Abs(est - exact)
		if exact > MetersPerMile {
			err /= exact
		} else {
			err /= MetersPerMile // short lines: relative to a mile
		}
		band := int(exact / (50 * MetersPerMile))
		worst[band] = math.Max(worst[band], err)
		if err > estimateTolerance/10 {
			t.Fatalf("%v→%v: estimate %.3f m, exact %.3f m: error %.2g exceeds a tenth of the tolerance", p, q, est, exact, err)
		}
	}
	for b := 0; b < 4; b++ {
		t.Logf("lines %3d–%3d mi: worst relative error %.2g", 50*b, 50*(b+1), worst[b])
	}
}

// destination moves d metres from p at azimuth az on the sphere (a test
// helper: any point will do, the test measures it exactly).
func destination(p Point, az, d float64) Point {
	δ := d / meanEarthRadius
	φ1, λ1 := p.Lat*deg, p.Lon*deg
	φ2 := math.Asin(clamp(math.Sin(φ1)*math.Cos(δ)+math.Cos(φ1)*math.Sin(δ)*math.Cos(az), -1, 1))
	λ2 := λ1 + math.Atan2(math.Sin(az)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
	return Point{φ2 / deg, normalizeLon(λ2 / deg)}
}
