package hsd

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// Test inputs, all inside the repository.
const (
	testdataDir  = "../testdata/cms-hsd-2026"
	workbookPath = testdataDir + "/ma_reference_file_12-17-2025.xlsx"
	countiesPath = "../assets/geography/counties.csv"
	tablePath    = "../assets/standards/cms-hsd-2026.csv"
	tableSource  = "CMS MA HSD reference file CY2026 (12-17-2025)"
)

// The real inputs are read once per test binary: the workbook takes most
// of a second.
var real struct {
	once        sync.Once
	xlsx, csv   *Reference
	polys       []Polygon
	xlsxErr     error
	csvErr      error
	polysErr    error
	resolution  *Resolution
	resolveErr  error
	workbookRaw []byte
}

func loadReal(t testing.TB) {
	t.Helper()
	real.once.Do(func() {
		real.workbookRaw, real.xlsxErr = os.ReadFile(workbookPath)
		if real.xlsxErr == nil {
			real.xlsx, real.xlsxErr = ReadXLSX(bytes.NewReader(real.workbookRaw), int64(len(real.workbookRaw)))
		}
		real.csv, real.csvErr = ReadCSV(os.DirFS(testdataDir))
		f, err := os.Open(countiesPath)
		if err != nil {
			real.polysErr = err
			return
		}
		defer f.Close()
		real.polys, real.polysErr = ReadPolygons(f)
		if real.xlsxErr == nil && real.polysErr == nil {
			real.resolution, real.resolveErr = Resolve(real.xlsx, real.polys)
		}
	})
	for _, err := range []error{real.xlsxErr, real.csvErr, real.polysErr, real.resolveErr} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// realXLSX is the reference read from the published workbook.
func realXLSX(t testing.TB) *Reference { loadReal(t); return real.xlsx }

// realResolution is Resolve of the workbook onto counties.csv.
func realResolution(t testing.TB) *Resolution { loadReal(t); return real.resolution }

func realPolygons(t testing.TB) []Polygon { loadReal(t); return real.polys }

// fixture is a small copy of the CSV export: the header rows of every
// sheet and the rows of Autauga (01000), Baldwin (01010) and the District
// of Columbia (09000), as parsed records so tests can edit cells.
type fixture map[string][][]string // file name → records

var fixtureSSA = map[string]bool{"01000": true, "01010": true, "09000": true}

// newFixture returns a fresh copy of the fixture; the real files are read
// once.
func newFixture(t testing.TB) fixture {
	t.Helper()
	base, err := fixtureBase()
	if err != nil {
		t.Fatal(err)
	}
	fx := fixture{}
	for name, recs := range base {
		for _, rec := range recs {
			fx[name] = append(fx[name], append([]string(nil), rec...))
		}
	}
	return fx
}

var fixtureBase = sync.OnceValues(func() (fixture, error) {
	fx := fixture{}
	for _, sheet := range sheetsRead {
		name := CSVFile(sheet)
		data, err := os.ReadFile(testdataDir + "/" + name)
		if err != nil {
			return nil, err
		}
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil {
			return nil, err
		}
		ssaCol, keepHead := 3, 4 // county sheets: SSACD in D, up to 4 rows of headers
		if sheet == SheetCON {
			ssaCol, keepHead = 0, 1
		}
		for i, rec := range recs {
			if i < keepHead && (i == 0 || len(rec) <= ssaCol || !isSSA(rec[ssaCol])) {
				fx[name] = append(fx[name], rec)
			} else if len(rec) > ssaCol && fixtureSSA[rec[ssaCol]] {
				fx[name] = append(fx[name], rec)
			}
		}
	}
	return fx, nil
})

// set changes the cell at row (1-based) and column letter of a file.
func (fx fixture) set(t testing.TB, file string, row int, col, val string) {
	t.Helper()
	c, _, ok := parseCellRef(col + "1")
	if !ok || row < 1 || row > len(fx[file]) {
		t.Fatalf("no cell %s%d in %s", col, row, file)
	}
	rec := fx[file][row-1]
	for len(rec) <= c {
		rec = append(rec, "")
	}
	rec[c] = val
	fx[file][row-1] = rec
}

// deleteRow removes a row (1-based) of a file.
func (fx fixture) deleteRow(file string, row int) {
	fx[file] = append(fx[file][:row-1:row-1], fx[file][row:]...)
}

// fs is the fixture as a folder of CSV files.
func (fx fixture) fs(t testing.TB) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	for name, recs := range fx {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		if err := w.WriteAll(recs); err != nil {
			t.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b.Bytes()}
	}
	return m
}

