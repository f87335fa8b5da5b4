package report

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/csvsafe"
	"github.com/geoaccess/geoaccess/internal/par"
)

// HSDColumn is a column of an HSD table: its header and the field it
// holds. Field numHSDFields (Blank) marks a column geoaccess leaves empty.
type HSDColumn struct {
	Header string
	Field  adequacy.HSDField
	Blank  string // why the column is empty; "" when it is filled
}

// The columns of the CMS MA HSD tables, in the templates' order.
//
// Provider table: the fields and their order are those CMS lists for the
// Provider HSD Table template in "Medicare Advantage Network Adequacy
// Criteria Guidance" (CMS, last updated January 10, 2017), section 4.1.1:
// state/county code, the provider's name, NPI, specialty, specialty code,
// contract type, provider service address, accepts new patients, medical
// group affiliation, uses CMS MA contract amendment. The header wording
// follows the HSD instructions' column names as far as they could be
// checked; the field definitions (that guidance's Appendix I) and the
// current HPMS templates were not available to check.
//
// Facility table: NOT verified against a CMS text. The column set and
// order are the MA Facility Table as remembered from the HSD instructions
// of recent years (state/county code, facility or service type, specialty
// code, NPI, staffed Medicare-certified beds, facility name, service
// address, uses CMS MA contract amendment); check them against the HSD
// templates in HPMS before filing. docs/hsd.md says the same.
var (
	ProviderColumns = []HSDColumn{
		{"SSA State/County Code", adequacy.FieldSSA, ""},
		{"Name of Physician or Mid-Level Practitioner", adequacy.FieldName, ""},
		{"National Provider Identifier (NPI) Number", adequacy.FieldNPI, ""},
		{"Specialty", adequacy.FieldSpecialty, ""},
		{"Specialty Code", adequacy.FieldSpecialtyCode, ""},
		{"Contract Type", adequacy.FieldContractType, blankContract},
		{"Provider Service Street Address", adequacy.FieldStreet, ""},
		{"Provider Service City", adequacy.FieldCity, ""},
		{"Provider Service State", adequacy.FieldState, ""},
		{"Provider Service Zip Code", adequacy.FieldZIP, ""},
		{"Accepts New Patients", adequacy.FieldAcceptsNew, ""},
		{"Medical Group Affiliation", adequacy.FieldMedicalGroup, blankGroup},
		{"Uses CMS MA Contract Amendment", adequacy.FieldContractAmendment, blankAmendment},
	}
	FacilityColumns = []HSDColumn{
		{"SSA State/County Code", adequacy.FieldSSA, ""},
		{"Facility or Service Type", adequacy.FieldSpecialty, ""},
		{"Specialty Code", adequacy.FieldSpecialtyCode, ""},
		{"National Provider Identifier (NPI) Number", adequacy.FieldNPI, ""},
		{"Number of Staffed, Medicare-Certified Beds", blankField, "applies to bed-based facilities (hospitals, nursing facilities), not to therapy services"},
		{"Facility or Service Name", adequacy.FieldName, ""},
		{"Facility Service Street Address", adequacy.FieldStreet, ""},
		{"Facility Service City", adequacy.FieldCity, ""},
		{"Facility Service State", adequacy.FieldState, ""},
		{"Facility Service Zip Code", adequacy.FieldZIP, ""},
		{"Uses CMS MA Contract Amendment", adequacy.FieldContractAmendment, blankAmendment},
	}
)

// blankField marks a column with no field.
const blankField = adequacy.HSDField(255)

const (
	blankContract  = "the roster format has no contract type (direct or downstream contract); fill it from contracting records"
	blankGroup     = "the roster format has no medical group affiliation"
	blankAmendment = "the roster format does not record whether the contract uses the CMS MA contract amendment"
)

// ColumnsOf returns a table's columns.
func ColumnsOf(t adequacy.HSDTable) []HSDColumn {
	if t == adequacy.ProviderTable {
		return ProviderColumns
	}
	return FacilityColumns
}

func headers(cols []HSDColumn) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Header
	}
	return out
}

// hsdCells formats a row as the table's cells.
func hsdCells(cols []HSDColumn, r *adequacy.HSDRecord, out []string) []string {
	out = out[:0]
	for _, c := range cols {
		if c.Field == blankField {
			out = append(out, "")
		} else {
			out = append(out, r.Value(c.Field))
		}
	}
	return out
}

// HSD table file names.
const (
	HSDProviderFile = "hsd_provider"
	HSDFacilityFile = "hsd_facility"
)

