package data

import (
	"fmt"
	"io/fs"
	"os"
	"path"
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
// (YAML or JSON). A file's profile replaces a built-in of the same name;
// two files may not define the same name.
func LoadProfiles(files ...string) (*adequacy.Profiles, error) {
	builtin, err := BuiltinProfiles()
	if err != nil {
		return nil, err
	}
	byName := map[string]*adequacy.Profile{}
	for _, p := range builtin {
		byName[p.Name] = p
	}
	fromFile := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("load profile: %w", err)
		}
		p, err := ParseProfile(f, b)
		if err != nil {
			return nil, err
		}
		if prev, dup := fromFile[p.Name]; dup {
			return nil, fmt.Errorf("load profile: %s and %s both define %q", prev, f, p.Name)
		}
		fromFile[p.Name] = f
		byName[p.Name] = p
	}
	all := make([]*adequacy.Profile, 0, len(byName))
	for _, p := range byName {
		all = append(all, p)
	}
	return adequacy.NewProfiles(all...)
}
