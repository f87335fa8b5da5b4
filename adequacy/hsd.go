package adequacy

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/geoaccess/geoaccess/geo"
)

// What a Medicare Advantage plan files with CMS to prove its network: the
// Health Service Delivery (HSD) tables, one row per contracted provider
// per county it serves, checked against CMS's field edits before CMS
// checks them, and CMS's pass/fail view of the same numbers as the gap
// report. Formats (column names, CSV, xlsx) belong to internal/report.

// HSDTable is the CMS HSD table a specialty is filed in.
type HSDTable uint8

// The two HSD tables.
const (
	ProviderTable HSDTable = iota // physicians and other practitioners: chiropractors (010)
	FacilityTable                 // facilities and services: physical (049), occupational (050) and speech therapy (051)
)

func (t HSDTable) String() string {
	if t == ProviderTable {
		return "provider"
	}
	return "facility"
}

// HSDTableOf is the table discipline d is filed in. The CY2026 reference
// file lists 010 on its provider sheets and 049, 050 and 051 on its
// facility sheets.
func HSDTableOf(d Discipline) HSDTable {
	if d == DC {
		return ProviderTable
	}
	return FacilityTable
}

// CountyProvider is a contracted provider serving a county: it counts
// under the profile (participating, in person, in effect on the as-of
// date) and lies within the county's time and distance standard of at
// least one member living there, 42 CFR 422.116(a)(2)(i).
type CountyProvider struct {
	County     *County
	Discipline Discipline
	Provider   *Provider
	RosterRow  int // the provider's position in the roster
}

// CountyProviders lists every provider serving each county of the report,
// by county FIPS, discipline, NPI and roster order. A county row's Counted
// is the number of its entries here.
func (r *GapReport) CountyProviders() ([]CountyProvider, error) {
	ev := r.ev
	if ev == nil {
		return nil, ErrNoGapState
	}
	var out []CountyProvider
	n := ev.e.Network
	for _, d := range ev.ds {
		for _, key := range ev.layers[ev.discLayer[d]].covered {
			pos := n.disc[d].prov[int32(key)]
			out = append(out, CountyProvider{County: ev.counties[key>>32], Discipline: d, Provider: n.Roster.Provider(int(pos)), RosterRow: int(pos)})
		}
	}
	slices.SortFunc(out, func(a, b CountyProvider) int {
		if c := strings.Compare(a.County.FIPS, b.County.FIPS); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Discipline, b.Discipline); c != 0 {
			return c
		}
		if c := strings.Compare(a.Provider.NPI, b.Provider.NPI); c != 0 {
			return c
		}
		return cmp.Compare(a.RosterRow, b.RosterRow)
	})
	return out, nil
}

// ServiceArea is the set of CMS counties, by SSA state/county code, a plan
// serves.
type ServiceArea struct {
	// Basis says where the area came from, e.g. "given (--service-area)"
	// or "the counties of the member file".
	Basis    string
	ssa      map[string]bool
	counties map[string]*County // FIPS → county with at least one SSA code in the area
}

// ErrServiceArea is wrapped by NewServiceArea's errors.
var ErrServiceArea = errors.New("bad service area")

// NewServiceArea resolves county codes against the county table: an SSA
// state/county code ("ssa:05200"), a county FIPS code ("fips:06037",
// every SSA code of its polygon), or a bare five-digit code that is one
// or the other. A bare code that is an SSA code of one county and the
// FIPS code of another is refused as ambiguous.
func NewServiceArea(t *Counties, codes []string, basis string) (*ServiceArea, error) {
	bySSA := map[string]*County{}
	for _, c := range t.All() {
		for _, s := range c.CMSCounties {
			bySSA[s] = c
		}
	}
	a := &ServiceArea{Basis: basis, ssa: map[string]bool{}, counties: map[string]*County{}}
	var bad []string
	for _, raw := range codes {
		code := strings.TrimSpace(raw)
		kind, v, prefixed := strings.Cut(code, ":")
		if !prefixed {
			kind, v = "", code
		}
		kind = strings.ToLower(kind)
		bySSACounty, isSSA := bySSA[v]
		byFIPS, err := t.Lookup(v)
		isFIPS := err == nil
		switch {
		case !validFIPS(v) || (kind != "" && kind != "ssa" && kind != "fips"):
			bad = append(bad, fmt.Sprintf("%q is not a county code (5 digits, optionally ssa: or fips:)", Excerpt(code)))
		case kind == "ssa" && isSSA:
			a.addSSA(v, bySSACounty)
		case kind == "fips" && isFIPS:
			a.addCounty(byFIPS)
		case kind == "" && isSSA && isFIPS && bySSACounty != byFIPS:
			bad = append(bad, fmt.Sprintf("%s is the SSA code of %s, %s and the FIPS code of %s, %s: write ssa:%s or fips:%s",
				v, bySSACounty.Name, bySSACounty.State, byFIPS.Name, byFIPS.State, v, v))
		case kind == "" && isSSA:
			a.addSSA(v, bySSACounty)
		case kind == "" && isFIPS:
			a.addCounty(byFIPS)
		default:
			what := map[string]string{"ssa": "SSA county code", "fips": "county FIPS code", "": "SSA or FIPS county code"}[kind]
			bad = append(bad, fmt.Sprintf("%s is not a %s of the county table", v, what))
		}
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
		}
		return nil, fmt.Errorf("%w: %s", ErrServiceArea, strings.Join(bad, "; "))
	}
	if len(a.ssa) == 0 && len(a.counties) == 0 {
		return nil, fmt.Errorf("%w: no county codes", ErrServiceArea)
	}
	return a, nil
}

