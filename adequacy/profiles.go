package adequacy

import (
	"fmt"
	"sort"
	"strings"
)

// Profiles is a set of standards profiles by name. Immutable once built.
type Profiles struct {
	byName map[string]*Profile
	names  []string
}

// NewProfiles indexes profiles; names must be unique.
func NewProfiles(ps ...*Profile) (*Profiles, error) {
	r := &Profiles{byName: map[string]*Profile{}}
	for _, p := range ps {
		if _, dup := r.byName[p.Name]; dup {
			return nil, fmt.Errorf("profiles: %q is defined twice", Excerpt(p.Name))
		}
		r.byName[p.Name] = p
		r.names = append(r.names, p.Name)
	}
	sort.Strings(r.names)
	return r, nil
}

// Get returns the profile with that name, or an error wrapping
// ErrUnknownProfile that lists the known names.
func (r *Profiles) Get(name string) (*Profile, error) {
	if p, ok := r.byName[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownProfile, Excerpt(name), strings.Join(r.names, ", "))
}

// All returns the profiles in name order.
func (r *Profiles) All() []*Profile {
	out := make([]*Profile, len(r.names))
	for i, n := range r.names {
		out[i] = r.byName[n]
	}
	return out
}
