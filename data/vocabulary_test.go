package data

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

func embeddedVocab(t testing.TB) *adequacy.Vocabulary {
	t.Helper()
	v, err := Vocabulary()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The embedded vocabulary covers the minimum set with its codes,
// every entry names its source, and the facts that matter hold.
func TestEmbeddedVocabulary(t *testing.T) {
	v := embeddedVocab(t)
	if v.Version != "2026.1" || v.Source == "" {
		t.Errorf("version %q source %q", v.Version, v.Source)
	}
	minimum := []struct {
		code         string
		disciplines  []adequacy.Discipline
		designations []string
	}{
		{"lymphedema", []adequacy.Discipline{adequacy.PT, adequacy.OT}, []string{"CLT"}},
		{"hand", []adequacy.Discipline{adequacy.PT, adequacy.OT}, []string{"CHT"}},
		{"pelvic-health", []adequacy.Discipline{adequacy.PT}, []string{"WCS"}},
		{"orthopedic", []adequacy.Discipline{adequacy.PT, adequacy.DC}, []string{"OCS", "DABCO"}},
		{"sports", []adequacy.Discipline{adequacy.PT, adequacy.DC}, []string{"SCS", "DACBSP", "CCSP"}},
		{"neurologic", []adequacy.Discipline{adequacy.PT, adequacy.DC}, []string{"NCS", "DACNB"}},
		{"pediatric", []adequacy.Discipline{adequacy.PT, adequacy.OT, adequacy.ST, adequacy.DC}, []string{"PCS", "BCP", "BCS-CL", "DICCP"}},
		{"geriatric", []adequacy.Discipline{adequacy.PT, adequacy.OT}, []string{"GCS", "BCG"}},
		{"cardiopulmonary", []adequacy.Discipline{adequacy.PT}, []string{"CCS"}},
		{"dysphagia", []adequacy.Discipline{adequacy.ST, adequacy.OT}, []string{"BCS-S", "SCFES"}},
		{"fluency", []adequacy.Discipline{adequacy.ST}, []string{"BCS-F"}},
		{"low-vision", []adequacy.Discipline{adequacy.OT}, []string{"SCLV"}},
		{"driving", []adequacy.Discipline{adequacy.OT}, []string{"SCDCM"}},
		{"vestibular", []adequacy.Discipline{adequacy.PT}, nil},
	}
	for _, m := range minimum {
		s, ok := v.Service(m.code)
		if !ok {
			t.Errorf("service %s missing", m.code)
			continue
		}
		if !sameSet(s.Disciplines, m.disciplines) || !slices.Equal(s.Designations, m.designations) {
			t.Errorf("service %s: disciplines %v designations %v, want %v %v", m.code, s.Disciplines, s.Designations, m.disciplines, m.designations)
		}
	}
	// Every designation STANDARDS 1b lists is known.
	for _, c := range strings.Fields("OCS SCS NCS PCS GCS WCS CCS ECS CLT CHT BCP BCG BCPR BCMH SCLV SCDCM SCEM SCFES BCS-S BCS-F BCS-CL DACBSP CCSP DACNB DACRB DABCO DICCP DACBR") {
		if _, ok := v.Designation(c); !ok {
			t.Errorf("designation %s missing", c)
		}
	}
	for _, d := range v.Designations() {
		if d.Source == "" || d.Body == "" || d.Name == "" {
			t.Errorf("designation %s lacks name, body or source", d.Code)
		}
	}
	for _, s := range v.Services() {
		if s.Source == "" || s.Name == "" {
			t.Errorf("service %s lacks name or source", s.Code)
		}
	}
	holds := func(code string, want ...adequacy.Discipline) {
		d, ok := v.Designation(code)
		if !ok || !sameSet(d.Disciplines, want) {
			t.Errorf("%s held by %v, want %v", code, d.Disciplines, want)
		}
	}
	holds("CHT", adequacy.PT, adequacy.OT)                   // HTCC certifies PTs and OTs
	holds("clt-lana", adequacy.PT, adequacy.OT, adequacy.DC) // LANA: several professions, DC among them
	holds("SCFES", adequacy.OT)                              // AOTA's feeding, eating and swallowing specialty
	holds("BRS-FD", adequacy.ST)                             // the fluency board's older name
}

func sameSet(a, b []adequacy.Discipline) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// A provider offers a service it declares or holds a qualifying
// designation for, and only in a discipline of the service.
func TestEmbeddedVocabularyOffers(t *testing.T) {
	v := embeddedVocab(t)
	svc := func(c string) *adequacy.Service { s, _ := v.Service(c); return s }
	tests := []struct {
		name         string
		d            adequacy.Discipline
		designations []string
		services     []string
		offers       []string
	}{
		{"CLT PT", adequacy.PT, []string{"CLT"}, nil, []string{"lymphedema"}},
		{"CLT DC holds it but the service is PT and OT", adequacy.DC, []string{"CLT"}, nil, nil},
		{"CHT OT", adequacy.OT, []string{"CHT"}, nil, []string{"hand"}},
		{"several designations", adequacy.PT, []string{"OCS", "SCS", "CLT"}, nil, []string{"lymphedema", "orthopedic", "sports"}},
		{"declared only", adequacy.PT, nil, []string{"vestibular"}, []string{"vestibular"}},
		{"declared outside the discipline", adequacy.ST, nil, []string{"vestibular"}, nil},
		{"SCFES is dysphagia for OT", adequacy.OT, []string{"SCFES"}, nil, []string{"dysphagia"}},
		{"BCS-CL pediatric ST", adequacy.ST, []string{"BCS-CL"}, nil, []string{"pediatric"}},
		{"DACBR qualifies for nothing", adequacy.DC, []string{"DACBR"}, nil, nil},
	}
	for _, tc := range tests {
		got := v.Offers(tc.d, tc.designations, tc.services)
		var want adequacy.ServiceSet
		for _, c := range tc.offers {
			want |= svc(c).Bit()
		}
		if got != want {
			t.Errorf("%s: offers %b, want %b", tc.name, got, want)
		}
	}
}

const extension = `version: acme-1
source: Acme Health credentialing manual 2026
designations:
  - code: CVRT
    aliases: [Vestibular Rehab Therapist]
    name: Certified Vestibular Rehabilitation Therapist
    body: Acme Health (internal credential)
    disciplines: [PT, OT]
    source: Acme credentialing manual 2026, section 4
services:
  - code: vestibular
    name: Vestibular rehabilitation
    disciplines: [PT, OT]
    designations: [CVRT]
    source: Acme credentialing manual 2026, section 4
  - code: aquatic
    name: Aquatic therapy
    disciplines: [PT]
    similar: [orthopedic]
    source: Acme credentialing manual 2026, section 5
`

func TestVocabularyExtend(t *testing.T) {
	base := embeddedVocab(t)
	v, err := ParseVocabulary("acme.yaml", []byte(extension))
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != "2026.1+acme-1" || !strings.Contains(v.Source, "Acme Health") {
		t.Errorf("version %q source %q", v.Version, v.Source)
	}
	if len(v.Services()) != len(base.Services())+1 || len(v.Designations()) != len(base.Designations())+1 {
		t.Errorf("%d services, %d designations", len(v.Services()), len(v.Designations()))
	}
	// vestibular is replaced in place: same position, so the same bit.
	old, _ := base.Service("vestibular")
	ves, _ := v.Service("vestibular")
	if ves.Bit() != old.Bit() || !slices.Equal(ves.Designations, []string{"CVRT"}) || ves.OfferedBy(adequacy.OT) != true {
		t.Errorf("vestibular = %+v", ves)
	}
	if got := v.Offers(adequacy.OT, []string{"cvrt"}, nil); got != ves.Bit() {
		t.Errorf("an OT holding CVRT offers %b", got)
	}
	aq, _ := v.Service("aquatic")
	orth, _ := v.Service("orthopedic")
	if v.SameOrSimilar(aq) != aq.Bit()|orth.Bit() {
		t.Errorf("aquatic same or similar = %b", v.SameOrSimilar(aq))
	}
	// The embedded vocabulary is untouched.
	if b, _ := base.Service("vestibular"); len(b.Designations) != 0 {
		t.Errorf("embedded vestibular changed: %+v", b)
	}
}

func TestVocabularyReplace(t *testing.T) {
	j := `{"version":"x-2","source":"a test","mode":"replace",
	"designations":[{"code":"ABC","name":"A B C","body":"Board","disciplines":["physical therapy"],"source":"s"}],
	"services":[{"code":"abc","name":"Abc","disciplines":["PT"],"designations":["abc"],"source":"s"}]}`
	v, err := ParseVocabulary("x.json", []byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != "x-2" || len(v.Services()) != 1 || len(v.Designations()) != 1 {
		t.Fatalf("version %q, %d services", v.Version, len(v.Services()))
	}
	if _, ok := v.Service("lymphedema"); ok {
		t.Error("replace kept an embedded service")
	}
}

// Every malformed file gets an error naming the line and the field path,
// and never a Go type.
func TestVocabularyErrors(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"empty", "", "services file bad.yaml: file is empty"},
		{"not yaml", "version: [", "services file bad.yaml: "},
		{"no version", strings.Replace(extension, "version: acme-1\n", "", 1), "version: is required"},
		{"no source", strings.Replace(extension, "source: Acme Health credentialing manual 2026\n", "", 1), "source: is required"},
		{"bad mode", "mode: merge\n" + extension, `line 1, mode: "merge" must be extend or replace`},
		{"unknown field", strings.Replace(extension, "    body: Acme", "    bodyy: x\n    body: Acme", 1), "line 7, designations.0.bodyy: unknown field bodyy"},
		{"wrong kind", strings.Replace(extension, "disciplines: [PT, OT]\n    source: Acme credentialing manual 2026, section 4\nservices", "disciplines: PT\n    source: Acme credentialing manual 2026, section 4\nservices", 1),
			`line 8, designations.0.disciplines: "PT" where a list is expected`},
		{"unknown discipline", strings.Replace(extension, "[PT, OT]", "[PT, XX]", 1), `line 8, designations.0.disciplines.1: "XX" must be DC, PT, OT or ST`},
		{"missing body", strings.Replace(extension, "    body: Acme Health (internal credential)\n", "", 1), "line 4, designations.0.body: is required"},
		{"bad code", strings.Replace(extension, "code: CVRT", "code: C;VRT", 1), `line 4, designations.0.code: "C;VRT" must be upper-case letters`},
		{"lower-case service code", strings.Replace(extension, "code: aquatic", "code: Aquatic", 1), `line 16, services.1.code: "Aquatic" must be lower-case`},
		{"unknown designation", strings.Replace(extension, "designations: [CVRT]", "designations: [CVRT, ZZZ]", 1), `line 14, services.0.designations.1: unknown designation "ZZZ"`},
		{"designation of another discipline", strings.Replace(extension, "designations: [CVRT]", "designations: [CVRT, BCS-S]", 1),
			"line 14, services.0.designations.1: designation BCS-S is held by no discipline of the service"},
		{"unknown similar", strings.Replace(extension, "similar: [orthopedic]", "similar: [nope]", 1), `line 19, services.1.similar.0: unknown service "nope"`},
		{"alias taken by the embedded vocabulary", strings.Replace(extension, "[Vestibular Rehab Therapist]", "[CLT-LANA]", 1),
			`line 5, designations.0.aliases.0: "CLT-LANA" is already designation CLT's code or alias`},
		{"duplicate alias", strings.Replace(extension, "    name: Aquatic therapy\n", "    aliases: [vestibular]\n    name: Aquatic therapy\n", 1),
			`services.1.aliases.0: "vestibular" is already service vestibular's code or alias`},
	}
	goType := regexp.MustCompile(`\b(string|float64|int|\[\]|map\[|data\.|raw[A-Z])`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseVocabulary("bad.yaml", []byte(tc.file))
			var fe *VocabularyFileError
			if !errors.As(err, &fe) || !errors.Is(err, adequacy.ErrInvalidVocabulary) {
				t.Fatalf("err = %v (%T), want *VocabularyFileError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %q", err, tc.want)
			}
			if m := goType.FindString(strings.TrimPrefix(err.Error(), "services file bad.yaml")); m != "" && tc.name != "not yaml" {
				t.Errorf("err names a Go type (%q): %v", m, err)
			}
		})
	}
}

