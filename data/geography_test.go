package data

import (
	"errors"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/geoaccess/geoaccess/geo"
)

func TestCountyLookupKnownPlaces(t *testing.T) {
	g := geography(t)
	tests := []struct {
		name string
		p    geo.Point
		fips string
	}{
		{"Midtown Manhattan", geo.Point{Lat: 40.75, Lon: -73.99}, "36061"},
		{"Brooklyn", geo.Point{Lat: 40.65, Lon: -73.95}, "36047"},
		{"Downtown Los Angeles", geo.Point{Lat: 34.05, Lon: -118.25}, "06037"},
		{"Washington DC", geo.Point{Lat: 38.9, Lon: -77.03}, "11001"},
		{"Adak, Aleutians West (west of 180°)", geo.Point{Lat: 51.87, Lon: -176.64}, "02016"},
		{"Attu, Aleutians West (east of 180°)", geo.Point{Lat: 52.85, Lon: 173.18}, "02016"},
		{"Anchorage", geo.Point{Lat: 61.2, Lon: -149.9}, "02020"},
		{"Utqiagvik, North Slope", geo.Point{Lat: 71.29, Lon: -156.75}, "02185"},
		{"Honolulu", geo.Point{Lat: 21.31, Lon: -157.86}, "15003"},
		{"Hilo", geo.Point{Lat: 19.72, Lon: -155.09}, "15001"},
		{"San Juan, PR", geo.Point{Lat: 18.45, Lon: -66.07}, "72127"},
		{"Mayagüez, PR", geo.Point{Lat: 18.2, Lon: -67.14}, "72097"},
		{"Guam", geo.Point{Lat: 13.47, Lon: 144.78}, "66010"},
		{"Saipan", geo.Point{Lat: 15.19, Lon: 145.75}, "69110"},
		{"St. Thomas", geo.Point{Lat: 18.34, Lon: -64.93}, "78030"},
		{"Key West", geo.Point{Lat: 24.56, Lon: -81.78}, "12087"},
		{"Austin, TX", geo.Point{Lat: 30.27, Lon: -97.74}, "48453"},
		{"Loving County, TX", geo.Point{Lat: 31.85, Lon: -103.58}, "48301"},
	}
	for _, tc := range tests {
		s, err := g.Counties.Locate(tc.p)
		if err != nil || s.FIPS != tc.fips {
			got := ""
			if s != nil {
				got = s.FIPS + " " + s.Name
			}
			t.Errorf("%s %v: got %s (%v), want %s", tc.name, tc.p, got, err, tc.fips)
		}
	}
	if _, err := g.Counties.Locate(geo.Point{Lat: 40.0, Lon: -70.0}); !errors.Is(err, geo.ErrNoCounty) {
		t.Errorf("Atlantic Ocean: err = %v", err)
	}
	if _, err := g.Counties.Locate(geo.Point{Lat: 100, Lon: 0}); !errors.Is(err, geo.ErrLatitude) {
		t.Errorf("invalid point: err = %v", err)
	}
	// Just off the generalised coast of Miami Beach: no polygon, but the
	// nearest county is within a mile or two.
	off := geo.Point{Lat: 25.79, Lon: -80.115}
	if _, err := g.Counties.Locate(off); err == nil {
		t.Skip("the polygon now covers this point; pick another")
	}
	s, d, err := g.Counties.Nearest(off, 3)
	if err != nil || s.FIPS != "12086" || d > 3 {
		t.Errorf("nearest to %v: %v %v %v", off, s, d, err)
	}
}

// The indexed lookup equals a brute-force scan of every polygon, at every
// ZIP point in the country.
func TestCountyLookupOracle(t *testing.T) {
	g := geography(t)
	shapes := g.Counties.Shapes()
	bounds := make([]orb.Bound, len(shapes))
	for i, s := range shapes {
		bounds[i] = s.Shape.Bound()
	}
	agree, total := 0, 0
	for _, z := range g.ZIPs.All() {
		pt := orb.Point{z.Point.Lon, z.Point.Lat}
		want := ""
		for i, s := range shapes {
			if bounds[i].Contains(pt) && planar.MultiPolygonContains(s.Shape, pt) && (want == "" || s.FIPS < want) {
				want = s.FIPS
			}
		}
		got := ""
		if s, err := g.Counties.Locate(z.Point); err == nil {
			got = s.FIPS
		}
		if got != want {
			t.Fatalf("ZIP %s %v: index %q, brute force %q", z.Code, z.Point, got, want)
		}
		if z.CountyFIPS != "" {
			total++
			if got == z.CountyFIPS {
				agree++
			}
		}
	}
	t.Logf("ZIP points whose polygon county equals GeoNames' county: %d of %d (%.1f%%)", agree, total, 100*float64(agree)/float64(total))
	if float64(agree) < 0.9*float64(total) {
		t.Errorf("only %d of %d ZIPs agree with GeoNames", agree, total)
	}
}

func TestNoAreaCounties(t *testing.T) {
	g := geography(t)
	if got := g.Counties.NoArea(); len(got) != 1 || got[0] != "51610" {
		t.Errorf("counties without area = %v, want [51610] (Falls Church city collapses at 1:10m)", got)
	}
	if s, ok := g.Counties.Shape("51610"); !ok || s.Name != "Falls Church" {
		t.Errorf("51610 not kept for lookups by FIPS")
	}
}

func TestZIPs(t *testing.T) {
	g := geography(t)
	if n := g.ZIPs.Len(); n != 33791 {
		t.Errorf("%d ZIPs, want 33791", n)
	}
	z, err := g.ZIPs.Lookup("10001-1234")
	if err != nil || z.Code != "10001" || z.State != "NY" {
		t.Errorf("10001: %+v %v", z, err)
	}
	if _, err := g.ZIPs.Lookup("00000"); !errors.Is(err, geo.ErrUnknownZIP) {
		t.Errorf("00000: %v", err)
	}
	for _, bad := range []string{"1000", "abcde", "100011", ""} {
		if _, err := g.ZIPs.Lookup(bad); !errors.Is(err, geo.ErrMalformedZIP) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