// HSDFiles are the names of every file the HSD export may write into its
// directory: the files it owns there (see NewOutputFor).
func HSDFiles() []string {
	return []string{HSDProviderFile + ".csv", HSDProviderFile + ".xlsx", HSDFacilityFile + ".csv", HSDFacilityFile + ".xlsx",
		"hsd_errors.csv", "hsd_preview.csv", "hsd_not_listed.csv", "rejected.csv", "README.txt"}
}

// HSDExport is what WriteHSD writes.
type HSDExport struct {
	Tables  *adequacy.HSDTables
	Area    *adequacy.ServiceArea
	Preview []adequacy.PreviewRow
	// Census says who stood for the beneficiaries: "member file" or
	// "ZIP points".
	Census    string
	NotListed []adequacy.UnlistedProvider
	// NoXLSX leaves the .xlsx twins out: for a large plan they cost more
	// than everything else together (docs/benchmarks.md).
	NoXLSX bool
}

// HSDSummary counts what WriteHSD wrote.
type HSDSummary struct {
	ProviderRows, FacilityRows int
	Errors                     int            // field-edit failures listed in hsd_errors.csv
	RowsWithErrors             int            // rows with at least one
	ErrorsByColumn             map[string]int // "hsd_facility.csv: Facility Service Zip Code" → count
	PreviewRows, PreviewPass   int
	XLSX                       bool // the .xlsx twins were written
}

type hsdTable struct {
	file, sheet string
	t           adequacy.HSDTable
	cols        []HSDColumn
	header      map[adequacy.HSDField]string
}

var hsdTables = func() []hsdTable {
	ts := []hsdTable{{file: HSDProviderFile, sheet: "Provider", t: adequacy.ProviderTable, cols: ProviderColumns},
		{file: HSDFacilityFile, sheet: "Facility", t: adequacy.FacilityTable, cols: FacilityColumns}}
	for i := range ts {
		ts[i].header = map[adequacy.HSDField]string{}
		for _, c := range ts[i].cols {
			ts[i].header[c.Field] = c.Header
		}
	}
	return ts
}()

// WriteHSD writes the HSD export: hsd_provider.csv and hsd_facility.csv
// with their .xlsx twins (unless NoXLSX), hsd_errors.csv (every field edit a row fails:
// file, spreadsheet row, column, value, reason), hsd_preview.csv and
// hsd_not_listed.csv. Rows that fail an edit are written like the others.
func WriteHSD(dir string, x *HSDExport) (HSDSummary, error) {
	h := x.Tables
	sum := HSDSummary{ProviderRows: len(h.Rows[adequacy.ProviderTable]), FacilityRows: len(h.Rows[adequacy.FacilityTable]), ErrorsByColumn: map[string]int{}, XLSX: !x.NoXLSX}
	var steps []func() error
	for _, t := range hsdTables {
		n := len(h.Rows[t.t])
		steps = append(steps,
			func() error {
				w, err := createCSV(dir, t.file+".csv", headers(t.cols))
				if err != nil {
					return err
				}
				err = w.rowsParallel(n, func(i int, b []byte) []byte {
					r := h.Row(t.t, i)
					var cells [16]string
					return appendTexts(b, hsdCells(t.cols, &r, cells[:0])...)
				})
				return w.close(err)
			},
			func() error {
				if x.NoXLSX {
					return nil
				}
				return writeXLSX(dir, t.file+".xlsx", t.sheet, headers(t.cols), n, func(i int, dst []string) []string {
					r := h.Row(t.t, i)
					return hsdCells(t.cols, &r, dst)
				})
			})
	}
	steps = append(steps,
		func() error { return writeHSDErrors(dir, x, &sum) },
		func() error {
			w, err := createCSV(dir, "hsd_preview.csv", PreviewHeader)
			if err != nil {
				return err
			}
			for _, p := range x.Preview {
				sum.PreviewRows++
				if p.Pass {
					sum.PreviewPass++
				}
				if err = w.row(previewRecord(p, x.Census)...); err != nil {
					break
				}
			}
			return w.close(err)
		},
		func() error {
			w, err := createCSV(dir, "hsd_not_listed.csv", []string{"npi", "name", "specialty_code", "county_fips", "reason"})
			if err != nil {
				return err
			}
			for _, n := range x.NotListed {
				p := n.Provider
				if err = w.row(csvsafe.Texts(p.NPI, p.Name, p.Discipline.CMSSpecialty(), p.CountyFIPS, n.Reason)...); err != nil {
					break
				}
			}
			return w.close(err)
		})
	err := par.All(steps...)
	return sum, err
}