// ServiceAreaOf is the area made of whole counties: every SSA code of
// each.
func ServiceAreaOf(counties []*County, basis string) *ServiceArea {
	a := &ServiceArea{Basis: basis, ssa: map[string]bool{}, counties: map[string]*County{}}
	for _, c := range counties {
		a.addCounty(c)
	}
	return a
}

func (a *ServiceArea) addCounty(c *County) {
	a.counties[c.FIPS] = c
	for _, s := range c.CMSCounties {
		a.ssa[s] = true
	}
}

func (a *ServiceArea) addSSA(ssa string, c *County) {
	a.ssa[ssa] = true
	a.counties[c.FIPS] = c
}

// HasSSA reports whether the SSA county code is in the area.
func (a *ServiceArea) HasSSA(ssa string) bool { return a.ssa[ssa] }

// HasCounty reports whether any of the county's SSA codes is in the area.
func (a *ServiceArea) HasCounty(c *County) bool { _, ok := a.counties[c.FIPS]; return ok }

// SSACodes is the number of SSA county codes in the area.
func (a *ServiceArea) SSACodes() int { return len(a.ssa) }

// Counties returns the county polygons of the area, by FIPS.
func (a *ServiceArea) Counties() []*County {
	out := make([]*County, 0, len(a.counties))
	for _, c := range a.counties {
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y *County) int { return strings.Compare(x.FIPS, y.FIPS) })
	return out
}

// SSAOf returns the SSA codes a county's rows are filed under: those of
// its codes in the area, or, when none is, all of them (the rows then
// fail the service-area edit rather than vanish). A polygon CMS splits
// into several counties (Los Angeles, Guam's villages, American Samoa's
// districts, Valdez-Cordova) is served as a whole: member files do not
// say which of them a member lives in. A county with no SSA code gets
// one empty code.
func (a *ServiceArea) SSAOf(c *County) []string {
	var in []string
	for _, s := range c.CMSCounties {
		if a.ssa[s] {
			in = append(in, s)
		}
	}
	switch {
	case len(in) > 0:
		return in
	case len(c.CMSCounties) > 0:
		return c.CMSCounties
	}
	return []string{""}
}

