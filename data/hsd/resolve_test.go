package hsd

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

// ssaRange lists SSA codes from first to last in steps of 10.
func ssaRange(first, last int) []string {
	var out []string
	for c := first; c <= last; c += 10 {
		out = append(out, fmt.Sprintf("%05d", c))
	}
	return out
}

// TestResolve pins the whole join of the CY2026 file onto counties.csv:
// any new surprise, in either direction, fails it.
func TestResolve(t *testing.T) {
	ref, res := realXLSX(t), realResolution(t)

	// Every CMS county resolves, except these.
	var unresolved []string
	for _, u := range res.Unresolved {
		unresolved = append(unresolved, u.Row.SSA+" "+u.Row.Name+", "+u.Row.State)
		if u.Reason == "" {
			t.Errorf("%s has no reason", u.Row.SSA)
		}
	}
	if want := []string{"64110 Swains Island, AS"}; !reflect.DeepEqual(unresolved, want) {
		t.Errorf("unresolved %q, want %q", unresolved, want)
	}

	// Polygons no CMS county maps to.
	var unmatched []string
	for _, p := range res.Unmatched {
		unmatched = append(unmatched, p.FIPS+" "+p.Name)
	}
	if want := []string(nil); !reflect.DeepEqual(unmatched, want) {
		t.Errorf("unmatched %q, want %q", unmatched, want)
	}

	// Many-to-one: polygons with several CMS counties.
	manyToOne := map[string][]string{}
	polygonsOf := map[string][]string{} // SSA → FIPS
	seen := map[string]bool{}
	for _, c := range res.Counties {
		if seen[c.FIPS] {
			t.Errorf("polygon %s has two counties", c.FIPS)
		}
		seen[c.FIPS] = true
		if len(c.CMSCounties) > 1 {
			manyToOne[c.FIPS] = c.CMSCounties
		}
		for _, ssa := range c.CMSCounties {
			polygonsOf[ssa] = append(polygonsOf[ssa], c.FIPS)
		}
	}
	wantManyToOne := map[string][]string{
		"02261": {"02063", "02066"},                            // Valdez-Cordova ← Chugach, Copper River
		"06037": {"05200", "05210"},                            // Los Angeles ← its two SSA codes
		"60010": {"64030", "64060", "64090", "64100", "64150"}, // Eastern ← Ituau, Mauputasi, Saole, Sua, Vaifanua
		"60020": {"64010", "64020", "64070", "64080", "64120"}, // Manu'a ← Faleasao, Fitiuta, Ofu, Olosega, Tau
		"60050": {"64040", "64050", "64130", "64140"},          // Western ← Lealataua, Leasina, Tualauta, Tualatai
		"66010": ssaRange(65010, 65220),                        // Guam ← its 22 villages
	}
	if !reflect.DeepEqual(manyToOne, wantManyToOne) {
		t.Errorf("many-to-one\n got %v\nwant %v", manyToOne, wantManyToOne)
	}

	// One-to-many: CMS counties on several polygons.
	oneToMany := map[string][]string{}
	for ssa, fips := range polygonsOf {
		if len(fips) > 1 {
			oneToMany[ssa] = fips
		}
	}
	want := map[string][]string{
		"48020": {"78020", "78030"},                   // St. John-Thomas → St. John, St. Thomas
		"63050": {"69085", "69100", "69110", "69120"}, // Northern Islands → all four CNMI municipalities
	}
	if !reflect.DeepEqual(oneToMany, want) {
		t.Errorf("one-to-many %v, want %v", oneToMany, want)
	}

	// The figures add up: every CMS county but the unresolved is on a
	// polygon, and every polygon is a county or unmatched.
	if got := len(polygonsOf); got != len(ref.Rows)-len(res.Unresolved) {
		t.Errorf("%d CMS counties on polygons, want %d", got, len(ref.Rows)-len(res.Unresolved))
	}
	if got, want := len(res.Counties)+len(res.Unmatched), len(realPolygons(t)); got != want {
		t.Errorf("%d counties + %d unmatched ≠ %d polygons", len(res.Counties), len(res.Unmatched), want)
	}
	if len(ref.Rows) != 3262 || len(res.Counties) != 3231 {
		t.Errorf("%d CMS rows, %d counties; want 3262, 3231", len(ref.Rows), len(res.Counties))
	}
}

