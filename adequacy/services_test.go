package adequacy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func testVocabulary() ([]SpecialtyDesignation, []Service) {
	ds := []SpecialtyDesignation{
		{Code: "CLT", Aliases: []string{"CLT-LANA"}, Name: "Certified Lymphedema Therapist", Disciplines: []Discipline{PT, OT, DC}},
		{Code: "CHT", Name: "Certified Hand Therapist", Disciplines: []Discipline{PT, OT}},
		{Code: "BCS-S", Name: "Swallowing", Disciplines: []Discipline{ST}},
	}
	ss := []Service{
		{Code: "lymphedema", Aliases: []string{"lymphoedema"}, Disciplines: []Discipline{PT, OT}, Designations: []string{"clt-lana"}},
		{Code: "hand", Disciplines: []Discipline{PT, OT}, Designations: []string{"CHT"}, Similar: []string{"Lymphoedema"}},
		{Code: "vestibular", Disciplines: []Discipline{PT}},
	}
	return ds, ss
}

func TestNewVocabulary(t *testing.T) {
	ds, ss := testVocabulary()
	v, err := NewVocabulary("1", "test", ds, ss)
	if err != nil {
		t.Fatal(err)
	}
	// References are canonical in the vocabulary, untouched in the input.
	lym, _ := v.Service("LYMPHOEDEMA")
	hand, _ := v.Service(" hand ")
	if !slices.Equal(lym.Designations, []string{"CLT"}) || !slices.Equal(hand.Similar, []string{"lymphedema"}) {
		t.Errorf("lymphedema %v, hand similar %v", lym.Designations, hand.Similar)
	}
	if ss[0].Designations[0] != "clt-lana" || ss[1].Similar[0] != "Lymphoedema" {
		t.Errorf("NewVocabulary changed its input: %v %v", ss[0].Designations, ss[1].Similar)
	}
	if d, ok := v.Designation("clt-lana"); !ok || d.Code != "CLT" || !d.Holds(DC) || d.Holds(ST) {
		t.Errorf("CLT-LANA = %+v", d)
	}
	if v.SameOrSimilar(hand) != hand.Bit()|lym.Bit() || v.SameOrSimilar(lym) != lym.Bit() {
		t.Errorf("same or similar: hand %b lymphedema %b", v.SameOrSimilar(hand), v.SameOrSimilar(lym))
	}
	if _, err := v.LookupService("aquatic"); !errors.Is(err, ErrUnknownService) || !strings.Contains(err.Error(), "known: lymphedema, hand, vestibular") {
		t.Errorf("LookupService: %v", err)
	}
}

func TestVocabularyOffers(t *testing.T) {
	ds, ss := testVocabulary()
	v, err := NewVocabulary("1", "test", ds, ss)
	if err != nil {
		t.Fatal(err)
	}
	bit := func(c string) ServiceSet { s, _ := v.Service(c); return s.Bit() }
	tests := []struct {
		name         string
		d            Discipline
		designations []string
		services     []string
		want         ServiceSet
	}{
		{"nothing", PT, nil, nil, 0},
		{"a designation", OT, []string{"CLT"}, nil, bit("lymphedema")},
		{"two designations", PT, []string{"CLT", "CHT"}, nil, bit("lymphedema") | bit("hand")},
		{"held, but the service is not the discipline's", DC, []string{"CLT"}, nil, 0},
		{"declared", PT, nil, []string{"vestibular"}, bit("vestibular")},
		{"declared by alias", OT, nil, []string{"lymphoedema"}, bit("lymphedema")},
		{"declared outside the discipline", ST, nil, []string{"vestibular", "hand"}, 0},
		{"unknown codes are nothing", PT, []string{"DPT"}, []string{"aquatic"}, 0},
		{"both", PT, []string{"CHT"}, []string{"vestibular"}, bit("hand") | bit("vestibular")},
	}
	for _, tc := range tests {
		if got := v.Offers(tc.d, tc.designations, tc.services); got != tc.want {
			t.Errorf("%s: %b, want %b", tc.name, got, tc.want)
		}
	}
}

// Every malformed vocabulary is a *VocabularyError that says where.
func TestNewVocabularyErrors(t *testing.T) {
	tests := []struct {
		name                  string
		edit                  func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service)
		section, field, inMsg string
		index                 int
	}{
		{"no code", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ds[1].Code = ""
			return ds, ss
		}, "designations", "code", "is required", 1},
		{"lower-case designation", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ds[0].Code = "clt"
			return ds, ss
		}, "designations", "code", "upper-case", 0},
		{"upper-case service", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ss[2].Code = "Vestibular"
			return ds, ss
		}, "services", "code", "lower-case", 2},
		{"no discipline", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ss[2].Disciplines = nil
			return ds, ss
		}, "services", "disciplines", "at least one", 2},
		{"discipline twice", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ds[1].Disciplines = []Discipline{PT, PT}
			return ds, ss
		}, "designations", "disciplines.1", "twice", 1},
		{"bad alias", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ds[0].Aliases = append(ds[0].Aliases, "a;b")
			return ds, ss
		}, "designations", "aliases.1", "letters, digits", 0},
		{"alias taken", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ds[1].Aliases = []string{"clt"}
			return ds, ss
		}, "designations", "aliases.0", "already designation CLT's", 1},
		{"code taken", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ss[2].Code = "lymphoedema"
			return ds, ss
		}, "services", "code", "already service lymphedema's", 2},
		{"unknown designation", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ss[2].Designations = []string{"ZZ"}
			return ds, ss
		}, "services", "designations.0", "unknown designation", 2},
		{"designation of another discipline", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ss[2].Designations = []string{"BCS-S"}
			return ds, ss
		}, "services", "designations.0", "held by no discipline", 2},
		{"designation twice", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ss[0].Designations = []string{"CLT", "clt-lana"}
			return ds, ss
		}, "services", "designations.1", "listed twice", 0},
		{"similar to itself", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ss[2].Similar = []string{"vestibular"}
			return ds, ss
		}, "services", "similar.0", "not similar to itself", 2},
		{"unknown similar", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			ss[2].Similar = []string{"aquatic"}
			return ds, ss
		}, "services", "similar.0", "unknown service", 2},
		{"too many services", func(ds []SpecialtyDesignation, ss []Service) ([]SpecialtyDesignation, []Service) {
			return ds, make([]Service, MaxServices+1)
		}, "", "", "exceed the limit of 64", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, ss := tc.edit(testVocabulary())
			_, err := NewVocabulary("1", "test", ds, ss)
			var ve *VocabularyError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidVocabulary) {
				t.Fatalf("err = %v, want *VocabularyError", err)
			}
			if ve.Section != tc.section || ve.Field != tc.field || ve.Index != tc.index || !strings.Contains(ve.Msg, tc.inMsg) {
				t.Errorf("err = %+v (%v), want %s %d %s %q", *ve, err, tc.section, tc.index, tc.field, tc.inMsg)
			}
		})
	}
}