// ContractedCounties returns the counties where the network has a
// participating provider of the given disciplines: the service area of a
// plan with no member file.
func ContractedCounties(n *Network, t *Counties, ds []Discipline) []*County {
	seen := map[string]bool{}
	var out []*County
	tab := n.tab
	for i := range tab.recs {
		rec := &tab.recs[i]
		fips := tab.str(i, fCounty)
		if !rec.has(recParticipating) || !slices.Contains(ds, rec.disc) || fips == "" || seen[fips] {
			continue
		}
		seen[fips] = true
		if c, err := t.Lookup(fips); err == nil {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(x, y *County) int { return strings.Compare(x.FIPS, y.FIPS) })
	return out
}

// PopulationCensus stands in for a member file: one member at each ZIP
// point of the area's counties (the Census ZCTA internal points), placed
// in the ZIP's county, or by polygon for the few ZIPs without one. IDs
// are "zip:" and the code.
func (e *Engine) PopulationCensus(a *ServiceArea) []GapMember {
	zs := e.ZIPs.All()
	slices.SortFunc(zs, func(x, y geo.ZIP) int { return strings.Compare(x.Code, y.Code) })
	var out []GapMember
	for _, z := range zs {
		fips := z.CountyFIPS
		if fips == "" {
			if s, err := e.Map.Locate(z.Point); err == nil {
				fips = s.FIPS
			}
		}
		if _, ok := a.counties[fips]; !ok || fips == "" {
			continue
		}
		out = append(out, GapMember{ID: "zip:" + z.Code, Line: len(out) + 1, Point: z.Point, HasPoint: true, ZIP: z.Code, CountyFIPS: fips})
	}
	return out
}

// HSDField is a column of the HSD tables.
type HSDField uint8

// The fields geoaccess files, in the order of the provider table.
const (
	FieldSSA HSDField = iota
	FieldName
	FieldNPI
	FieldSpecialty
	FieldSpecialtyCode
	FieldContractType
	FieldStreet
	FieldCity
	FieldState
	FieldZIP
	FieldAcceptsNew
	FieldMedicalGroup
	FieldContractAmendment
	numHSDFields
)

var hsdFieldNames = [numHSDFields]string{"ssa_county_code", "name", "npi", "specialty", "specialty_code", "contract_type",
	"street", "city", "state", "zip", "accepts_new_patients", "medical_group", "contract_amendment"}

func (f HSDField) String() string {
	if f < numHSDFields {
		return hsdFieldNames[f]
	}
	return fmt.Sprintf("HSDField(%d)", uint8(f))
}

// HSDRecord is a contracted provider's values as filed in an HSD table;
// with its SSA code set, one row.
type HSDRecord struct {
	Table      HSDTable
	Provider   *Provider // the roster row
	Discipline Discipline
	// Values as filed. Contract type, medical group and the contract
	// amendment flag are blank: rosters do not carry them.
	SSA, Name, NPI, Specialty, SpecialtyCode string
	ContractType                             string
	Street, City, State, ZIP                 string
	AcceptsNewPatients                       string // Y or N
	MedicalGroup, ContractAmendment          string
	// LocationState is the state of the county the service location lies
	// in ("" when it lies in none), for the state edit.
	LocationState string
}

// Value returns a field's value.
func (r *HSDRecord) Value(f HSDField) string {
	switch f {
	case FieldSSA:
		return r.SSA
	case FieldName:
		return r.Name
	case FieldNPI:
		return r.NPI
	case FieldSpecialty:
		return r.Specialty
	case FieldSpecialtyCode:
		return r.SpecialtyCode
	case FieldContractType:
		return r.ContractType
	case FieldStreet:
		return r.Street
	case FieldCity:
		return r.City
	case FieldState:
		return r.State
	case FieldZIP:
		return r.ZIP
	case FieldAcceptsNew:
		return r.AcceptsNewPatients
	case FieldMedicalGroup:
		return r.MedicalGroup
	case FieldContractAmendment:
		return r.ContractAmendment
	}
	return ""
}

// HSDTables is both HSD tables: each provider's values once (a record
// with no SSA code), and the rows that file it under each SSA county it
// serves. A table of a large plan has millions of rows; this keeps them
// at 24 bytes each.
type HSDTables struct {
	Records []HSDRecord
	Rows    [2][]HSDRow // by table: by SSA code, specialty code, NPI and roster order
	edits   [][]HSDEdit // by record: the edits of its own fields (all but the SSA code)
}

// HSDRow is one row of a table: a record filed under an SSA county code.
type HSDRow struct {
	SSA    string
	Record int32
}

// Row returns row i of table t as a record with its SSA code.
func (h *HSDTables) Row(t HSDTable, i int) HSDRecord {
	row := h.Rows[t&1][i]
	r := h.Records[row.Record]
	r.SSA = row.SSA
	return r
}

// Edits appends to dst the field edits row i of table t fails, in field
// order: those of its SSA code (ServiceArea), then its record's own.
func (h *HSDTables) Edits(t HSDTable, i int, a *ServiceArea, dst []HSDEdit) []HSDEdit {
	row := h.Rows[t&1][i]
	if e, ok := ssaEdit(row.SSA, a); ok {
		dst = append(dst, e)
	}
	return append(dst, h.edits[row.Record]...)
}

// HSDTables files the providers serving each county of the report
// (CountyProviders, without building that list) for the service area.
func (r *GapReport) HSDTables(a *ServiceArea, t *Counties) (*HSDTables, error) {
	ev := r.ev
	if ev == nil {
		return nil, ErrNoGapState
	}
	n := ev.e.Network
	b := newHSDBuilder(a, t, n.Roster.Len())
	for _, d := range ev.ds {
		for _, key := range ev.layers[ev.discLayer[d]].covered {
			pos := n.disc[d].prov[int32(key)]
			b.add(ev.counties[key>>32], d, int(pos), n.Roster.Provider)
		}
	}
	return b.finish(), nil
}

// NewHSDTables files the given serving entries (as CountyProviders lists
// them) for the service area; t places providers' service locations in
// their counties' states.
func NewHSDTables(serving []CountyProvider, a *ServiceArea, t *Counties) *HSDTables {
	b := newHSDBuilder(a, t, 0)
	for _, cp := range serving {
		b.add(cp.County, cp.Discipline, cp.RosterRow, func(int) *Provider { return cp.Provider })
	}
	return b.finish()
}

type hsdBuilder struct {
	h      *HSDTables
	area   *ServiceArea
	t      *Counties
	recOf  map[int]int32 // roster row → record
	npi    []uint64      // by record
	pos    []int         // by record
	ssa    map[*County][]string
	keys   [2][]hsdKey
	states map[string]string // county FIPS → state
	rank   map[string]uint64 // SSA code → its place in codes (first seen)
	codes  []string
}

// hsdKey orders a row: k1 is the SSA code's rank << 8 | the discipline
// (whose order is the specialty codes'), then the NPI, then roster order.
type hsdKey struct {
	k1, npi     uint64
	pos, record int32
}

func newHSDBuilder(a *ServiceArea, t *Counties, hint int) *hsdBuilder {
	return &hsdBuilder{h: &HSDTables{}, area: a, t: t, recOf: make(map[int]int32, hint/4), ssa: map[*County][]string{}, states: map[string]string{},
		rank: map[string]uint64{}}
}

// add files the provider at roster position pos (provider returns it,
// asked once per provider) as serving county c.
func (b *hsdBuilder) add(c *County, d Discipline, pos int, provider func(pos int) *Provider) {
	rec, ok := b.recOf[pos]
	if !ok {
		p := provider(pos)
		rec = int32(len(b.h.Records))
		b.recOf[pos] = rec
		b.h.Records = append(b.h.Records, b.record(d, p))
		v, _ := strconv.ParseUint(p.NPI, 10, 64)
		b.npi = append(b.npi, v)
		b.pos = append(b.pos, pos)
	}
	codes, ok := b.ssa[c]
	if !ok {
		codes = b.area.SSAOf(c)
		b.ssa[c] = codes
	}
	t := HSDTableOf(d) & 1
	for _, s := range codes {
		r, ok := b.rank[s]
		if !ok {
			r = uint64(len(b.codes))
			b.rank[s] = r
			b.codes = append(b.codes, s)
		}
		b.keys[t] = append(b.keys[t], hsdKey{r<<8 | uint64(d), b.npi[rec], int32(b.pos[rec]), rec})
	}
}

// record is a provider's values as filed.
func (b *hsdBuilder) record(d Discipline, p *Provider) HSDRecord {
	rec := HSDRecord{Table: HSDTableOf(d), Provider: p, Discipline: d,
		Name: p.Name, NPI: p.NPI, Specialty: d.Name(), SpecialtyCode: d.CMSSpecialty(),
		Street: joinNonEmpty(", ", strings.TrimSpace(p.Address.Line1), strings.TrimSpace(p.Address.Line2)),
		City:   strings.TrimSpace(p.Address.City), State: strings.ToUpper(strings.TrimSpace(p.Address.State)),
		ZIP: filedZIP(p.Address.ZIP), AcceptsNewPatients: yesNo(p.AcceptingNewPatients)}
	st, ok := b.states[p.CountyFIPS]
	if !ok {
		if c, err := b.t.Lookup(p.CountyFIPS); err == nil {
			st = c.State
		}
		b.states[p.CountyFIPS] = st
	}
	rec.LocationState = st
	return rec
}

func (b *hsdBuilder) finish() *HSDTables {
	h := b.h
	h.edits = make([][]HSDEdit, len(h.Records))
	for i := range h.Records {
		h.edits[i] = h.Records[i].fieldEdits()
	}
	// Ranks in SSA-code order, so that the keys sort as integers.
	sorted := slices.Clone(b.codes)
	slices.Sort(sorted)
	order := make([]uint64, len(b.codes))
	for i, c := range sorted {
		order[b.rank[c]] = uint64(i)
	}
	var wg sync.WaitGroup
	for t := range b.keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ks := b.keys[t]
			for i := range ks {
				ks[i].k1 = order[ks[i].k1>>8]<<8 | ks[i].k1&0xff
			}
			slices.SortFunc(ks, func(x, y hsdKey) int {
				return cmp.Or(cmp.Compare(x.k1, y.k1), cmp.Compare(x.npi, y.npi), cmp.Compare(x.pos, y.pos))
			})
			rows := make([]HSDRow, len(ks))
			for i, k := range ks {
				rows[i] = HSDRow{SSA: sorted[k.k1>>8], Record: k.record}
			}
			h.Rows[t] = rows
		}()
	}
	wg.Wait()
	return h
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

