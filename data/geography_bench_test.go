package data

import (
	"testing"
)

func BenchmarkReadCountyShapes(b *testing.B) {
	for b.Loop() {
		if _, err := readCountyShapes("assets/geography/counties.geojson.gz"); err != nil {
			b.Fatal(err)
		}
	}
}
