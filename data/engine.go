package data

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/geoaccess/geoaccess/adequacy"
)

// Setup names the files a decision engine is built from; empty fields take
// the embedded defaults.
type Setup struct {
	CountyTable  string   // HSD workbook (.xlsx) or resolved table; "" = embedded CY2026
	ProfileFiles []string // extra profiles (YAML or JSON)
	// ServicesFile extends or replaces the embedded services vocabulary
	// (docs/services.md); "" = the embedded one.
	ServicesFile string
	// PlansFile is a plan registry (docs/plans.md); "" = no plans.
	PlansFile string
	// SnapMiles places a point just off a generalised coastline in the
	// nearest county within this distance; 0 = DefaultSnapMiles.
	SnapMiles float64
}

// DefaultSnapMiles is how far off the 1:10m county polygons a point may be
// and still take the nearest county.
const DefaultSnapMiles = 1.0

// NewEngine builds a decision engine with no roster: the geography, the
// county table and the profiles.
func NewEngine(s Setup) (*adequacy.Engine, *CountyTable, error) {
	g, err := EmbeddedGeography()
	if err != nil {
		return nil, nil, err
	}
	var ct *CountyTable
	if s.CountyTable == "" {
		ct, err = EmbeddedCounties()
	} else {
		ct, err = LoadCounties(s.CountyTable)
	}
	if err != nil {
		return nil, nil, err
	}
	profiles, err := LoadProfiles(s.ProfileFiles...)
	if err != nil {
		return nil, nil, err
	}
	vocab, err := Vocabulary()
	if s.ServicesFile != "" {
		vocab, err = LoadVocabulary(s.ServicesFile)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := resolveServiceStandards(profiles, vocab); err != nil {
		return nil, nil, err
	}
	var plans *adequacy.Plans
	if s.PlansFile != "" {
		if plans, err = LoadPlans(s.PlansFile, profiles, ct.Counties); err != nil {
			return nil, nil, err
		}
	}
	snap := s.SnapMiles
	if snap == 0 {
		snap = DefaultSnapMiles
	}
	return &adequacy.Engine{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs, Profiles: profiles,
		DefaultProfile: DefaultProfile, SnapMiles: snap, Vocabulary: vocab, Plans: plans}, ct, nil
}

// resolveServiceStandards checks every profile's per-service standards
// against the vocabulary, keying them by canonical code (an alias in the
// profile file names the service it stands for).
func resolveServiceStandards(ps *adequacy.Profiles, v *adequacy.Vocabulary) error {
	for _, p := range ps.All() {
		if len(p.Services) == 0 {
			continue
		}
		out := make(map[string]*adequacy.DisciplineStandards, len(p.Services))
		for key, ss := range p.Services {
			svc, err := v.LookupService(key)
			if err != nil {
				return &ProfileError{Profile: p.Name + " " + p.Version, Path: "services." + key, Msg: err.Error()}
			}
			if _, dup := out[svc.Code]; dup {
				return &ProfileError{Profile: p.Name + " " + p.Version, Path: "services." + key, Msg: fmt.Sprintf("%s is given twice (by code and alias)", svc.Code)}
			}
			out[svc.Code] = ss
		}
		p.Services = out
	}
	return nil
}

// sampleRoster is the embedded sample roster (see data/README.md).
const sampleRoster = "assets/sample/roster.csv"

// SampleRoster reads the embedded sample roster: synthetic providers at
// real places in New York, Texas and Alaska.
func SampleRoster() (*adequacy.Roster, error) {
	b, err := assets.ReadFile(sampleRoster)
	if err != nil {
		return nil, err
	}
	g, err := EmbeddedGeography()
	if err != nil {
		return nil, err
	}
	r, _, err := ReadRoster(bytes.NewReader(b), RosterOptions{Source: "embedded sample roster", Version: "sample-2026.11", Counties: g.Counties})
	if err != nil {
		return nil, fmt.Errorf("embedded sample roster: %w", err)
	}
	return r, nil
}

// SampleMembers returns the embedded sample member file's contents.
func SampleMembers() ([]byte, error) { return assets.ReadFile("assets/sample/members.csv") }

// ReadRosterFile reads a roster CSV file to serve, placing providers in
// counties. A roster with no participating in-person provider fails with
// ErrEmptyRoster.
// Codes of the designations and services columns resolve in v (nil: the
// embedded vocabulary).
// The roster is compact (RosterOptions.Compact).
func ReadRosterFile(path string, maxBadRows int, v *adequacy.Vocabulary) (*adequacy.Roster, *RosterReport, error) {
	return readRosterFile(path, RosterOptions{MaxBadRows: maxBadRows, Vocabulary: v, Compact: true})
}

// ReadCandidatesFile reads a roster-shaped CSV of recruitment candidates
// (non-participating providers: RosterOptions.Candidates), placing them
// in counties. Bad rows are reported and skipped, however many.
func ReadCandidatesFile(path string, v *adequacy.Vocabulary) (*adequacy.Roster, *RosterReport, error) {
	return readRosterFile(path, RosterOptions{MaxBadRows: -1, AllowNoParticipating: true, Candidates: true, Vocabulary: v})
}

func readRosterFile(path string, opts RosterOptions) (*adequacy.Roster, *RosterReport, error) {
	g, err := EmbeddedGeography()
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read roster: %w", err)
	}
	defer f.Close()
	opts.Source, opts.Counties = filepath.Base(path), g.Counties
	return ReadRoster(f, opts)
}