// TestResolveSpellings pins every one-to-one join where the CMS name and
// the polygon name are spelled differently: accents, spacing, "City"
// suffixes of independent cities, parentheticals.
func TestResolveSpellings(t *testing.T) {
	ref, res := realXLSX(t), realResolution(t)
	byFIPS := map[string]adequacy.County{}
	for _, c := range res.Counties {
		byFIPS[c.FIPS] = c
	}
	rows := map[string]Row{}
	for _, r := range ref.Rows {
		rows[r.SSA] = r
	}
	got := map[string]string{} // "CMS name (SSA)" → "polygon name (FIPS)"
	for _, c := range res.Counties {
		if len(c.CMSCounties) != 1 {
			continue
		}
		r := rows[c.CMSCounties[0]]
		if r.Name != c.Name && c.State != "VI" && c.State != "MP" { // one-to-many mappings are tested in TestResolve
			got[r.Name+" "+r.SSA] = c.Name + " " + c.FIPS
		}
	}
	want := map[string]string{
		"Kusilvak (formerly Wade Hampton) 02270": "Kusilvak 02158",
		"Oglala Lakota (formerly Shannon) 43560": "Oglala Lakota 46102",
		"La Salle 14580":                         "LaSalle 17099", // IL
		"De Kalb 15160":                          "DeKalb 18033",  // IN
		"Lagrange 15430":                         "LaGrange 18087",
		"La Porte 15450":                         "LaPorte 18091",
		"La Salle 19290":                         "LaSalle 22059", // LA
		"DeBaca 32050":                           "De Baca 35011",
		"Dona Ana 32060":                         "Doña Ana 35013",
		"Baltimore City 21030":                   "Baltimore 24510",
		"St. Louis City 26950":                   "St. Louis 29510",
		"Anasco 40060":                           "Añasco 72011",
		"Bayamon 40110":                          "Bayamón 72021",
		"Canovanas 40145":                        "Canóvanas 72029",
		"Catano 40160":                           "Cataño 72033",
		"Comerio 40220":                          "Comerío 72045",
		"Guanica 40270":                          "Guánica 72055",
		"Juana Diaz 40370":                       "Juana Díaz 72075",
		"Las Marias 40410":                       "Las Marías 72083",
		"Loiza 40430":                            "Loíza 72087",
		"Manati 40450":                           "Manatí 72091",
		"Mayaguez 40480":                         "Mayagüez 72097",
		"Penuelas 40550":                         "Peñuelas 72111",
		"Rincon 40580":                           "Rincón 72117",
		"Rio Grande 40590":                       "Río Grande 72119",
		"San German 40630":                       "San Germán 72125",
		"San Sebastian 40660":                    "San Sebastián 72131",
	}
	// Virginia's 38 independent cities: CMS "X City", polygon "X" coded ≥ 510.
	for _, c := range []struct{ name, ssa, fips string }{
		{"Alexandria", "49011", "51510"}, {"Bristol", "49111", "51520"}, {"Buena Vista", "49141", "51530"},
		{"Charlottesville", "49191", "51540"}, {"Chesapeake", "49194", "51550"}, {"Colonial Heights", "49212", "51570"},
		{"Covington", "49213", "51580"}, {"Danville", "49241", "51590"}, {"Emporia", "49270", "51595"},
		{"Fairfax", "49288", "51600"}, {"Falls Church", "49291", "51610"}, {"Franklin", "49328", "51620"},
		{"Fredericksburg", "49342", "51630"}, {"Galax", "49343", "51640"}, {"Hampton", "49411", "51650"},
		{"Harrisonburg", "49421", "51660"}, {"Hopewell", "49451", "51670"}, {"Lexington", "49522", "51678"},
		{"Lynchburg", "49551", "51680"}, {"Martinsville", "49561", "51690"}, {"Manassas", "49563", "51683"},
		{"Manassas Park", "49565", "51685"}, {"Newport News", "49622", "51700"}, {"Norfolk", "49641", "51710"},
		{"Norton", "49661", "51720"}, {"Petersburg", "49701", "51730"}, {"Portsmouth", "49711", "51740"},
		{"Poquoson", "49712", "51735"}, {"Radford", "49771", "51750"}, {"Richmond", "49791", "51760"},
		{"Roanoke", "49801", "51770"}, {"Salem", "49838", "51775"}, {"Staunton", "49891", "51790"},
		{"Suffolk", "49892", "51800"}, {"Virginia Beach", "49921", "51810"}, {"Waynesboro", "49951", "51820"},
		{"Williamsburg", "49961", "51830"}, {"Winchester", "49962", "51840"},
	} {
		want[c.name+" City "+c.ssa] = c.name + " " + c.fips
	}
	if !reflect.DeepEqual(got, want) {
		for k, v := range got {
			if want[k] != v {
				t.Errorf("unexpected %s → %s", k, v)
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("missing %s → %s", k, v)
			}
		}
	}
	// Counties sharing a name with an independent city keep the county.
	for fips, ssa := range map[string]string{"51059": "49290", "51067": "49330", "51159": "49790", "51161": "49800", "24005": "21020", "29189": "26940"} {
		if c := byFIPS[fips]; !slices.Equal(c.CMSCounties, []string{ssa}) {
			t.Errorf("%s %s: CMS counties %v, want [%s]", fips, c.Name, c.CMSCounties, ssa)
		}
	}
}

