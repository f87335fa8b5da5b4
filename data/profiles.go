package data

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/geoaccess/geoaccess/adequacy"
)

// DefaultProfile is the built-in profile decisions use unless told.
const DefaultProfile = "cms-ma"

// BuiltinProfiles parses the embedded profiles (assets/profiles/*.yaml).
func BuiltinProfiles() ([]*adequacy.Profile, error) {
	names, err := fs.Glob(assets, "assets/profiles/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*adequacy.Profile
	for _, n := range names {
		b, err := assets.ReadFile(n)
		if err != nil {
			return nil, err
		}
		p, err := ParseProfile(path.Base(n), b)
		if err != nil {
			return nil, fmt.Errorf("built-in %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// LoadProfiles returns the built-in profiles plus those in the given files
// (YAML or JSON). A file's profile is one version of its name: versions
// with different effective periods serve side by side (CY2026 and CY2027),
// each request taking the version in effect on its as-of date. A file
// version whose period overlaps a built-in version of the same name
// replaces that built-in version; two files may not define overlapping
// versions of one name. A county_table the file names (relative to the
// file) is read and used by that version alone.
func LoadProfiles(files ...string) (*adequacy.Profiles, error) {
	builtin, err := BuiltinProfiles()
	if err != nil {
		return nil, err
	}
	var fromFiles []*adequacy.Profile
	tables := map[string]*adequacy.Counties{}
	for _, f := range files {
		p, err := ReadProfileFile(f, tables)
		if err != nil {
			return nil, err
		}
		fromFiles = append(fromFiles, p)
	}
	all := fromFiles
	for _, b := range builtin {
		replaced := false
		for _, p := range fromFiles {
			if p.Name == b.Name && overlap(p.Effective, b.Effective) {
				replaced = true
			}
		}
		if !replaced {
			all = append(all, b)
		}
	}
	ps, err := adequacy.NewProfiles(all...)
	if err != nil {
		return nil, fmt.Errorf("load profiles: %w", err)
	}
	return ps, nil
}

// ReadProfileFile reads one profile file with its county table, if it
// names one; tables caches tables by path across files (nil: no cache).
func ReadProfileFile(file string, tables map[string]*adequacy.Counties) (*adequacy.Profile, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("load profile: %w", err)
	}
	p, table, err := parseProfile(file, b)
	if err != nil {
		return nil, err
	}
	if table == "" {
		return p, nil
	}
	if !filepath.IsAbs(table) {
		table = filepath.Join(filepath.Dir(file), table)
	}
	if c, ok := tables[table]; ok {
		p.Counties = c
		return p, nil
	}
	ct, err := LoadCounties(table)
	if err != nil {
		return nil, &ProfileError{Profile: file, Path: "county_table", Msg: err.Error()}
	}
	p.Counties = ct.Counties
	if tables != nil {
		tables[table] = ct.Counties
	}
	return p, nil
}

// overlap reports whether two date ranges share a day.
func overlap(a, b adequacy.DateRange) bool {
	return (a.To.IsZero() || !a.To.Before(b.From)) && (b.To.IsZero() || !b.To.Before(a.From))
}
