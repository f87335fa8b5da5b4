package data

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

const minimalProfile = `name: test
version: "1"
source: test
effective: {from: 2026-01-01, to: 2026-12-31}
defaults:
  served_share: {large_metro: 0.9, metro: 0.9, micro: 0.85, rural: 0.85, ceac: 0.85}
disciplines:
  PT:
    standards:
      large_metro: {max_minutes: 20, max_miles: 10}
      metro: {max_minutes: 45, max_miles: 30}
      micro: {max_minutes: 80, max_miles: 60}
      rural: {max_minutes: 75, max_miles: 60}
      ceac: {max_minutes: 110, max_miles: 100}
    minimum_count: {rule: fixed, count: 1}
`

func TestParseMinimalProfile(t *testing.T) {
	p, err := ParseProfile("test.yaml", []byte(minimalProfile))
	if err != nil {
		t.Fatal(err)
	}
	s := p.Disciplines[adequacy.PT].ByType[adequacy.Rural]
	if s.MaxMinutes != 75 || s.MaxMiles != 60 || s.ProvidersRequired != 1 || s.ServedShare != 0.85 {
		t.Errorf("rural PT = %+v", s)
	}
	if !p.Counting.InPersonOnly || p.Counting.AcceptingNewPatients || !p.Counting.EffectiveOnAsOf {
		t.Errorf("counting defaults = %+v", p.Counting)
	}
	if _, ok := p.Time.(adequacy.CountyRatio); !ok {
		t.Errorf("default time model = %T", p.Time)
	}
	if p.Covers(adequacy.DC) || !p.Covers(adequacy.PT) {
		t.Errorf("covers DC=%v PT=%v", p.Covers(adequacy.DC), p.Covers(adequacy.PT))
	}
}