// TestSharedPolygons: designation and standards of the CMS county with the
// most beneficiaries, sums, the largest minimum, and a note that says so.
func TestSharedPolygons(t *testing.T) {
	byFIPS := map[string]adequacy.County{}
	for _, c := range realResolution(t).Counties {
		byFIPS[c.FIPS] = c
	}
	for _, tc := range []struct {
		fips          string
		typ           adequacy.CountyType
		benef, req    int
		dc            adequacy.CountyStandard
		basis         string
		noteHas       []string
		officialBasis bool
	}{
		{"06037", adequacy.LargeMetro, 1677427 + 18897, 128940 + 1453, std(30, 15, 13),
			"CMS MA HSD reference file: Los Angeles, CA (SSA 05200), the largest by beneficiaries of the 2 CMS counties on this polygon",
			[]string{"Los Angeles (05200), Los Angeles (05210)", "designations agree (Large Metro)", "standards agree"}, true},
		{"02261", adequacy.CEAC, 991 + 656, 142 + 94, std(125, 110, 1),
			"CMS MA HSD reference file: Chugach, AK (SSA 02063), the largest by beneficiaries of the 2 CMS counties on this polygon",
			[]string{"split into the Chugach and Copper River census areas in 2019", "standards differ for DC, PT, OT, ST"}, true},
		{"66010", adequacy.Metro, 14241, 1584, std(45, 30, 1),
			"CMS MA HSD reference file: Dededo, GU (SSA 65070), the largest by beneficiaries of the 22 CMS counties on this polygon",
			[]string{"22 CMS counties", "Agana (65010)", "Yona (65220)", "designations differ (Metro 3, Micro 1, Rural 18)"}, true},
		{"78030", adequacy.Micro, 11019, 1336, std(80, 60, 1),
			"CMS MA HSD reference file: St. John-Thomas, VI (SSA 48020)",
			[]string{"covers 2 polygons, St. John (78020) and St. Thomas (78030)", "not split"}, true},
		{"69085", adequacy.Micro, 3819, 463, std(80, 60, 1),
			"CMS MA HSD reference file: Northern Islands, MP (SSA 63050)",
			[]string{"whole territory", "covers 4 polygons"}, true},
		{"69110", adequacy.Micro, 3819, 463, std(80, 60, 1),
			"CMS MA HSD reference file: Northern Islands, MP (SSA 63050)",
			[]string{"whole territory"}, true},
		{"01001", adequacy.Metro, 12236, 1296, std(45, 30, 1),
			"CMS MA HSD reference file: Autauga, AL (SSA 01000)", nil, true},
	} {
		c := byFIPS[tc.fips]
		if c.Designation.Type != tc.typ || !c.Designation.Official || c.Designation.Basis != tc.basis ||
			c.Beneficiaries != tc.benef || c.BeneficiariesRequired != tc.req || c.Standards[adequacy.DC] != tc.dc {
			t.Errorf("%s: got %v %v %q ben %d req %d DC %+v", tc.fips, c.Designation.Type, c.Designation.Official,
				c.Designation.Basis, c.Beneficiaries, c.BeneficiariesRequired, c.Standards[adequacy.DC])
		}
		for _, s := range tc.noteHas {
			if !strings.Contains(c.Note, s) {
				t.Errorf("%s: note %q lacks %q", tc.fips, c.Note, s)
			}
		}
		if tc.noteHas == nil && c.Note != "" {
			t.Errorf("%s: unexpected note %q", tc.fips, c.Note)
		}
	}
	// Only mapped or shared polygons carry notes.
	var noted []string
	for _, c := range realResolution(t).Counties {
		if c.Note != "" {
			noted = append(noted, c.FIPS)
		}
	}
	sort.Strings(noted)
	if want := []string{"02261", "06037", "60010", "60020", "60050", "66010", "69085", "69100", "69110", "69120", "78020", "78030"}; !reflect.DeepEqual(noted, want) {
		t.Errorf("notes on %v, want %v", noted, want)
	}
}