// A file that changes an embedded entry so that another embedded entry
// breaks is refused, naming the embedded entry.
func TestVocabularyConflictWithEmbedded(t *testing.T) {
	f := `version: "1"
source: test
designations:
  - code: CLT
    name: Certified Lymphedema Therapist
    body: LANA
    disciplines: [ST]
    source: test
`
	_, err := ParseVocabulary("x.yaml", []byte(f))
	if err == nil || !strings.Contains(err.Error(), "conflicts with the embedded service") || !strings.Contains(err.Error(), "lymphedema") {
		t.Errorf("err = %v", err)
	}
}

func TestLoadVocabulary(t *testing.T) {
	v, err := LoadVocabulary("")
	if err != nil || v != embeddedVocab(t) {
		t.Fatalf("LoadVocabulary(\"\") = %v, %v", v, err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "acme.yaml")
	if err := os.WriteFile(p, []byte(extension), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err = LoadVocabulary(p); err != nil || v.Version != "2026.1+acme-1" {
		t.Fatalf("LoadVocabulary = %v, %v", v, err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxVocabularyFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadVocabulary(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
	if _, err := LoadVocabulary(filepath.Join(dir, "none.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}

func FuzzParseVocabulary(f *testing.F) {
	f.Add([]byte(extension))
	f.Add([]byte(`{"version":"1","source":"s","mode":"replace","designations":[],"services":[]}`))
	seed, _ := assets.ReadFile(embeddedVocabulary)
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseVocabulary("fuzz.yaml", b)
		if err != nil {
			var fe *VocabularyFileError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// A vocabulary that parsed resolves every reference it holds.
		for _, s := range v.Services() {
			if got, ok := v.Service(s.Code); !ok || got != s {
				t.Fatalf("service %q does not resolve to itself", s.Code)
			}
			for _, c := range s.Designations {
				d, ok := v.Designation(c)
				if !ok || !slices.ContainsFunc(d.Disciplines, s.OfferedBy) {
					t.Fatalf("service %s: designation %s unresolved or of no discipline of the service", s.Code, c)
				}
			}
			for _, c := range s.Similar {
				if _, ok := v.Service(c); !ok {
					t.Fatalf("service %s: similar %s unresolved", s.Code, c)
				}
			}
		}
	})
}

// docs/services.md lists every embedded designation and service.
func TestServicesDocComplete(t *testing.T) {
	doc, err := os.ReadFile("../docs/services.md")
	if err != nil {
		t.Fatal(err)
	}
	v := embeddedVocab(t)
	for _, d := range v.Designations() {
		if !strings.Contains(string(doc), "| `"+d.Code+"` |") {
			t.Errorf("docs/services.md lacks designation %s", d.Code)
		}
	}
	for _, s := range v.Services() {
		if !strings.Contains(string(doc), "| `"+s.Code+"` |") {
			t.Errorf("docs/services.md lacks service %s", s.Code)
		}
	}
}
