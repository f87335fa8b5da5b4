package data

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// readRosterRows is the oracle: the streaming reader, row by row, as a
// roster of values and its report.
func readRosterRows(t testing.TB, b []byte, counties *geo.CountyMap) ([]adequacy.Provider, *RosterReport, error) {
	rd, err := NewRosterReader(bytes.NewReader(b), RosterOptions{Counties: counties})
	if err != nil {
		return nil, nil, err
	}
	var ps []adequacy.Provider
	for {
		p, _, errs, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return ps, &rd.Report, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if len(errs) == 0 {
			ps = append(ps, p)
		}
	}
}

// sameAsRows checks ReadRoster against the row-by-row reader: providers,
// errors, warnings, unplaced lines, counts and checksum.
func sameAsRows(t *testing.T, name string, in []byte, counties *geo.CountyMap) {
	t.Helper()
	want, wrep, werr := readRosterRows(t, in, counties)
	for _, compact := range []bool{false, true} {
		r, rep, err := ReadRoster(bytes.NewReader(in), RosterOptions{MaxBadRows: -1, AllowNoParticipating: true, Counties: counties, Compact: compact})
		if (err == nil) != (werr == nil) {
			t.Fatalf("%s: error %v, row by row %v", name, err, werr)
		}
		if err != nil {
			if err.Error() != "roster : "+werr.Error() {
				t.Fatalf("%s: error %q, row by row %q", name, err, werr)
			}
			return
		}
		if r.IsCompact() != compact {
			t.Fatalf("%s: compact %v", name, r.IsCompact())
		}
		got := r.Expand().Providers
		if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
			for i := range min(len(got), len(want)) {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%s: provider %d:\n got %+v\nwant %+v", name, i, got[i], want[i])
				}
			}
			t.Fatalf("%s: %d providers, row by row %d", name, len(got), len(want))
		}
		if !reflect.DeepEqual(rep, wrep) {
			t.Fatalf("%s: report\n got %+v\nwant %+v", name, summary(rep), summary(wrep))
		}
	}
}

func summary(r *RosterReport) string {
	return fmt.Sprintf("rows %d accepted %d bad %d errors %d (first %v) warnings %d/%d unplaced %d %v sha %s",
		r.Rows, r.Accepted, r.Bad, len(r.Errors), r.Errors[:min(3, len(r.Errors))], len(r.Warnings), r.WarningCount, r.Unplaced, r.UnplacedLines, r.SHA256)
}

// bigRoster is a roster of several chunks with what the parallel reader
// must treat exactly as the row-by-row one does: bad rows, duplicates
// within and across chunks (of good rows and of rows repeated after a bad
// first), warnings, blank and CRLF lines, rows in no county.
func bigRoster(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("\r\n\nNPI,Specialty,lat,lon,name,county_fips,networks,designations,services,participating,effective_date,termination_date\r\n")
	npis := []string{"1234567893", "1497758544", "1003000126", "1992999031"}
	for i := range rows {
		npi := npis[i%len(npis)]
		lat := 30 + float64(i%9000)/1000
		lon := -100 + float64(i/9000)/100
		switch {
		case i%40_000 == 11:
			b.WriteString("bad,row\n")
		case i%50_000 == 13:
			b.WriteString("\n\r\n")
		case i%30_001 == 5:
			fmt.Fprintf(&b, "%s,PT,%.6f,%.6f,Again,,,,,Y,,\n", npis[0], 30.0, -100.0) // the first row's key
		case i%25_000 == 17:
			fmt.Fprintf(&b, "%s,PT,95,%.6f,Out of range,,,,,Y,,\n", npi, lon)
		case i%20_000 == 19:
			fmt.Fprintf(&b, "%s,OT,%.6f,%.6f,Dup of the bad one,,,,,Y,,\n", npi, 95.0, lon)
		case i%9_000 == 23:
			fmt.Fprintf(&b, "%s,PT,0.5,0.5,In no county,,,,,Y,,\r\n", npi)
		default:
			fmt.Fprintf(&b, "%s,%s,%.6f,%.6f,Provider %d,,ACME-%d;NORTH,OCS;DPT,lymphedema,%s,2020-01-01,%s\n",
				npi, []string{"PT", "OT", "ST", "DC"}[i%4], lat, lon, i, i%3, []string{"Y", "N", "y"}[i%3], []string{"", "2030-01-01"}[i%2])
		}
	}
	return b.Bytes()
}

// quotedRoster is bigRoster with names quoted as a spreadsheet writes
// them (commas, doubled quotes, line breaks inside), every seventh row.
func quotedRoster(rows int) []byte {
	var b bytes.Buffer
	for i, ln := range bytes.SplitAfter(bigRoster(rows), []byte("\n")) {
		f := bytes.Split(ln, []byte(","))
		if i > 3 && i%7 == 0 && len(f) > 5 {
			f[4] = []byte(fmt.Sprintf("\"Smith, \"\"Jo\"\"\nand %d\"", i))
		}
		b.Write(bytes.Join(f, []byte(",")))
	}
	return b.Bytes()
}