func TestNormName(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Doña Ana", "Dona Ana"},
		{"Mayagüez", "MAYAGUEZ"},
		{"St. Mary's", "Saint Marys"},
		{"Ste. Genevieve", "Sainte Genevieve"},
		{"DeKalb", "De Kalb"},
		{"LaSalle", "La Salle"},
		{"O'Brien", "OBrien"},
		{"Ma'oputasi", "Maoputasi"},
		{"Manu'a", "Manuʻa"},
		{"Kusilvak (formerly Wade Hampton)", "Kusilvak"},
		{"Miami-Dade", "Miami Dade"},
		{"Prince George's", "Prince Georges"},
	} {
		if normName(tc.a) != normName(tc.b) {
			t.Errorf("normName(%q) = %q ≠ normName(%q) = %q", tc.a, normName(tc.a), tc.b, normName(tc.b))
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"Fairfax", "Fairfax City"},
		{"St. John", "St. Thomas"},
		{"Mauputasi", "Ma'oputasi"}, // differ by a letter: listed in the district table
	} {
		if normName(tc.a) == normName(tc.b) {
			t.Errorf("normName(%q) = normName(%q)", tc.a, tc.b)
		}
	}
	if got := normName("Unclosed (paren"); got != "unclosed" {
		t.Errorf("normName of an unclosed parenthesis = %q", got)
	}
}

// TestNoNameCollisions: the normaliser merges no two polygons of a state
// except a county and an independent city of the same name.
func TestNoNameCollisions(t *testing.T) {
	ix, err := newPolyIndex(realPolygons(t))
	if err != nil {
		t.Fatal(err)
	}
	for k, ps := range ix.byName {
		if len(ps) > 1 && (len(ps) != 2 || len(filter(ps, true)) != 1) {
			t.Errorf("%s: %v", k, ps)
		}
	}
}

// TestRenamedEitherVintage: renamed counties join from either side's
// vintage.
func TestRenamedEitherVintage(t *testing.T) {
	ref := &Reference{Title: Title, Rows: []Row{
		{SSA: "43560", Name: "Shannon", State: "SD"},
		{SSA: "02270", Name: "Wade Hampton", State: "AK"},
		{SSA: "02063", Name: "Chugach", State: "AK"},
	}}
	newer := []Polygon{{"46102", "SD", "Oglala Lakota"}, {"02158", "AK", "Kusilvak"}, {"02063", "AK", "Chugach"}, {"02261", "AK", "Valdez-Cordova"}}
	older := []Polygon{{"46113", "SD", "Shannon"}, {"02270", "AK", "Wade Hampton"}, {"02261", "AK", "Valdez-Cordova"}}
	for _, tc := range []struct {
		polys []Polygon
		want  []string
	}{
		{newer, []string{"02063", "02158", "46102"}}, // Chugach by name once the geography has it
		{older, []string{"02261", "02270", "46113"}}, // Chugach to Valdez-Cordova before
	} {
		res, err := Resolve(ref, tc.polys)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range res.Counties {
			got = append(got, c.FIPS)
		}
		if !reflect.DeepEqual(got, tc.want) || len(res.Unresolved) != 0 {
			t.Errorf("got %v (unresolved %v), want %v", got, res.Unresolved, tc.want)
		}
	}
}

func TestResolveBadInput(t *testing.T) {
	ref := &Reference{}
	for _, tc := range []struct {
		ref   *Reference
		polys []Polygon
		want  string
	}{
		{nil, nil, "hsd: resolve: no reference"},
		{ref, []Polygon{{"1001", "AL", "Autauga"}}, `hsd: resolve: polygon 1: FIPS "1001" is not 5 digits`},
		{ref, []Polygon{{"01001", "AL", "Autauga"}, {"01001", "AL", "Autauga"}}, "hsd: resolve: polygon 2: FIPS 01001 appears twice"},
	} {
		if _, err := Resolve(tc.ref, tc.polys); err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
}
