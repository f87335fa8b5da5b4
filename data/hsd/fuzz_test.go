package hsd

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzReadTable: ReadTable never panics, and what it accepts writes back
// and reads again to the same counties.
func FuzzReadTable(f *testing.F) {
	if data, err := os.ReadFile(tablePath); err == nil {
		lines := strings.SplitAfter(string(data), "\n")
		f.Add(strings.Join(lines[:min(6, len(lines))], ""))
		// the shared and spanning polygons, with their long notes
		for _, l := range lines {
			if strings.HasPrefix(l, "66010,") || strings.HasPrefix(l, "78020,") {
				f.Add(lines[0] + lines[1] + l)
			}
		}
	}
	f.Add("")
	f.Add("# source: x\n")
	f.Add("# source: x\r\n" + strings.Join(tableHeader(), ",") + "\r\n")
	f.Add("# source: x\n" + strings.Join(tableHeader(), ",") + "\n01001,AL,A,Metro,Y,b,,1,0.5,1,45,30,1,Y,,,,,,,,,,,,,\n")
	f.Add("# source: x\n" + strings.Join(tableHeader(), ",") + "\n01001,AL,\"'=A\",Metro,Y,''b,,1,0.5,1,45,30,1,Y,,,,,,,,,,,,,-n\n") // neutralised cells
	f.Add("# source: x\n" + strings.Join(tableHeader(), ",") + "\n01001,AL,A,Metro,Y,b,01000;;,1,1e400,1,45,30,1,,,,,,,,,,,,,,\n")
	f.Add("# source: x\n" + strings.Join(tableHeader(), ",") + "\n\"01001,AL\n")
	f.Fuzz(func(t *testing.T, in string) {
		src, counties, err := ReadTable(strings.NewReader(in))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteTable(&b, src, counties); err != nil {
			t.Fatalf("accepted table does not write back: %v", err)
		}
		src2, counties2, err := ReadTable(&b)
		if err != nil || src2 != src || !reflect.DeepEqual(counties2, counties) {
			t.Fatalf("round trip: %v\n%q %+v\n%q %+v", err, src, counties, src2, counties2)
		}
	})
}

// FuzzSheetCSV: the CSV sheet parser and the sheet readers never panic;
// what a county sheet reader accepts is well formed.
func FuzzSheetCSV(f *testing.F) {
	for _, sheet := range sheetsRead {
		data, err := os.ReadFile(testdataDir + "/" + CSVFile(sheet))
		if err != nil {
			continue
		}
		lines := strings.SplitAfter(string(data), "\n")
		f.Add(strings.Join(lines[:min(8, len(lines))], "")) // header rows and a few counties (the provider sheet has a quoted multi-line header)
	}
	const td = "t\nCOUNTY,ST,SSACD,COUNTY DESIGNATION,x,\n,,,,10,\n,,,,Time,Distance\n"
	f.Add(td + "A,AL,01000,Metro,45,30\n")
	f.Add(td + "A,AL,01000,Metro,x,30\n")
	f.Add(td + "A,AL,01000,Metro,45,\n,,,\nA,AL,01000,Metro,45,30\n")
	f.Add("COUNTY,ST,SSACD,COUNTY DESIGNATION,TOTAL BENEFICIARIES,95th PERCENTILE BASE POPULATION RATIO,BENEFICIARIES REQUIRED TO COVER,c\n,,,,,,,10\nA,AL,1000,CEAC,1e3,NaN,3,1\n")
	f.Add("SSA,Specialty_Code\n01000,049\n0100,S03\n,\n")
	f.Add("\"unterminated\n")
	f.Fuzz(func(t *testing.T, data string) {
		sh, err := parseSheetCSV("fuzz", []byte(data))
		if err != nil {
			return
		}
		for _, kind := range []sheetKind{minimumSheet, timeDistanceSheet} {
			cs, err := readCountySheet(sh, kind)
			if err != nil {
				continue
			}
			for _, r := range cs.recs {
				if !isSSA(r.ssa) || !r.desig.Valid() || r.name == "" {
					t.Fatalf("accepted a bad row %+v", r)
				}
				for d, set := range r.tdSet {
					if set && !(r.minutes[d] > 0 && r.miles[d] > 0) {
						t.Fatalf("accepted a bad standard %+v", r)
					}
				}
			}
		}
		readCONSheet(sh)
	})
}

