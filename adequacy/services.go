package adequacy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SpecialtyDesignation is a professional specialty designation a provider may
// hold: a board certification or credential recognising skills beyond
// core training (the policy's "professional specialty designations").
type SpecialtyDesignation struct {
	Code        string   // canonical, upper case: "CLT", "OCS"
	Aliases     []string // other spellings users put in rosters ("CLT-LANA")
	Name        string
	Body        string       // the credentialing body
	Disciplines []Discipline // who can hold it
	Source      string       // the public source the entry was verified against
}

// Service is a skilled service a member may need, which some providers of
// some disciplines offer ("lymphedema"). A provider offers it when it
// declares it or holds a qualifying designation. Named techniques are not
// services: technique preference is a reason to refuse a negotiation.
type Service struct {
	Code         string // canonical, lower case: "lymphedema"
	Aliases      []string
	Name         string
	Disciplines  []Discipline
	Designations []string // codes of the designations that qualify a provider
	// Similar lists services counted as "the same or similar service"
	// (policy 477): a provider offering one of them also answers for this
	// one.
	Similar []string
	Source  string
	bit     uint8 // position in a ServiceSet
}

// MaxServices is how many services a vocabulary may define: a provider's
// services are a 64-bit set in the index.
const MaxServices = 64

// ServiceSet is a set of services of one vocabulary, by Service bit.
type ServiceSet uint64

// Has reports whether s holds the service.
func (s ServiceSet) Has(sv *Service) bool { return s&(1<<sv.bit) != 0 }

// Bit is the service's set of one.
func (sv *Service) Bit() ServiceSet { return 1 << sv.bit }

// Errors of vocabulary lookups.
var (
	ErrUnknownService     = errors.New("unknown service")
	ErrUnknownDesignation = errors.New("unknown designation")
)

// Vocabulary is a versioned set of designations and services. Immutable
// once built.
type Vocabulary struct {
	Version string
	Source  string
	desig   map[string]*SpecialtyDesignation // by upper-case code and alias
	serv    map[string]*Service              // by lower-case code and alias
	dOrder  []*SpecialtyDesignation
	sOrder  []*Service
}

// NewVocabulary validates and indexes a vocabulary: codes and aliases are
// unique, every reference (a service's designations and similar services)
// exists, a designation qualifies only for services of disciplines that
// can hold it, and there are at most MaxServices services.
func NewVocabulary(version, source string, ds []SpecialtyDesignation, ss []Service) (*Vocabulary, error) {
	v := &Vocabulary{Version: version, Source: source, desig: map[string]*SpecialtyDesignation{}, serv: map[string]*Service{}}
	if len(ss) > MaxServices {
		return nil, fmt.Errorf("vocabulary: %d services exceed the limit of %d", len(ss), MaxServices)
	}
	for i := range ds {
		d := ds[i]
		if d.Code == "" {
			return nil, fmt.Errorf("vocabulary: designation %d has no code", i+1)
		}
		if len(d.Disciplines) == 0 {
			return nil, fmt.Errorf("vocabulary: designation %s names no discipline", d.Code)
		}
		d.Code = strings.ToUpper(d.Code)
		for _, k := range append([]string{d.Code}, d.Aliases...) {
			k = strings.ToUpper(strings.TrimSpace(k))
			if _, dup := v.desig[k]; dup {
				return nil, fmt.Errorf("vocabulary: designation code or alias %q is given twice", k)
			}
			v.desig[k] = &d
		}
		v.dOrder = append(v.dOrder, &d)
	}
	for i := range ss {
		s := ss[i]
		if s.Code == "" {
			return nil, fmt.Errorf("vocabulary: service %d has no code", i+1)
		}
		if len(s.Disciplines) == 0 {
			return nil, fmt.Errorf("vocabulary: service %s names no discipline", s.Code)
		}
		s.Code, s.bit = strings.ToLower(s.Code), uint8(i)
		for _, k := range append([]string{s.Code}, s.Aliases...) {
			k = strings.ToLower(strings.TrimSpace(k))
			if _, dup := v.serv[k]; dup {
				return nil, fmt.Errorf("vocabulary: service code or alias %q is given twice", k)
			}
			v.serv[k] = &s
		}
		v.sOrder = append(v.sOrder, &s)
	}
	for _, s := range v.sOrder {
		for j, c := range s.Designations {
			d, ok := v.Designation(c)
			if !ok {
				return nil, fmt.Errorf("vocabulary: service %s: %w %q", s.Code, ErrUnknownDesignation, c)
			}
			if !slices.ContainsFunc(d.Disciplines, func(x Discipline) bool { return slices.Contains(s.Disciplines, x) }) {
				return nil, fmt.Errorf("vocabulary: service %s: designation %s is held by no discipline of the service", s.Code, d.Code)
			}
			s.Designations[j] = d.Code
		}
		for j, c := range s.Similar {
			o, ok := v.Service(c)
			if !ok {
				return nil, fmt.Errorf("vocabulary: service %s similar: %w %q", s.Code, ErrUnknownService, c)
			}
			if o == s {
				return nil, fmt.Errorf("vocabulary: service %s lists itself as similar", s.Code)
			}
			s.Similar[j] = o.Code
		}
	}
	return v, nil
}

// Designation looks a designation up by code or alias, in any case.
func (v *Vocabulary) Designation(code string) (*SpecialtyDesignation, bool) {
	d, ok := v.desig[strings.ToUpper(strings.TrimSpace(code))]
	return d, ok
}

// Service looks a service up by code or alias, in any case.
func (v *Vocabulary) Service(code string) (*Service, bool) {
	s, ok := v.serv[strings.ToLower(strings.TrimSpace(code))]
	return s, ok
}

// LookupService is Service with an error naming the known codes.
func (v *Vocabulary) LookupService(code string) (*Service, error) {
	if s, ok := v.Service(code); ok {
		return s, nil
	}
	codes := make([]string, len(v.sOrder))
	for i, s := range v.sOrder {
		codes[i] = s.Code
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownService, ExcerptN(code, 64), strings.Join(codes, ", "))
}

// Designations lists the designations in vocabulary order.
func (v *Vocabulary) Designations() []*SpecialtyDesignation { return slices.Clone(v.dOrder) }

// Services lists the services in vocabulary order.
func (v *Vocabulary) Services() []*Service { return slices.Clone(v.sOrder) }

// Offers returns the services a provider of discipline d offers: those it
// declares and those a designation it holds qualifies it for, each only
// where d is one of the service's disciplines. Codes are canonical (the
// roster readers resolve aliases and report unknown codes).
func (v *Vocabulary) Offers(d Discipline, designations, services []string) ServiceSet {
	var set ServiceSet
	for _, c := range services {
		if s, ok := v.Service(c); ok && slices.Contains(s.Disciplines, d) {
			set |= s.Bit()
		}
	}
	if len(designations) == 0 {
		return set
	}
	for _, s := range v.sOrder {
		if set.Has(s) || !slices.Contains(s.Disciplines, d) {
			continue
		}
		for _, c := range designations {
			if dd, ok := v.Designation(c); ok && slices.Contains(s.Designations, dd.Code) && slices.Contains(dd.Disciplines, d) {
				set |= s.Bit()
				break
			}
		}
	}
	return set
}

// SameOrSimilar is the set of a service and those it lists as similar.
func (v *Vocabulary) SameOrSimilar(s *Service) ServiceSet {
	set := s.Bit()
	for _, c := range s.Similar {
		if o, ok := v.Service(c); ok {
			set |= o.Bit()
		}
	}
	return set
}
