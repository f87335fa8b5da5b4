package hsd

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/internal/memtest"
)

const mainNS = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`

// sheetOf is a worksheet part with the given rows.
func sheetOf(rows string) string {
	return `<worksheet ` + mainNS + `><sheetData>` + rows + `</sheetData></worksheet>`
}

// sstOf is a shared-strings part with the given items.
func sstOf(items string) string { return `<sst ` + mainNS + `>` + items + `</sst>` }

// withPart replaces or adds one part of the one-sheet workbook.
func withPart(t testing.TB, sheetXML, sstXML, name, body string) []byte {
	t.Helper()
	parts := map[string]string{}
	wb := rawWorkbook(t, sheetXML, sstXML)
	zr, err := zip.NewReader(bytes.NewReader(wb), int64(len(wb)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		parts[f.Name] = string(b)
	}
	parts[name] = body
	return zipParts(t, parts)
}

// declaredZip is a workbook whose worksheet part declares n bytes: the
// check refuses it before inflating anything.
func declaredZip(t testing.TB, n uint64) []byte { return rawZip(t, sheetOf(""), n) }

// lyingZip is a workbook whose worksheet part declares 1,000 bytes but
// inflates to n.
func lyingZip(t testing.TB, n int) []byte {
	return rawZip(t, sheetOf("")+strings.Repeat(" ", n-len(sheetOf(""))), 1000)
}

// rawZip is the one-sheet workbook with the worksheet part's body and
// declared size as given.
func rawZip(t testing.TB, body string, declared uint64) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	fw.Write([]byte(body))
	fw.Close()
	good := rawWorkbook(t, sheetOf(""), sstOf(""))
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE([]byte(body)),
				CompressedSize64: uint64(comp.Len()), UncompressedSize64: declared})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(comp.Bytes())
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	return buf.Bytes()
}

// TestHostileWorkbooks: small workbooks built to exhaust memory or time
// fail fast, with ErrMalformed and a message that says which bound, while
// the heap stays small (the hand-written reader this replaced took 1.3 GB
// on a 639 KB workbook of tiny shared strings).
func TestHostileWorkbooks(t *testing.T) {
	row := func(r int, cells string) string { return fmt.Sprintf(`<row r="%d">%s</row>`, r, cells) }
	long := strings.Repeat("x", 30000)
	for _, tc := range []struct {
		name string
		make func(t testing.TB) []byte
		want string
	}{
		{"many tiny shared strings", func(t testing.TB) []byte {
			return rawWorkbook(t, sheetOf(""), sstOf(strings.Repeat("<si/>", 400_000)))
		}, "xlsx part xl/sharedStrings.xml: more than 262144 shared strings"},
		{"huge dimension, a far cell on every row", func(t testing.TB) []byte {
			var b strings.Builder
			for r := 1; r <= 2000; r++ {
				b.WriteString(row(r, fmt.Sprintf(`<c r="XFD%d"><v>1</v></c>`, r)))
			}
			return rawWorkbook(t, `<worksheet `+mainNS+`><dimension ref="A1:XFD1048576"/><sheetData>`+b.String()+`</sheetData></worksheet>`, sstOf(""))
		}, "the rows so far span 16793600 cells; a sheet may span at most 16777216"},
		{"a worksheet part declared over the size limit", func(t testing.TB) []byte { return declaredZip(t, 65<<20) },
			"xlsx part xl/worksheets/sheet1.xml is 65.0 MiB inflated; at most 64.0 MiB"},
		{"a part inflating past its declared size", func(t testing.TB) []byte { return lyingZip(t, 40<<20) },
			"xlsx part xl/worksheets/sheet1.xml: malformed CMS MA HSD reference file: zip: not a valid zip file"},
		{"styles decoded whole", func(t testing.TB) []byte {
			return withPart(t, sheetOf(""), sstOf(""), "xl/styles.xml", `<styleSheet `+mainNS+`><cellXfs>`+strings.Repeat("<xf/>", 1_000_000)+`</cellXfs></styleSheet>`)
		}, "xlsx part xl/styles.xml (<styleSheet>) is 4.8 MiB inflated; at most 4.0 MiB"},
		{"one long string referenced by every cell", func(t testing.TB) []byte {
			var b strings.Builder
			for r := 1; r <= 3000; r++ {
				b.WriteString(row(r, `<c t="s"><v>0</v></c>`))
			}
			return rawWorkbook(t, sheetOf(b.String()), sstOf("<si><t>"+long+"</t></si>"))
		}, "references to shared strings add up to more than 64.0 MiB of text"},
		{"a string longer than a cell", func(t testing.TB) []byte {
			return rawWorkbook(t, sheetOf(""), sstOf("<si><t>"+long+long+"</t></si>"))
		}, "xlsx part xl/sharedStrings.xml: shared string 0: a string of 60000 characters; a cell holds at most 32767"},
		{"escapes decoded in quadratic time", func(t testing.TB) []byte {
			return rawWorkbook(t, sheetOf(row(1, `<c t="inlineStr"><is><t>`+strings.Repeat("_x0041_", 4000)+`</t></is></c>`)), sstOf(""))
		}, "xlsx part xl/worksheets/sheet1.xml row 1 cell A1: a string with 4000 _xHHHH_ escapes; at most 16"},
		{"rows out of order", func(t testing.TB) []byte {
			return rawWorkbook(t, sheetOf(row(5, `<c r="A5"><v>1</v></c>`)+row(3, `<c r="A3"><v>1</v></c>`)), sstOf(""))
		}, "xlsx part xl/worksheets/sheet1.xml: row 3 comes after row 5"},
		{"a truncated worksheet", func(t testing.TB) []byte {
			return rawWorkbook(t, strings.TrimSuffix(sheetOf(row(1, `<c r="A1"><v>1</v></c>`)), "</sheetData></worksheet>"), sstOf(""))
		}, "xlsx part xl/worksheets/sheet1.xml: XML ends inside <sheetData>"},
		{"elements that do not nest", func(t testing.TB) []byte {
			return rawWorkbook(t, sheetOf(`<row r="1"><c r="A1"><v>1</v></row></c>`), sstOf(""))
		}, "xlsx part xl/worksheets/sheet1.xml: XML element </row> closes nothing open"},
		{"a reference past the shared strings", func(t testing.TB) []byte {
			return rawWorkbook(t, sheetOf(row(1, `<c r="B1" t="s"><v>7</v></c>`)), sstOf("<si><t>a</t></si>"))
		}, `xlsx part xl/worksheets/sheet1.xml row 1: cell B1: "7" is not an index into the 1 shared strings`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.make(t)
			runtime.GC()
			peak := memtest.SampleHeap()
			_, err := readRaw(data, "S")
			top := peak()
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant ErrMalformed with %q", err, tc.want)
			}
			if len(err.Error()) > 300 {
				t.Errorf("message of %d bytes: %.300s", len(err.Error()), err)
			}
			// The heap holds the test's own workbook (up to 1 MB) and the
			// reader's small buffers; generous, against the gigabyte before.
			if top > 96<<20 {
				t.Errorf("peak heap %d MiB reading a %d KiB workbook", top>>20, len(data)>>10)
			}
			t.Logf("%d KiB workbook: peak heap %.1f MiB", len(data)>>10, float64(top)/(1<<20))
		})
	}
}

// TestFarCellsAccepted: a sheet that claims the whole grid but holds one
// cell, at the very end, is read cheaply and correctly.
func TestFarCellsAccepted(t *testing.T) {
	ws := `<worksheet ` + mainNS + `><dimension ref="A1:XFD1048576"/><sheetData><row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row></sheetData></worksheet>`
	sheets, err := readRaw(rawWorkbook(t, ws, sstOf("<si><t>end</t></si>")), "S")
	if err != nil {
		t.Fatal(err)
	}
	if rows := sheets["S"].rows; len(rows) != 1 || rows[0].num != maxRows || len(rows[0].cells) != 1 || rows[0].cells[0] != (cell{maxColumns - 1, "end"}) {
		t.Errorf("got %+v", rows)
	}
}