// FuzzSheetXML: a workbook whose worksheet and shared-strings parts are
// arbitrary XML never panics the reader; it fails with ErrNotHSD or
// ErrMalformed, or reads rows and cells in order.
func FuzzSheetXML(f *testing.F) {
	const sst = `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>s0</t></si><si><r><t>a</t></r><rPh><t>b</t></rPh></si><si><t>_x00</t></si></sst>`
	f.Add(`<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>7.6867250600000006E-2</v></c></row>`+
		`<row r="3"><c r="C3" t="inlineStr"><is><t>x_x000D_</t></is></c><c t="b"><v>1</v></c></row></sheetData></worksheet>`, sst)
	f.Add(`<worksheet><sheetData><row r="2"/><row r="1"/></sheetData></worksheet>`, sst)
	f.Add(`<worksheet><sheetData><row><c r="B1"/><c r="A1"/></row></sheetData></worksheet>`, sst)
	f.Add(`<worksheet><sheetData><row r="1"><c r="XFD1" t="s"><v>99</v></c></row></sheetData></worksheet>`, sst)
	f.Add(`<worksheet><dimension ref="A1:XFD1048576"/><sheetData><row r="1048576"><c r="XFD1048576" t="s"><v>2</v></c></row></sheetData></worksheet>`, sst)
	f.Add(`<worksheet><sheetData><row r="1"><c r="A1" s="x"><v>1</v></c></row>`, `<sst><si/>`)
	f.Fuzz(func(t *testing.T, ws, sst string) {
		sheets, err := readRaw(rawWorkbook(t, ws, sst), "S")
		if err != nil {
			if !errors.Is(err, ErrNotHSD) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is neither ErrNotHSD nor ErrMalformed", err)
			}
			return
		}
		last := 0
		for _, r := range sheets["S"].rows {
			if r.num <= last || r.num > maxRows {
				t.Fatalf("rows out of order: %d after %d", r.num, last)
			}
			last = r.num
			for i, c := range r.cells {
				if c.col < 0 || c.col >= maxColumns || (i > 0 && c.col <= r.cells[i-1].col) || c.val == "" {
					t.Fatalf("bad cells %+v", r.cells)
				}
			}
		}
	})
}

// FuzzReadCSV: ReadCSV never panics when one sheet of the fixture is
// replaced by arbitrary text, and what it accepts is well formed. This
// reaches the checks across sheets.
func FuzzReadCSV(f *testing.F) {
	fsys := newFixture(f).fs(f)
	for i, sheet := range sheetsRead {
		f.Add(uint8(i), string(fsys[CSVFile(sheet)].Data))
	}
	f.Add(uint8(1), strings.Replace(string(fsys[CSVFile(SheetMinFacility)].Data), "Baldwin", "Baldwyn", 1))
	f.Add(uint8(4), "SSA,Specialty_Code\n01000,049\n99999,010\n")
	f.Fuzz(func(t *testing.T, which uint8, data string) {
		m := fstest.MapFS{}
		for k, v := range fsys {
			m[k] = v
		}
		m[CSVFile(sheetsRead[int(which)%len(sheetsRead)])] = &fstest.MapFile{Data: []byte(data)}
		ref, err := ReadCSV(m)
		if err != nil {
			if !errors.Is(err, ErrNotHSD) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is neither ErrNotHSD nor ErrMalformed", err)
			}
			return
		}
		checkReference(t, ref)
	})
}

// FuzzReadXLSX: ReadXLSX never panics on a mutated small workbook.
func FuzzReadXLSX(f *testing.F) {
	f.Add(newFixture(f).xlsx(f))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ref, err := ReadXLSX(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrNotHSD) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is neither ErrNotHSD nor ErrMalformed", err)
			}
			return
		}
		checkReference(t, ref)
	})
}

// checkReference fails on a Reference no valid file could produce.
func checkReference(t *testing.T, ref *Reference) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range ref.Rows {
		if !isSSA(r.SSA) || seen[r.SSA] || !r.Designation.Valid() || r.Name == "" || !isStateCode(r.State) {
			t.Fatalf("bad row %+v", r)
		}
		seen[r.SSA] = true
		for _, s := range r.Standards {
			if s.Set && !(s.MaxMinutes > 0 && s.MaxMiles > 0) || !s.Set && (s.CertificateOfNeed || s.MinProviders != 0) {
				t.Fatalf("bad standard in %+v", r)
			}
		}
	}
}