// filedZIP files a ZIP+4 ("12345-6789", "123456789") as its five digits;
// anything else as given, for the ZIP edit to catch.
func filedZIP(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case len(s) == 10 && s[5] == '-' && allDigits(s[:5]) && allDigits(s[6:]):
		return s[:5]
	case len(s) == 9 && allDigits(s):
		return s[:5]
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func yesNo(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// hsdSpecialties are the specialty codes each table accepts among those
// geoaccess files.
var hsdSpecialties = [2]map[string]string{
	ProviderTable: {"010": "Chiropractor"},
	FacilityTable: {"049": "Physical Therapy", "050": "Occupational Therapy", "051": "Speech Therapy"},
}

// HSDEdit is one field edit a record fails.
type HSDEdit struct {
	Field  HSDField
	Reason string
}

// Edits checks a record against the field edits CMS applies to HSD tables
// that geoaccess can check before filing: a valid NPI, a specialty code
// of the record's table, an SSA county code inside the service area, the
// service address's street, city and state present, a five-digit ZIP,
// and the address's state equal to the state of the county its service
// location lies in. (A provider may serve a county across a state line;
// the state edit compares the address with the location's own county, so
// it catches an address or a geocode that is wrong.)
func (r *HSDRecord) Edits(a *ServiceArea) []HSDEdit {
	var out []HSDEdit
	if e, ok := ssaEdit(r.SSA, a); ok {
		out = append(out, e)
	}
	return append(out, r.fieldEdits()...)
}

// ssaEdit checks an SSA county code against the service area.
func ssaEdit(ssa string, a *ServiceArea) (HSDEdit, bool) {
	switch {
	case ssa == "":
		return HSDEdit{FieldSSA, "no SSA county code: the county table has no CMS county for this county"}, true
	case !a.HasSSA(ssa):
		return HSDEdit{FieldSSA, fmt.Sprintf("SSA county %s is outside the service area (%s)", Excerpt(ssa), a.Basis)}, true
	}
	return HSDEdit{}, false
}

// fieldEdits checks every field but the SSA code, in field order.
func (r *HSDRecord) fieldEdits() []HSDEdit {
	var out []HSDEdit
	add := func(f HSDField, format string, args ...any) {
		out = append(out, HSDEdit{f, fmt.Sprintf(format, args...)})
	}
	if err := validNPI(r.NPI); err != nil {
		add(FieldNPI, "not a valid NPI: %v", err)
	}
	if name, ok := hsdSpecialties[r.Table&1][r.SpecialtyCode]; !ok {
		add(FieldSpecialtyCode, "specialty code %q is not a code of the %s table (%s)", Excerpt(r.SpecialtyCode), r.Table, knownCodes(r.Table))
	} else if r.Specialty != name {
		add(FieldSpecialty, "specialty %q does not match code %s (%s)", Excerpt(r.Specialty), r.SpecialtyCode, name)
	}
	if r.Street == "" {
		add(FieldStreet, "the service street address is empty")
	}
	if r.City == "" {
		add(FieldCity, "the service city is empty")
	}
	switch {
	case r.State == "":
		add(FieldState, "the service state is empty")
	case !isUSPSState(r.State):
		add(FieldState, "%q is not a two-letter state code", Excerpt(r.State))
	case r.LocationState == "":
		add(FieldState, "the service location lies in no county, so its state cannot be checked")
	case r.State != r.LocationState:
		add(FieldState, "state %s differs from %s, the state of the county the service location lies in", r.State, r.LocationState)
	}
	switch {
	case r.ZIP == "":
		add(FieldZIP, "the service ZIP code is empty")
	case len(r.ZIP) != 5 || !allDigits(r.ZIP):
		add(FieldZIP, "%q is not a 5-digit ZIP code", Excerpt(r.ZIP))
	}
	// Specialty and specialty code come before the street in field order;
	// the NPI before both. Sort for the fields' order.
	slices.SortStableFunc(out, func(x, y HSDEdit) int { return cmp.Compare(x.Field, y.Field) })
	return out
}

func knownCodes(t HSDTable) string {
	var cs []string
	for c := range hsdSpecialties[t&1] {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return strings.Join(cs, ", ")
}

func isUSPSState(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// PreviewRow is CMS's view of one SSA county × specialty: the gap
// report's numbers for the county polygon it belongs to.
type PreviewRow struct {
	SSA        string
	Row        CountyRow // the gap report's row; zero Members when no member lives there
	Discipline Discipline
	County     *County
	// TimeDistanceMet: served share ≥ required share (adequacy.csv's pass).
	// MinimumMet: providers counted ≥ the minimum. Pass: both.
	TimeDistanceMet, MinimumMet, Pass bool
	HasMembers                        bool
}

// Preview lists, for every SSA county of the area and every discipline of
// the report, whether CMS's criteria are met, by SSA code and specialty
// code. Counties of the area where no member lives have no numbers.
func (r *GapReport) Preview(a *ServiceArea) []PreviewRow {
	have := map[string]map[Discipline]CountyRow{}
	for _, row := range r.Counties {
		if row.Service != "" {
			continue // services are not CMS specialties
		}
		if have[row.County.FIPS] == nil {
			have[row.County.FIPS] = map[Discipline]CountyRow{}
		}
		have[row.County.FIPS][row.Discipline] = row
	}
	counties := a.Counties()
	seen := map[string]bool{}
	for _, row := range r.Counties {
		if !seen[row.County.FIPS] && !a.HasCounty(row.County) {
			counties = append(counties, row.County) // outside the area: listed, and the export's edit flags its rows
		}
		seen[row.County.FIPS] = true
	}
	var out []PreviewRow
	for _, c := range counties {
		for _, d := range r.Disciplines {
			row, ok := have[c.FIPS][d]
			for _, ssa := range a.SSAOf(c) {
				p := PreviewRow{SSA: ssa, Row: row, Discipline: d, County: c, HasMembers: ok}
				if ok {
					p.TimeDistanceMet, p.MinimumMet = row.Pass, row.MinPass
					p.Pass = row.Pass && row.MinPass
				}
				out = append(out, p)
			}
		}
	}
	slices.SortStableFunc(out, func(x, y PreviewRow) int {
		if c := strings.Compare(x.SSA, y.SSA); c != 0 {
			return c
		}
		return cmp.Compare(x.Discipline, y.Discipline)
	})
	return out
}

// UnlistedProvider is a participating provider of the report's
// disciplines that serves no county of the report, and why.
type UnlistedProvider struct {
	Provider *Provider
	Reason   string
}

// Unlisted returns the participating providers of the report's
// disciplines that appear in no HSD row, in roster order, with why: they
// do not count under the profile on the as-of date, or no one in the
// census lives within their standard.
func (r *GapReport) Unlisted() ([]UnlistedProvider, error) {
	ev := r.ev
	if ev == nil {
		return nil, ErrNoGapState
	}
	n := ev.e.Network
	listed := make([]bool, n.Roster.Len())
	for _, d := range ev.ds {
		for _, key := range ev.layers[ev.discLayer[d]].covered {
			listed[n.disc[d].prov[int32(key)]] = true
		}
	}
	c := ev.p.Counting
	var out []UnlistedProvider
	for i := range n.tab.recs {
		if rec := &n.tab.recs[i]; listed[i] || !rec.has(recParticipating) || !contains(ev.ds, rec.disc) {
			continue
		}
		p := n.Roster.Provider(i)
		var why string
		switch {
		case c.InPersonOnly && p.TelehealthOnly:
			why = "telehealth-only: does not count toward time and distance"
		case c.AcceptingNewPatients && !p.AcceptingNewPatients:
			why = "not accepting new patients, which the profile requires"
		case c.EffectiveOnAsOf && !p.Effective.IsZero() && r.AsOf.Before(p.Effective):
			why = "not yet in effect on " + r.AsOf.String() + " (effective " + p.Effective.String() + ")"
		case c.EffectiveOnAsOf && !p.Termination.IsZero() && !r.AsOf.Before(p.Termination):
			why = "terminated by " + r.AsOf.String() + " (termination " + p.Termination.String() + ")"
		default:
			why = "no one in the census lives within the standard of it"
		}
		out = append(out, UnlistedProvider{Provider: p, Reason: why})
	}
	return out, nil
}
