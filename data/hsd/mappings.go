package hsd

import "fmt"

// The tables of this file settle what a join by state and normalised
// county name cannot. Each entry is checked against the CY2026 file and
// the geography by the resolution test, which lists every many-to-one and
// one-to-many mapping it expects.

// renamed lists counties renamed since one side's vintage. Both sides'
// names are mapped to the new one, so either vintage of either side joins.
var renamed = []struct{ state, old, new string }{
	// Shannon County, SD, became Oglala Lakota County in 2015 (FIPS 46113 → 46102).
	{"SD", "Shannon", "Oglala Lakota"},
	// Wade Hampton Census Area, AK, became Kusilvak in 2015 (FIPS 02270 → 02158).
	{"AK", "Wade Hampton", "Kusilvak"},
}

// mapping sends a CMS county to polygons named differently: a county that
// lies within a larger polygon, or spans several.
type mapping struct {
	state    string
	cms      string   // CMS county name; "*" for any CMS county of the state without a polygon of its own
	polygons []string // polygon names, in the same state
	why      string   // said in the county's Note
	// override applies the mapping even when a polygon has the CMS
	// county's name.
	override bool
}

// valdezCordova: Alaska split the Valdez-Cordova Census Area (02261) into
// the Chugach (02063) and Copper River (02066) census areas on 1 January
// 2019. CMS lists the two; geography from before the split has the one.
// Used only when the geography has no polygon of the new name.
const valdezCordova = "Valdez-Cordova split into the Chugach and Copper River census areas in 2019; the geography predates the split."

var mappings = []mapping{
	{"AK", "Chugach", []string{"Valdez-Cordova"}, valdezCordova, false},
	{"AK", "Copper River", []string{"Valdez-Cordova"}, valdezCordova, false},
	// The U.S. Virgin Islands have three county-equivalents (St. Croix
	// 78010, St. John 78020, St. Thomas 78030); CMS combines two.
	{"VI", "St. John-Thomas", []string{"St. John", "St. Thomas"},
		"The U.S. Virgin Islands have three county-equivalents; CMS lists St. John and St. Thomas as one county.", false},
	// CMS lists one county for the Northern Mariana Islands, "Northern
	// Islands" (SSA 63050), with 3,819 beneficiaries: the municipality of
	// that name (69085) has a handful of residents, so the row stands for
	// the whole territory and applies to all four municipalities.
	{"MP", "Northern Islands", []string{"Northern Islands", "Rota", "Saipan", "Tinian"},
		"CMS lists the Northern Mariana Islands as one county, Northern Islands; its figures cover the whole territory, so it applies to all four municipalities.", true},
	// Guam is one county-equivalent (66010); CMS lists its villages.
	{"GU", "*", []string{"Guam"}, "CMS lists Guam by village; the geography has Guam as one county-equivalent.", false},
}

// americanSamoaDistricts places American Samoa's counties, as CMS lists
// them, in the districts the geography has as county-equivalents.
// Source: U.S. Census Bureau, American Samoa county/district structure:
// Eastern District (60010), Manu'a District (60020), Rose Island (60030,
// uninhabited, no CMS county), Swains Island (60040) and Western District
// (60050), each made of the counties listed. CMS spells some names without
// the glottal stop (Mauputasi, Saole, Tau); the normaliser drops
// apostrophes, and Mauputasi, which also differs by a letter, is listed
// as well.
var americanSamoaDistricts = []struct {
	district, fips string
	counties       []string
}{
	{"Eastern", "60010", []string{"Ituau", "Ma'oputasi", "Mauputasi", "Sa'ole", "Sua", "Vaifanua"}},
	{"Manu'a", "60020", []string{"Faleasao", "Fitiuta", "Ofu", "Olosega", "Ta'u"}},
	{"Swains Island", "60040", []string{"Swains Island"}},
	{"Western", "60050", []string{"Lealataua", "Leasina", "Tualatai", "Tualauta"}},
}

func init() {
	for _, d := range americanSamoaDistricts {
		why := fmt.Sprintf("American Samoa's %s District (FIPS %s) is one county-equivalent; CMS lists its counties.", d.district, d.fips)
		if len(d.counties) == 1 {
			why = fmt.Sprintf("%s is a county-equivalent of its own (FIPS %s).", d.district, d.fips)
		}
		for _, c := range d.counties {
			mappings = append(mappings, mapping{"AS", c, []string{d.district}, why, false})
		}
	}
}
