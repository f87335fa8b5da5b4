package hsd

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkReadXLSX reads the published CY2026 workbook (2.9 MB, 22.7 MB
// inflated): the package check, then the five sheets the reference needs.
func BenchmarkReadXLSX(b *testing.B) {
	data, err := os.ReadFile(workbookPath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadXLSX(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