// The parallel reader equals the row-by-row one on inputs of many
// chunks: plain; quoted throughout (the CSV reader on every processor);
// with malformed quoting from some row on (which hands the rest to the
// CSV reader row by row), a quote never closed, a quoted field longer
// than a chunk; and with a quoted header (the CSV reader throughout).
func TestReadRosterEqualsRows(t *testing.T) {
	counties := geography(t).Counties
	plain := bigRoster(25_000)
	if len(plain) < 1<<20 {
		t.Fatalf("%d bytes: fewer than four chunks", len(plain))
	}
	defer func(m int) { maxQuotedChunk = m }(maxQuotedChunk)
	maxQuotedChunk = 256 << 10
	quoted := append(bytes.Clone(plain), []byte("\"1234567893\",PT,41,-99,\"Smith, Jane\",,,,,Y,,\n1497758544,OT,41,-99,Bare \" quote,,,,,Y,,\n1003000126,ST,41.5,-99,After,,,,,Y,,\n")...)
	quoted = append(quoted, bigRoster(5_000)[100:]...)
	headerQuoted := append([]byte(`"npi",discipline,lat,lon`+"\n"), []byte("1234567893,PT,40.75,-73.99\n1234567893,PT,40.75,-73.99\n")...)
	wellQuoted := quotedRoster(25_000)
	badLater := append(bytes.Clone(wellQuoted), []byte("1497758544,OT,41,-99,Bare \" quote,,,,,Y,,\n")...)
	badLater = append(badLater, wellQuoted[len(wellQuoted)/2:]...)
	unclosed := append(bytes.Clone(plain), []byte("1497758544,OT,41,-99,\"never closed,,,,,Y,,\n1003000126,ST,41.5,-99,After,,,,,Y,,\n")...)
	long := append(bytes.Clone(plain[:len(plain)/3]), []byte("1497758544,OT,41,-99,\""+strings.Repeat("x\n", maxQuotedChunk)+"\",,,,,Y,,\n")...)
	long = append(long, plain[len(plain)/3:]...)
	for name, in := range map[string][]byte{"plain": plain, "quoted tail": quoted, "quoted header": headerQuoted,
		"quoted throughout": wellQuoted, "malformed later": badLater, "never closed": unclosed, "quoted field longer than a chunk": long} {
		sameAsRows(t, name, in, counties)
	}
	sameAsRows(t, "no counties", plain, nil)
}

// Small files: the fixtures, and the edges of lines and fields.
func TestReadRosterEqualsRowsSmall(t *testing.T) {
	counties := geography(t).Counties
	for _, f := range []string{"testdata/roster_bad.csv", "testdata/roster_lists.csv"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sameAsRows(t, f, b, counties)
	}
	for i, in := range []string{
		"npi,discipline,lat,lon\n1234567893,PT,40.75,-73.99",       // no final line end
		"npi,discipline,lat,lon\r\n1234567893,PT,40.75,-73.99\r\n", // CRLF
		"npi,discipline,lat,lon\n\n\n1234567893,PT,40.75,-73.99\n\r\n",
		"npi,discipline,lat,lon\n1234567893,PT,40.75,-73.99,extra\n1234567893,PT\n",
		"npi,discipline,lat,lon\n1234567893,PT,40.75,-73.99\r\r\n",
		"npi,discipline,lat,lon\n 1234567893 , pt ,40.75, -73.99\n'1234567893,PT,40.75,-73.99\n",
		"npi,discipline,lat,lon,network\n1234567893,PT,40.75,-73.99,Gold HMO\n1234567893,PT,40.75,-73.99,Gold HMO\n",
		"npi,discipline,lat,lon\n",
		"\n\n",
		"",
	} {
		sameAsRows(t, fmt.Sprintf("case %d", i), []byte(in), counties)
	}
}

// A read error midway is the reader's error, not a short roster.
func TestReadRosterReadError(t *testing.T) {
	boom := errors.New("disk gone")
	in := bigRoster(20_000)
	r, _, err := ReadRoster(io.MultiReader(bytes.NewReader(in), iotest.ErrReader(boom)), RosterOptions{MaxBadRows: -1})
	if !errors.Is(err, boom) || r != nil {
		t.Errorf("roster %v, error %v; want %v", r != nil, err, boom)
	}
}

func FuzzReadRosterEqualsRows(f *testing.F) {
	for _, name := range []string{"testdata/roster_bad.csv", "testdata/roster_lists.csv"} {
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	f.Add([]byte("npi,discipline,lat,lon\n1234567893,PT,40.75,-73.99\n1234567893,PT,40.75,-73.99\r\n\r\n"))
	f.Add([]byte("npi,discipline,lat,lon\n\"1234567893\",PT,40.75,-73.99\n"))
	f.Add([]byte("\n\"npi\",discipline,lat,lon\n1234567893,PT,1e1,-7e1\n"))
	f.Add([]byte("npi,discipline,lat,lon,name\n1234567893,PT,40.75,-73.99,\"a,\n\"\"b\"\n1497758544,PT,40.75,-73.99,\"c\"d\n"))
	// Tiny chunks, so that a small input crosses many chunk ends and a
	// quoted field soon outgrows its chunk.
	defer func(f, m int) { firstChunkBytes, maxQuotedChunk = f, m }(firstChunkBytes, maxQuotedChunk)
	firstChunkBytes, maxQuotedChunk = 16, 64
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsRows(t, "fuzz", b, nil)
	})
}

// A huge cell is the reader's business, not the parser's: one field of a
// line longer than a chunk is read whole.
func TestReadRosterLongLine(t *testing.T) {
	in := "npi,discipline,lat,lon,name\n1234567893,PT,40.75,-73.99," + strings.Repeat("n", chunkBytes+10) + "\n1497758544,PT,40.75,-73.99,x\n"
	sameAsRows(t, "long line", []byte(in), nil)
}
