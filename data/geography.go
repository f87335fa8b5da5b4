package data

import (
	"compress/gzip"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/paulmach/orb"

	"github.com/geoaccess/geoaccess/geo"
)

//go:embed assets
var assets embed.FS

// Geography is the embedded geography: county polygons and ZIP points.
type Geography struct {
	Counties *geo.CountyMap
	ZIPs     *geo.ZIPs
}

var loadGeography = sync.OnceValues(func() (*Geography, error) {
	counties, err := readCountyShapes("assets/geography/counties.geojson.gz")
	if err != nil {
		return nil, err
	}
	cm, err := geo.NewCountyMap(counties)
	if err != nil {
		return nil, fmt.Errorf("embedded counties: %w", err)
	}
	zs, err := readZIPs("assets/geography/zips.csv.gz")
	if err != nil {
		return nil, err
	}
	return &Geography{Counties: cm, ZIPs: zs}, nil
})

// EmbeddedGeography returns the embedded geography, decoded once.
func EmbeddedGeography() (*Geography, error) { return loadGeography() }

func openGzip(name string) (io.ReadCloser, error) {
	f, err := assets.Open(name)
	if err != nil {
		return nil, err
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}, nil
}

// ReadCountyShapes decodes a GeoJSON FeatureCollection of county polygons
// with properties fips, name and state. It decodes into typed structures
// rather than GeoJSON's general form: the embedded file decodes in half
// the time.
func ReadCountyShapes(r io.Reader) ([]geo.CountyShape, error) {
	var fc struct {
		Features []struct {
			Properties struct {
				FIPS  string `json:"fips"`
				Name  string `json:"name"`
				State string `json:"state"`
			} `json:"properties"`
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.NewDecoder(r).Decode(&fc); err != nil {
		return nil, fmt.Errorf("read counties: %w", err)
	}
	out := make([]geo.CountyShape, 0, len(fc.Features))
	for i, f := range fc.Features {
		s := geo.CountyShape{FIPS: f.Properties.FIPS, Name: f.Properties.Name, State: f.Properties.State}
		if s.FIPS == "" {
			return nil, fmt.Errorf("read counties: feature %d has no fips property", i)
		}
		var err error
		switch f.Geometry.Type {
		case "Polygon":
			var p [][][2]float64
			err = json.Unmarshal(f.Geometry.Coordinates, &p)
			s.Shape = orb.MultiPolygon{polygonOf(p)}
		case "MultiPolygon":
			var mp [][][][2]float64
			err = json.Unmarshal(f.Geometry.Coordinates, &mp)
			for _, p := range mp {
				s.Shape = append(s.Shape, polygonOf(p))
			}
		default:
			return nil, fmt.Errorf("read counties: feature %d (%s): geometry is %q, want Polygon or MultiPolygon", i, s.FIPS, f.Geometry.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("read counties: feature %d (%s): %w", i, s.FIPS, err)
		}
		out = append(out, s)
	}
	geo.SortShapes(out)
	return out, nil
}

func polygonOf(rings [][][2]float64) orb.Polygon {
	p := make(orb.Polygon, len(rings))
	for i, r := range rings {
		ring := make(orb.Ring, len(r))
		for j, pt := range r {
			ring[j] = orb.Point(pt)
		}
		p[i] = ring
	}
	return p
}

func readCountyShapes(name string) ([]geo.CountyShape, error) {
	r, err := openGzip(name)
	if err != nil {
		return nil, fmt.Errorf("embedded counties: %w", err)
	}
	defer r.Close()
	return ReadCountyShapes(r)
}

// ReadZIPs reads "zip,lat,lon,state,county_fips" rows.
func ReadZIPs(r io.Reader) (*geo.ZIPs, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read zips: %w", err)
	}
	cols, err := findColumns(head, []string{"zip", "lat", "lon"}, []string{"state", "county_fips"})
	if err != nil {
		return nil, fmt.Errorf("read zips: %w", err)
	}
	var zs []geo.ZIP
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read zips: %w", err)
		}
		line, _ := cr.FieldPos(0)
		lat, err1 := strconv.ParseFloat(rec[cols["lat"]], 64)
		lon, err2 := strconv.ParseFloat(rec[cols["lon"]], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("read zips: line %d: lat/lon are not numbers", line)
		}
		z := geo.ZIP{Code: rec[cols["zip"]], Point: geo.Point{Lat: lat, Lon: lon}}
		if c, ok := cols["state"]; ok {
			z.State = rec[c]
		}
		if c, ok := cols["county_fips"]; ok {
			z.CountyFIPS = rec[c]
		}
		zs = append(zs, z)
	}
	return geo.NewZIPs(zs)
}

func readZIPs(name string) (*geo.ZIPs, error) {
	r, err := openGzip(name)
	if err != nil {
		return nil, fmt.Errorf("embedded zips: %w", err)
	}
	defer r.Close()
	z, err := ReadZIPs(r)
	if err != nil {
		return nil, fmt.Errorf("embedded zips: %w", err)
	}
	return z, nil
}

// findColumns maps header names (trimmed, case-insensitive) to positions,
// failing when a required one is missing.
func findColumns(header, required, optional []string) (map[string]int, error) {
	pos := map[string]int{}
	for i, h := range header {
		pos[normHeader(h)] = i
	}
	out := map[string]int{}
	var missing []string
	for _, r := range required {
		if i, ok := pos[r]; ok {
			out[r] = i
		} else {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %v", ErrMissingColumn, missing)
	}
	for _, o := range optional {
		if i, ok := pos[o]; ok {
			out[o] = i
		}
	}
	return out, nil
}

// ErrMissingColumn is wrapped when a CSV header lacks a required column.
var ErrMissingColumn = errors.New("missing required column")