// writeHSDErrors writes hsd_errors.csv: the rows of both tables in order,
// formatted in parallel; the counts go to sum.
func writeHSDErrors(dir string, x *HSDExport, sum *HSDSummary) error {
	w, err := createCSV(dir, "hsd_errors.csv", []string{"file", "row", "column", "value", "reason"})
	if err != nil {
		return err
	}
	h := x.Tables
	type counts struct {
		errors, rows int
		byCol        map[string]int
	}
	for _, t := range hsdTables {
		file := t.file + ".csv"
		var mu sync.Mutex
		total := counts{byCol: map[string]int{}}
		err = w.rowsParallel(len(h.Rows[t.t]), func(i int, b []byte) []byte {
			var buf [8]adequacy.HSDEdit
			edits := h.Edits(t.t, i, x.Area, buf[:0])
			if len(edits) == 0 {
				return b
			}
			r := h.Row(t.t, i)
			local := counts{rows: 1, errors: len(edits), byCol: map[string]int{}}
			for _, e := range edits {
				name := t.header[e.Field]
				if name == "" {
					name = e.Field.String()
				}
				local.byCol[name]++
				b = csvsafe.AppendText(b, file)
				b = csvsafe.AppendInt(append(b, ','), int64(i+2))
				b = appendTexts(append(b, ','), name, clip(r.Value(e.Field)), e.Reason)
			}
			mu.Lock()
			total.rows += local.rows
			total.errors += local.errors
			for k, v := range local.byCol {
				total.byCol[k] += v
			}
			mu.Unlock()
			return b
		})
		if err != nil {
			break
		}
		sum.Errors += total.errors
		sum.RowsWithErrors += total.rows
		for k, v := range total.byCol {
			sum.ErrorsByColumn[file+": "+k] += v
		}
	}
	return w.close(err)
}

// clip shortens a value echoed in an error listing.
func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

// PreviewHeader is the header of hsd_preview.csv.
var PreviewHeader = []string{"ssa_county_code", "state", "county", "county_fips", "county_type", "specialty_code", "specialty",
	"census", "members", "served", "served_pct", "required_pct", "time_distance_met", "providers_counted", "minimum_required",
	"minimum_met", "pass", "note"}

func previewRecord(p adequacy.PreviewRow, census string) []csvsafe.Cell {
	c := p.County
	t := csvsafe.Text
	rec := csvsafe.Texts(p.SSA, c.State, c.Name, c.FIPS, c.Designation.Type.String(), p.Discipline.CMSSpecialty(), p.Discipline.Name(), census)
	if !p.HasMembers {
		return append(rec, csvsafe.Int(0), csvsafe.Int(0), t(""), t(""), t(""), t(""), t(""), t(""), t(""),
			t("no one of the census lives in this county: CMS will judge it on its own sample"))
	}
	r := p.Row
	note := ""
	if !p.Pass {
		var why []string
		if !p.TimeDistanceMet {
			why = append(why, fmt.Sprintf("%d of %d served (%.2f%%, %.2f%% required)", r.Served, r.Members, r.ServedPct, r.RequiredPct))
		}
		if !p.MinimumMet {
			why = append(why, fmt.Sprintf("%d providers counted, %d required", r.Counted, r.MinRequired))
		}
		note = strings.Join(why, "; ")
	}
	return append(rec, csvsafe.Int(r.Members), csvsafe.Int(r.Served), pct(r.ServedPct), pct(r.RequiredPct), t(yn(p.TimeDistanceMet)),
		csvsafe.Int(r.Counted), csvsafe.Int(r.MinRequired), t(yn(p.MinimumMet)), t(yn(p.Pass)), t(note))
}

// WriteHSDReadme writes README.txt: what the folder holds and how it was
// made.
func WriteHSDReadme(dir string, lines []string) error {
	f, err := createOut(dir, "README.txt")
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, strings.Join(lines, "\n")+"\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write README.txt: %w", err)
	}
	return nil
}

// BlankColumns lists every column the export leaves empty, with why.
func BlankColumns() []string {
	var out []string
	for _, t := range []struct {
		file string
		cols []HSDColumn
	}{{HSDProviderFile, ProviderColumns}, {HSDFacilityFile, FacilityColumns}} {
		for _, c := range t.cols {
			if c.Blank != "" {
				out = append(out, fmt.Sprintf("%s \"%s\": %s", t.file, c.Header, c.Blank))
			}
		}
	}
	return out
}