func TestProfileJSON(t *testing.T) {
	j := `{"name":"j","version":"1","source":"s","effective":{"from":"2026-01-01"},
	"defaults":{"served_share":{"large_metro":0.9,"metro":0.9,"micro":0.9,"rural":0.9,"ceac":0.9}},
	"disciplines":{"OT":{"standards":{"large_metro":{"max_miles":10,"max_minutes":20},"metro":{"max_miles":30,"max_minutes":45},
	"micro":{"max_miles":60,"max_minutes":80},"rural":{"max_miles":60,"max_minutes":75},"ceac":{"max_miles":100,"max_minutes":110}}}}}`
	p, err := ParseProfile("j.json", []byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if p.Disciplines[adequacy.OT].ByType[adequacy.Metro].MaxMiles != 30 {
		t.Errorf("metro OT = %+v", p.Disciplines[adequacy.OT].ByType[adequacy.Metro])
	}
}

// Every malformed profile gets an error naming the line and the field.
func TestProfileErrors(t *testing.T) {
	tests := []struct {
		name, edit, want string
	}{
		{"empty", "", "profile bad.yaml: file is empty"},
		{"not yaml", "name: [", "profile bad.yaml: "},
		{"unknown field", strings.Replace(minimalProfile, "source: test", "source: test\nsorce: typo", 1), "line 4, sorce: unknown field sorce"},
		{"key twice", strings.Replace(minimalProfile, "source: test", "source: test\nsource: again", 1), "line 4, source: source is given twice (first on line 3)"},
		{"not a mapping", "- a\n- b\n", "profile bad.yaml, line 1: a list where a mapping is expected"},
		{"missing name", strings.Replace(minimalProfile, "name: test\n", "", 1), "name: is required"},
		{"bad name", strings.Replace(minimalProfile, "name: test", "name: Test Profile", 1), `profile bad.yaml, line 1, name: "Test Profile" must be lower-case`},
		{"missing version", strings.Replace(minimalProfile, "version: \"1\"\n", "", 1), "version: is required"},
		{"bad date", strings.Replace(minimalProfile, "from: 2026-01-01", "from: 01/01/2026", 1), "line 4, effective.from: date must be YYYY-MM-DD"},
		{"reversed dates", strings.Replace(minimalProfile, "to: 2026-12-31", "to: 2025-12-31", 1), "effective.to: 2025-12-31 is before effective.from 2026-01-01"},
		{"unknown discipline", strings.Replace(minimalProfile, "  PT:", "  XX:", 1), `line 8, disciplines.XX: unknown discipline "XX"`},
		{"negative miles", strings.Replace(minimalProfile, "max_miles: 30}", "max_miles: -30}", 1), "line 11, disciplines.PT.standards.metro.max_miles: -30 must be a positive number of miles"},
		{"miles as text", strings.Replace(minimalProfile, "max_miles: 30}", "max_miles: thirty}", 1), `line 11, disciplines.PT.standards.metro.max_miles: "thirty" where a number is expected`},
		{"missing county type", strings.Replace(minimalProfile, "      ceac: {max_minutes: 110, max_miles: 100}\n", "", 1), "disciplines.PT.standards: needs a standard for ceac"},
		{"unknown county type", strings.Replace(minimalProfile, "ceac: {max_minutes", "frontier: {max_minutes", 1), `disciplines.PT.standards.frontier: unknown county type "frontier"`},
		{"no limits", strings.Replace(minimalProfile, "{max_minutes: 45, max_miles: 30}", "{providers_required: 1}", 1), "disciplines.PT.standards.metro: needs max_miles and/or max_minutes"},
		{"share as percent", strings.Replace(minimalProfile, "large_metro: 0.9,", "large_metro: 90,", 1), "defaults.served_share.large_metro: 90 must be a share between 0 and 1"},
		{"share missing type", strings.Replace(minimalProfile, ", ceac: 0.85}", "}", 1), "defaults.served_share: needs a value for ceac"},
		{"bad minimum rule", strings.Replace(minimalProfile, "rule: fixed", "rule: lots", 1), `minimum_count.rule: "lots" must be none, fixed or ratio_per_1000`},
		{"county_ratio without miles", strings.Replace(minimalProfile, "{max_minutes: 45, max_miles: 30}", "{max_minutes: 45}", 1), "time_model.kind: county_ratio estimates minutes per mile as max_minutes ÷ max_miles, but PT metro lacks one of them; use speed_table"},
		{"bad time model", minimalProfile + "time_model: {kind: teleport}\n", `time_model.kind: "teleport" must be county_ratio or speed_table`},
		{"speed table incomplete", minimalProfile + "time_model: {kind: speed_table, minutes_per_mile: {metro: 1.5}}\n", "time_model.minutes_per_mile: needs a value for large_metro"},
		{"too many required", strings.Replace(minimalProfile, "{max_minutes: 45, max_miles: 30}", "{max_minutes: 45, max_miles: 30, providers_required: 500}", 1), "providers_required: 500 must be between 1 and 100"},
		{"bad credit", minimalProfile + "credits: [{name: con, points: 150}]\n", "credits.0.points: 150 must be between 0 and 100"},
		{"list for a mapping", strings.Replace(minimalProfile, "minimum_count: {rule: fixed, count: 1}", "minimum_count: [fixed]", 1), "line 15, disciplines.PT.minimum_count: a list where a mapping is expected"},
		{"text for a count", strings.Replace(minimalProfile, "count: 1}", "count: one}", 1), `line 15, disciplines.PT.minimum_count.count: "one" where a whole number is expected`},
		{"text for a flag", minimalProfile + "counting: {in_person_only: maybe}\n", `counting.in_person_only: "maybe" where true or false is expected`},
		{"no disciplines", "name: x\nversion: \"1\"\nsource: s\neffective: {from: 2026-01-01}\n", "disciplines: at least one discipline is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseProfile("bad.yaml", []byte(tc.edit))
			if err == nil {
				t.Fatalf("accepted")
			}
			if !errors.Is(err, ErrInvalidProfile) {
				t.Errorf("error %v does not wrap ErrInvalidProfile", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}

// goWords are the decoder's Go type names and jargon, which a profile
// author should never see.
var goWords = regexp.MustCompile(`\b(float64|int|uint8|string|bool|map\[|\[\]|data\.raw|adequacy\.|unmarshal|!!)`)

// quoted matches the file's own values echoed in an error.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

func TestProfileErrorsNameNoGoTypes(t *testing.T) {
	for _, edit := range []string{
		strings.Replace(minimalProfile, "max_miles: 30}", "max_miles: [30]}", 1),
		strings.Replace(minimalProfile, "source: test", "source: {a: b}", 1),
		strings.Replace(minimalProfile, "defaults:", "defaults: 7\nx:", 1),
		minimalProfile + "credits: {name: x}\n",
		minimalProfile + "credits: [{name: con, points: lots}]\n",
	} {
		_, err := ParseProfile("bad.yaml", []byte(edit))
		if err == nil {
			t.Fatalf("accepted:\n%s", edit)
		}
		if goWords.MatchString(err.Error()) {
			t.Errorf("error %q names Go types", err)
		}
	}
}

func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(minimalProfile))
	f.Add([]byte("name: x\n"))
	f.Add([]byte("{}"))
	f.Add([]byte("disciplines: {PT: {standards: {metro: {max_miles: .nan}}}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProfile("fuzz", b)
		if err == nil && (p.Name == "" || len(p.Disciplines) == 0 || p.Time == nil) {
			t.Fatalf("accepted an incomplete profile: %+v", p)
		}
		if err != nil && !errors.Is(err, ErrInvalidProfile) {
			t.Fatalf("error %v does not wrap ErrInvalidProfile", err)
		}
		if err != nil && goWords.MatchString(quoted.ReplaceAllString(err.Error(), `""`)) {
			t.Fatalf("error %q names Go types", err)
		}
	})
}

// A profile's per-service standards: parsed with the defaults, checked,
// and written back.
func TestProfileServiceStandards(t *testing.T) {
	src := minimalProfile + `services:
  Lymphedema:
    providers_required: 2
    standards:
      large_metro: {max_minutes: 30, max_miles: 15}
      metro: {max_minutes: 60, max_miles: 40}
      micro: {max_minutes: 90, max_miles: 70}
      rural: {max_minutes: 90, max_miles: 75}
      ceac: {max_minutes: 130, max_miles: 120}
    minimum_count: {rule: fixed, count: 1}
`
	p, err := ParseProfile("svc.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := p.Services["lymphedema"]
	if s == nil || s.ByType[adequacy.Metro].MaxMiles != 40 || s.ByType[adequacy.Metro].ProvidersRequired != 2 || s.ByType[adequacy.Rural].ServedShare != 0.85 {
		t.Fatalf("services = %+v", p.Services)
	}
	b, err := EncodeProfile(p, "")
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseProfile("again.yaml", b)
	if err != nil || q.Services["lymphedema"].ByType[adequacy.CEAC] != s.ByType[adequacy.CEAC] {
		t.Errorf("round trip: %v %+v", err, q)
	}
	for _, tc := range []struct{ edit, want string }{
		{strings.Replace(src, "  Lymphedema:", "  Lymph Therapy!:", 1), `services.Lymph Therapy!: "Lymph Therapy!" is not a service code`},
		{strings.Replace(src, "metro: {max_minutes: 60, max_miles: 40}", "metro: {max_minutes: 60, max_miles: -4}", 1), "services.Lymphedema.standards.metro.max_miles: -4 must be a positive number of miles"},
	} {
		if _, err := ParseProfile("bad.yaml", []byte(tc.edit)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}