// xlsx is the fixture as a workbook, sheets in the given order (when none
// are given: an extra sheet, then the five the fixture has), written the
// way Excel writes: shared strings for text, numbers as values.
func (fx fixture) xlsx(t testing.TB, sheets ...string) []byte {
	t.Helper()
	if sheets == nil {
		sheets = append([]string{"Master"}, sheetsRead...)
	}
	var names []string
	var grids [][][]string
	for _, s := range sheets {
		if _, ok := fx[CSVFile(s)]; ok || CSVFile(s) == "" {
			names = append(names, s)
			grids = append(grids, fx[CSVFile(s)])
		}
	}
	return buildXLSX(t, names, grids)
}

// buildXLSX writes a minimal workbook.
func buildXLSX(t testing.TB, names []string, grids [][][]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	const relNS = `xmlns="http://schemas.openxmlformats.org/package/2006/relationships"`
	const relType = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	put("_rels/.rels", `<?xml version="1.0"?><Relationships `+relNS+`><Relationship Id="rId1" Type="`+relType+`officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	var wb, rels strings.Builder
	shared, index := []string{}, map[string]int{}
	for i, name := range names {
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, html.EscapeString(name), i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%sworksheet" Target="worksheets/sheet%d.xml"/>`, i+1, relType, i+1)
		var sd strings.Builder
		for r, rec := range grids[i] {
			fmt.Fprintf(&sd, `<row r="%d">`, r+1)
			for c, v := range rec {
				ref := colName(c) + strconv.Itoa(r+1)
				_, err := strconv.ParseFloat(v, 64)
				leadingZero := len(v) > 1 && v[0] == '0' && v[1] != '.' // "01000" is a code, stored as text
				switch {
				case v == "":
				case err == nil && !leadingZero:
					fmt.Fprintf(&sd, `<c r="%s"><v>%s</v></c>`, ref, v)
				default:
					if _, ok := index[v]; !ok {
						index[v] = len(shared)
						shared = append(shared, v)
					}
					fmt.Fprintf(&sd, `<c r="%s" t="s"><v>%d</v></c>`, ref, index[v])
				}
			}
			sd.WriteString(`</row>`)
		}
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), `<?xml version="1.0"?><worksheet `+ns+`><sheetData>`+sd.String()+`</sheetData></worksheet>`)
	}
	fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%ssharedStrings" Target="sharedStrings.xml"/>`, len(names)+1, relType)
	put("xl/workbook.xml", `<?xml version="1.0"?><workbook `+ns+`><sheets>`+wb.String()+`</sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<?xml version="1.0"?><Relationships `+relNS+`>`+rels.String()+`</Relationships>`)
	var sst strings.Builder
	for _, s := range shared {
		fmt.Fprintf(&sst, `<si><t xml:space="preserve">%s</t></si>`, html.EscapeString(s))
	}
	put("xl/sharedStrings.xml", `<?xml version="1.0"?><sst `+ns+`>`+sst.String()+`</sst>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawWorkbook is a workbook with one sheet, "S", whose worksheet part and
// shared-strings part are the given XML, as they are.
func rawWorkbook(t testing.TB, sheetXML, sstXML string) []byte {
	t.Helper()
	return zipParts(t, map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"_rels/.rels":                `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml":   sheetXML,
		"xl/sharedStrings.xml":       sstXML,
	})
}

// zipParts writes the parts into a zip, in name order.
func zipParts(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(parts))
	for n := range parts {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, parts[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readRaw reads the named sheets of a workbook as the reference reader
// does.
func readRaw(data []byte, names ...string) (map[string]*sheet, error) {
	f, err := openWorkbook(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readSheets(f, names)
}
