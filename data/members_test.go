package data

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// readSequential is the oracle: the CSV reader, row by row.
func readSequential(t testing.TB, b []byte) ([]adequacy.GapMember, []RowError, error) {
	mr, err := NewMemberReader(bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	var ms []adequacy.GapMember
	var errs []RowError
	for {
		m, es, err := mr.Next()
		if errors.Is(err, io.EOF) {
			sortRowErrors(errs)
			return ms, errs, nil
		}
		if err != nil {
			return nil, nil, err
		}
		errs = append(errs, es...)
		if es == nil {
			ms = append(ms, m)
		}
	}
}

const memberFile = "member_id,lat,lon,zip,county_fips\r\n" +
	"M1,40.75,-73.99,10001,36061\r\n" +
	"M2,,,79830,\r\n" +
	"M3,91,-73.99,,\r\n" +
	"M4,40.7,west,,\r\n" +
	"\r\n" +
	",40.7,-73.9,,\r\n" +
	"M5,40.7,-73.9,1000,\r\n" +
	"M6,40.7,-73.9,,NYC\r\n" +
	"M1,40.76,-73.98,,\r\n" +
	"M7,,,,\r\n" +
	"M8,40.7\r\n" +
	"M9,30.27,-97.74,78701-1234,48453\r\n"

func TestReadMembers(t *testing.T) {
	ms, errs, err := ReadMembers(strings.NewReader(memberFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		`line 4, column lat: "91": latitude must be a finite number between -90 and 90 (got 91)`,
		`line 5, column lon: "west": is not a number`,
		`line 7, column member_id: is required`,
		`line 8, column zip: "1000": a ZIP code is 5 digits`,
		`line 9, column county_fips: "NYC": a county FIPS code is 5 digits`,
		`line 10, column member_id: repeats the member of line 2`,
		`line 11, column lat: a location is required: lat and lon, or zip`,
		`line 12: row has 2 fields, the header has 5`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(ms) != 3 || ms[0].ID != "M1" || !ms[0].HasPoint || ms[1].HasPoint || ms[1].ZIP != "79830" || ms[2].ZIP != "78701" || ms[2].Line != 13 {
		t.Errorf("members %+v", ms)
	}
	seqM, seqE, _ := readSequential(t, []byte(memberFile))
	if !reflect.DeepEqual(ms, seqM) || !reflect.DeepEqual(errs, seqE) {
		t.Errorf("parallel and sequential readers differ:\n%+v\n%+v", errs, seqE)
	}
}

// The parallel reader equals the sequential one on real-size input, with
// and without quoting (which switches it to the CSV reader mid-file).
func TestReadMembersEqualsSequential(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("member_id,lat,lon,zip\n")
	for i := range 300_000 {
		switch {
		case i%50_000 == 7:
			b.WriteString("bad,row\n")
		case i%70_001 == 3:
			b.WriteString("M1,40,-74,\n") // a repeat
		default:
			b.WriteString("M")
			b.WriteString(strings.Repeat("0", 3))
			b.WriteString(strconv.Itoa(i))
			b.WriteString(",40.5,-73.5,10001\n")
		}
	}
	plain := b.Bytes()
	quoted := append(append([]byte{}, plain...), []byte("\"Q1\",40.1,-74.1,\"10001\"\nQ2,40.2,-74.2,\"1000\"\n")...)
	for name, in := range map[string][]byte{"plain": plain, "quoted tail": quoted} {
		ms, errs, err := ReadMembers(bytes.NewReader(in), nil)
		if err != nil {
			t.Fatal(err)
		}
		seqM, seqE, _ := readSequential(t, in)
		if !reflect.DeepEqual(ms, seqM) || !reflect.DeepEqual(errs, seqE) {
			t.Errorf("%s: parallel %d members %d errors, sequential %d %d", name, len(ms), len(errs), len(seqM), len(seqE))
		}
	}
}

// A read error midway is the reader's error, not a short member list.
func TestReadMembersReadError(t *testing.T) {
	boom := errors.New("disk gone")
	var b strings.Builder
	b.WriteString("member_id,lat,lon\n")
	for i := range 200_000 { // more than one chunk before the error
		b.WriteString("M" + strconv.Itoa(i) + ",40.5,-73.5\n")
	}
	ms, _, err := ReadMembers(io.MultiReader(strings.NewReader(b.String()), iotest.ErrReader(boom)), nil)
	if !errors.Is(err, boom) || ms != nil {
		t.Errorf("got %d members, error %v; want %v", len(ms), err, boom)
	}
}

func FuzzReadMembers(f *testing.F) {
	f.Add([]byte(memberFile))
	f.Add([]byte("member_id,zip\nA,10001\n\"B\",\"10001\"\n"))
	f.Add([]byte("id,latitude,longitude\n1,0,0\n1,0,0\n"))
	// Tiny chunks: the fuzzer's small files cross chunk ends.
	defer func(f int) { firstChunkBytes = f }(firstChunkBytes)
	firstChunkBytes = 16
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, errs, err := ReadMembers(bytes.NewReader(b), nil)
		seqM, seqE, seqErr := readSequential(t, b)
		if (err == nil) != (seqErr == nil) {
			t.Fatalf("parallel err %v, sequential err %v", err, seqErr)
		}
		if err == nil && (!reflect.DeepEqual(ms, seqM) || !reflect.DeepEqual(errs, seqE)) {
			t.Fatalf("parallel and sequential differ:\n%+v %+v\n%+v %+v", ms, errs, seqM, seqE)
		}
	})
}

// Member IDs a spreadsheet would take for formulas are neutralised by
// WriteMembers and read back unchanged.
func TestMembersRoundTripHostile(t *testing.T) {
	ms := []adequacy.GapMember{
		{ID: "-5", Point: geo.Point{Lat: 40.75, Lon: -73.99}, HasPoint: true},
		{ID: "=HYPERLINK(\"http://x\")", ZIP: "10001"},
		{ID: "@x", ZIP: "10001", CountyFIPS: "36061"},
		{ID: "'quoted", Point: geo.Point{Lat: -14.3, Lon: -170.7}, HasPoint: true},
	}
	var buf bytes.Buffer
	if err := WriteMembers(&buf, ms); err != nil {
		t.Fatal(err)
	}
	if want := "member_id,lat,lon,zip,county_fips\n\"'-5\",40.75,-73.99,,\n"; !strings.HasPrefix(buf.String(), want) {
		t.Errorf("got\n%s\nwant it to start\n%s", buf.String(), want)
	}
	got, errs, err := ReadMembers(&buf, nil)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	for i := range got {
		got[i].Line = 0
	}
	if !reflect.DeepEqual(got, ms) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", got, ms)
	}
}

// Every wrong coordinate of a row is reported, not only the first.
func TestReadMembersReportsBothCoordinates(t *testing.T) {
	_, errs, err := ReadMembers(strings.NewReader("member_id,lat,lon\nM1,95,200\nM2,-91,x\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range errs {
		got = append(got, strconv.Itoa(e.Line)+" "+e.Column)
	}
	if want := []string{"2 lat", "2 lon", "3 lat", "3 lon"}; !reflect.DeepEqual(got, want) {
		t.Errorf("errors at %v, want %v", got, want)
	}
}
