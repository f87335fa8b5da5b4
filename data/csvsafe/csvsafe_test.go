package csvsafe

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// formulaStart reports whether a spreadsheet could take the cell as a
// formula: its first character other than a space starts one.
func formulaStart(s string) bool {
	s = strings.TrimLeft(s, " ")
	return s != "" && strings.ContainsRune("=+-@\t\r\n\x00", rune(s[0]))
}

func TestCells(t *testing.T) {
	for _, tc := range []struct {
		cell Cell
		want string
	}{
		{Text("M1"), "M1"},
		{Text(""), ""},
		{Text("-5"), `"'-5"`},
		{Text("=HYPERLINK(\"http://x\",\"y\")"), `"'=HYPERLINK(""http://x"",""y"")"`},
		{Text("+1"), `"'+1"`},
		{Text("@SUM(A1)"), `"'@SUM(A1)"`},
		{Text("\tx"), "\"'\tx\""},
		{Text("\rx"), "\"'\rx\""},
		{Text("  =1+1"), `"'  =1+1"`},
		{Text("'quoted"), `"''quoted"`},
		{Text("O'Brien"), "O'Brien"},
		{Text("a,b"), `"a,b"`},
		{Text(" lead"), `" lead"`},
		{Text("1-2"), "1-2"},
		{Number("-73.99"), "-73.99"},
		{Number("1e-07"), "1e-07"},
		{Number(""), ""},
		{Number("-5x"), `"'-5x"`},
		{Number("-Inf"), `"'-Inf"`},
		{Number("+5"), `"'+5"`},
		{Int(-12), "-12"},
		{Float(-73.985428, -1), "-73.985428"},
		{Float(2.5, 3), "2.500"},
		{Float(nan(), 3), ""},
	} {
		if got := string(tc.cell.append(nil)); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.cell, got, tc.want)
		}
	}
}

func nan() float64 {
	var z float64
	return z / z
}

func TestPlainNumber(t *testing.T) {
	for s, want := range map[string]bool{"0": true, "-0.5": true, "12.": false, ".5": false, "1e5": true, "1E+5": true, "1e": false,
		"-": false, "+1": false, "0x10": false, "1_0": false, "Inf": false, "NaN": false, "1.5e-3": true, "": false} {
		if got := PlainNumber(s); got != want {
			t.Errorf("PlainNumber(%q) = %v", s, got)
		}
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.WriteText("member_id", "lon")
	w.Write(Text("-5"), Number("-73.99"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "member_id,lon\n\"'-5\",-73.99\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// FuzzText: a text cell reads back (encoding/csv, then Unescape) as what
// encoding/csv alone would give; no cell a spreadsheet sees starts a
// formula; a harmless cell is written byte for byte as encoding/csv does.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "M1", "a,b", `say "hi"`, " lead", "\ttab", "line\nbreak", `\.`, "\u00a0nbsp", "ok ",
		"=1+1", "-5", "+x", "@x", "\rx", "'x", "''=x", "  -3", "\x00", "'", "' "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var std bytes.Buffer
		cw := csv.NewWriter(&std)
		cw.Write([]string{s, "x"})
		cw.Flush()
		stdRec, err := csv.NewReader(bytes.NewReader(std.Bytes())).Read()
		if err != nil {
			t.Skip("encoding/csv does not round-trip this either")
		}
		got := string(AppendText(nil, s)) + ",x\n"
		rec, err := csv.NewReader(strings.NewReader(got)).Read()
		if err != nil || len(rec) != 2 {
			t.Fatalf("AppendText(%q) = %q does not parse: %v %q", s, got, err, rec)
		}
		if Unescape(rec[0]) != stdRec[0] {
			t.Fatalf("AppendText(%q) = %q reads back as %q, want %q", s, got, Unescape(rec[0]), stdRec[0])
		}
		if formulaStart(rec[0]) {
			t.Fatalf("AppendText(%q) = %q: a spreadsheet sees %q", s, got, rec[0])
		}
		if !Risky(s) && got != std.String() {
			t.Fatalf("AppendText(%q) = %q, encoding/csv %q", s, got, std.String())
		}
	})
}
