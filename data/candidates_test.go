package data

import (
	"errors"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

const candidateFile = "npi,discipline,name,lat,lon,city,state,zip,participating,contract_status,status_date,notes\n" +
	"1234567893,PT,Good PT,40.75,-73.99,New York,NY,10001,,declined,2026-03-01,asked for higher rates\n" +
	"1245319599,OT,Other OT,40.76,-73.98,New York,NY,10019,N,Not Credentialed,,\n" +
	"1234567893,PT,Good PT again,40.75,-73.99,New York,NY,10001,,other,,\n" +
	"1234567890,ST,Bad NPI,40.7,-73.9,,,,,no response,,\n" +
	"1003000126,DC,Contracted,40.7,-73.9,,,,Y,declined,,\n" +
	"1003000134,DC,No status,40.7,-73.9,,,,,,,\n" +
	"1003000142,DC,Odd status,40.7,-73.9,,,,,refused,2026-13-01,\n" +
	"1003000159,ST,Closed,40.7,-73.9,,,,,closed_panel,2026-02-02,\"=1+2\"\n"

func TestReadCandidates(t *testing.T) {
	g, err := EmbeddedGeography()
	if err != nil {
		t.Fatal(err)
	}
	cs, bad, err := ReadCandidates(strings.NewReader(candidateFile), g.Counties)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range bad {
		got = append(got, e.Error())
	}
	want := []string{
		`line 4, column npi: "1234567893": duplicate of line 2: same NPI, discipline and location`,
		`line 5, column npi: "1234567890": invalid NPI: check digit is 0, want 3`,
		`line 6, column participating: "Y": a candidate is a provider the plan does not contract with: leave participating empty or N`,
		`line 7, column contract_status: is required: declined, not credentialed, closed panel, no response or other`,
		`line 8, column contract_status: "refused": must be declined, not credentialed, closed panel, no response or other`,
		`line 8, column status_date: "2026-13-01": must be a date YYYY-MM-DD`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(cs) != 3 {
		t.Fatalf("%d candidates: %+v", len(cs), cs)
	}
	c := cs[0]
	if c.Status != adequacy.StatusDeclined || c.StatusDate.String() != "2026-03-01" || c.Notes != "asked for higher rates" || c.Line != 2 ||
		c.Provider.Participating || c.Provider.CountyFIPS != "36061" {
		t.Errorf("first candidate %+v", c)
	}
	if cs[1].Status != adequacy.StatusNotCredentialed || cs[2].Status != adequacy.StatusClosedPanel || cs[2].Notes != "=1+2" {
		t.Errorf("statuses %v %v, notes %q", cs[1].Status, cs[2].Status, cs[2].Notes)
	}
	if _, _, err := ReadCandidates(strings.NewReader("npi,discipline,lat,lon\n"), nil); !errors.Is(err, ErrMissingColumn) {
		t.Errorf("no contract_status column: %v", err)
	}
}

func FuzzReadCandidates(f *testing.F) {
	f.Add(candidateFile)
	f.Add("npi,discipline,lat,lon,contract_status\n1234567893,PT,40,-74,other\n")
	f.Add("npi,discipline,lat,lon,status\n\"x\n")
	f.Fuzz(func(t *testing.T, in string) {
		cs, bad, err := ReadCandidates(strings.NewReader(in), nil)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Provider.Participating || c.Status == adequacy.StatusUnknown || ValidNPI(c.Provider.NPI) != nil || c.Provider.Location.Validate() != nil {
				t.Fatalf("accepted a bad candidate %+v", c)
			}
		}
		for _, e := range bad {
			if e.Line < 1 || e.Reason == "" || len(e.Value) > 64 {
				t.Fatalf("bad error %+v", e)
			}
		}
	})
}

func TestReadCountyCodes(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"01000\n36061\n", "01000 36061", ""},
		{"# my plan\nssa_county_code,name\n01000,Autauga\n\n01010,Baldwin\n", "ssa:01000 ssa:01010", ""},
		{"\ufeffcounty_fips\n36061\n", "fips:36061", ""},
		{"fips:36061\nssa:33420\n", "fips:36061 ssa:33420", ""},
		{"Autauga\n", "", `line 1: "Autauga" is neither a county code nor a header`},
		{strings.Repeat("9", 5000) + "\n", "", "at most 4 KB"},
	} {
		got, err := ReadCountyCodes(strings.NewReader(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzReadCountyCodes(f *testing.F) {
	f.Add("ssa\n01000\n")
	f.Add("# x\n36061,New York\n")
	f.Fuzz(func(t *testing.T, in string) {
		codes, err := ReadCountyCodes(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, c := range codes {
			if c == "" || strings.ContainsAny(c, "\n") {
				t.Fatalf("code %q", c)
			}
		}
	})
}

// The sample candidates file reads whole.
func TestSampleCandidates(t *testing.T) {
	b, err := assets.ReadFile("assets/sample/candidates.csv")
	if err != nil {
		t.Fatal(err)
	}
	cs, bad, err := ReadCandidates(strings.NewReader(string(b)), nil)
	if err != nil || len(bad) != 0 || len(cs) != 570 {
		t.Fatalf("%d candidates, bad %v, %v", len(cs), bad, err)
	}
}
