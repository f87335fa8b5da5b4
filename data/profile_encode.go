package data

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/geoaccess/geoaccess/adequacy"
)

// EncodeProfile writes a profile in the file format ParseProfile reads,
// every value explicit (no defaults section), so that parsing the result
// gives the same profile. countyTable, if not empty, becomes the file's
// county_table. header is written first as YAML comment lines.
func EncodeProfile(p *adequacy.Profile, countyTable string, header ...string) ([]byte, error) {
	raw := rawProfile{Name: p.Name, Title: p.Title, Version: p.Version, Source: p.Source, CountyTable: countyTable,
		Effective:       rawRange{From: p.Effective.From.String(), To: p.Effective.To.String()},
		CountyStandards: "base",
		Counting: rawCounting{InPersonOnly: ptr(p.Counting.InPersonOnly), AcceptingNewPatients: ptr(p.Counting.AcceptingNewPatients),
			EffectiveOnAsOf: ptr(p.Counting.EffectiveOnAsOf)},
		Disciplines: map[string]*rawDiscipline{},
	}
	if p.OfficialCountyStandards {
		raw.CountyStandards = "official"
	}
	switch tm := p.Time.(type) {
	case adequacy.CountyRatio:
		raw.TimeModel.Kind = "county_ratio"
	case adequacy.SpeedTable:
		raw.TimeModel = rawTimeModel{Kind: "speed_table", MinutesPerMile: byTypeMap(tm.MinutesPerMile)}
	default:
		return nil, fmt.Errorf("encode profile %s: time model %q has no file form", p.Name, p.Time.Name())
	}
	for _, d := range p.CoveredDisciplines() {
		raw.Disciplines[d.String()] = encodeStandards(p.Disciplines[d])
	}
	for code, ss := range p.Services {
		if raw.Services == nil {
			raw.Services = map[string]*rawDiscipline{}
		}
		raw.Services[code] = encodeStandards(ss)
	}
	for _, c := range p.Credits {
		rc := rawCredit{Name: c.Name, Points: c.Points, Basis: c.Basis, AppliesWhen: "requested"}
		if c.AppliesWhen == adequacy.CreditCertificateOfNeed {
			rc.AppliesWhen = "certificate_of_need"
		}
		for _, d := range c.Disciplines {
			rc.Disciplines = append(rc.Disciplines, d.String())
		}
		raw.Credits = append(raw.Credits, rc)
	}
	var b bytes.Buffer
	for _, h := range header {
		fmt.Fprintf(&b, "# %s\n", h)
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&raw); err != nil {
		return nil, fmt.Errorf("encode profile %s: %w", p.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode profile %s: %w", p.Name, err)
	}
	return b.Bytes(), nil
}

// encodeStandards writes one discipline's (or service's) standards.
func encodeStandards(ds *adequacy.DisciplineStandards) *rawDiscipline {
	rd := &rawDiscipline{Standards: map[string]*rawStandard{}}
	for _, t := range adequacy.CountyTypes {
		s := ds.ByType[t]
		rs := &rawStandard{ProvidersRequired: s.ProvidersRequired, ServedShare: ptr(s.ServedShare)}
		if s.MaxMiles > 0 {
			rs.MaxMiles = ptr(s.MaxMiles)
		}
		if s.MaxMinutes > 0 {
			rs.MaxMinutes = ptr(s.MaxMinutes)
		}
		rd.Standards[t.Key()] = rs
	}
	switch m := ds.MinimumCount; m.Rule {
	case adequacy.MinimumNone:
		rd.MinimumCount.Rule = "none"
	case adequacy.MinimumFixed:
		rd.MinimumCount = rawMinimum{Rule: "fixed", Count: ptr(m.Fixed)}
	case adequacy.MinimumPer1000:
		rd.MinimumCount = rawMinimum{Rule: "ratio_per_1000", Ratio: byTypeMap(m.Ratio)}
	}
	return rd
}

func ptr[T any](v T) *T { return &v }

func byTypeMap(v [adequacy.NumCountyTypes]float64) map[string]float64 {
	m := make(map[string]float64, len(v))
	for _, t := range adequacy.CountyTypes {
		m[t.Key()] = v[t]
	}
	return m
}
