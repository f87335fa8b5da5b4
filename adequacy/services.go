package adequacy

import (
	"errors"
	"fmt"
	"regexp"
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
	Note        string       // facts that matter (who awards it, older names)
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
	Note    string
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
	// ErrInvalidVocabulary is wrapped by every *VocabularyError.
	ErrInvalidVocabulary = errors.New("invalid vocabulary")
)

// MaxDesignations is how many designations a vocabulary may define.
const MaxDesignations = 256

// VocabularyError is a problem with one entry of a vocabulary, with where
// it is, so a file reader can point at the line: Section is "designations"
// or "services" ("" for the vocabulary as a whole), Index the entry's
// 0-based position in the list given to NewVocabulary, and Field the
// entry's field with any list position ("aliases.2", "designations.0").
type VocabularyError struct {
	Section string
	Index   int
	Code    string // the entry's code, when it has one
	Field   string
	Msg     string
}

func (e *VocabularyError) Error() string {
	var b strings.Builder
	b.WriteString("vocabulary")
	if e.Section != "" {
		fmt.Fprintf(&b, ": %s %d", strings.TrimSuffix(e.Section, "s"), e.Index+1)
		if e.Code != "" {
			fmt.Fprintf(&b, " (%s)", e.Code)
		}
	}
	if e.Field != "" {
		b.WriteString(" ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

func (e *VocabularyError) Unwrap() error { return ErrInvalidVocabulary }

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

// Codes as users write them in rosters and requests: designation codes
// upper case ("BCS-S"), service codes lower case ("low-vision"), aliases
// either, with spaces, dots and slashes ("CLT-LANA", "Hand Therapy").
var (
	designationCode = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{0,23}$`)
	serviceCode     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	aliasCode       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ./-]{0,39}$`)
)

// NewVocabulary validates and indexes a vocabulary: codes and aliases are
// well formed and unique (designation codes upper case, service codes
// lower case, both matched in any case), every discipline is known, every
// reference (a service's designations and similar services) exists, a
// designation qualifies only for services of disciplines that can hold
// it, and there are at most MaxDesignations designations and MaxServices
// services. Errors are *VocabularyError. The slices given are copied, not
// kept.
func NewVocabulary(version, source string, ds []SpecialtyDesignation, ss []Service) (*Vocabulary, error) {
	v := &Vocabulary{Version: version, Source: source, desig: map[string]*SpecialtyDesignation{}, serv: map[string]*Service{}}
	if len(ds) > MaxDesignations {
		return nil, &VocabularyError{Msg: fmt.Sprintf("%d designations exceed the limit of %d", len(ds), MaxDesignations)}
	}
	if len(ss) > MaxServices {
		return nil, &VocabularyError{Msg: fmt.Sprintf("%d services exceed the limit of %d", len(ss), MaxServices)}
	}
	for i := range ds {
		d := ds[i]
		fail := func(field, format string, args ...any) error {
			return &VocabularyError{Section: "designations", Index: i, Code: ExcerptN(d.Code, 24), Field: field, Msg: fmt.Sprintf(format, args...)}
		}
		d.Code = strings.TrimSpace(d.Code)
		switch {
		case d.Code == "":
			return nil, fail("code", "is required")
		case !designationCode.MatchString(d.Code):
			return nil, fail("code", "%q must be upper-case letters, digits and hyphens (at most 24)", ExcerptN(d.Code, 24))
		}
		d.Aliases, d.Disciplines = slices.Clone(d.Aliases), slices.Clone(d.Disciplines)
		if err := checkDisciplines(d.Disciplines); err != nil {
			return nil, fail(err.field, "%s", err.msg)
		}
		for j, a := range d.Aliases {
			d.Aliases[j] = strings.TrimSpace(a)
			if !aliasCode.MatchString(d.Aliases[j]) {
				return nil, fail(fmt.Sprintf("aliases.%d", j), "%q must be letters, digits, spaces, '.', '/' or '-' (at most 40)", ExcerptN(a, 40))
			}
		}
		for j, k := range append([]string{d.Code}, d.Aliases...) {
			k = strings.ToUpper(k)
			if o, dup := v.desig[k]; dup {
				return nil, fail(aliasField("code", j), "%q is already designation %s's code or alias", k, o.Code)
			}
			v.desig[k] = &d
		}
		v.dOrder = append(v.dOrder, &d)
	}
	for i := range ss {
		s := ss[i]
		fail := func(field, format string, args ...any) error {
			return &VocabularyError{Section: "services", Index: i, Code: ExcerptN(s.Code, 32), Field: field, Msg: fmt.Sprintf(format, args...)}
		}
		s.Code = strings.TrimSpace(s.Code)
		switch {
		case s.Code == "":
			return nil, fail("code", "is required")
		case !serviceCode.MatchString(s.Code):
			return nil, fail("code", "%q must be lower-case letters, digits and hyphens (at most 32)", ExcerptN(s.Code, 32))
		}
		s.Aliases, s.Disciplines = slices.Clone(s.Aliases), slices.Clone(s.Disciplines)
		s.Designations, s.Similar = slices.Clone(s.Designations), slices.Clone(s.Similar)
		s.bit = uint8(i)
		if err := checkDisciplines(s.Disciplines); err != nil {
			return nil, fail(err.field, "%s", err.msg)
		}
		for j, a := range s.Aliases {
			s.Aliases[j] = strings.TrimSpace(a)
			if !aliasCode.MatchString(s.Aliases[j]) {
				return nil, fail(fmt.Sprintf("aliases.%d", j), "%q must be letters, digits, spaces, '.', '/' or '-' (at most 40)", ExcerptN(a, 40))
			}
		}
		for j, k := range append([]string{s.Code}, s.Aliases...) {
			k = serviceKey(k)
			if o, dup := v.serv[k]; dup {
				return nil, fail(aliasField("code", j), "%q is already service %s's code or alias", k, o.Code)
			}
			v.serv[k] = &s
		}
		v.sOrder = append(v.sOrder, &s)
	}
	for i, s := range v.sOrder {
		fail := func(field, format string, args ...any) error {
			return &VocabularyError{Section: "services", Index: i, Code: s.Code, Field: field, Msg: fmt.Sprintf(format, args...)}
		}
		for j, c := range s.Designations {
			d, ok := v.Designation(c)
			field := fmt.Sprintf("designations.%d", j)
			if !ok {
				return nil, fail(field, "%v %q", ErrUnknownDesignation, ExcerptN(c, 24))
			}
			if !slices.ContainsFunc(d.Disciplines, func(x Discipline) bool { return slices.Contains(s.Disciplines, x) }) {
				return nil, fail(field, "designation %s is held by no discipline of the service (%s holds it; the service is %s)",
					d.Code, disciplineList(d.Disciplines), disciplineList(s.Disciplines))
			}
			if slices.Contains(s.Designations[:j], d.Code) {
				return nil, fail(field, "designation %s is listed twice", d.Code)
			}
			s.Designations[j] = d.Code
		}
		for j, c := range s.Similar {
			o, ok := v.Service(c)
			field := fmt.Sprintf("similar.%d", j)
			if !ok {
				return nil, fail(field, "%v %q", ErrUnknownService, ExcerptN(c, 32))
			}
			if o == s {
				return nil, fail(field, "a service is not similar to itself")
			}
			s.Similar[j] = o.Code
		}
	}
	return v, nil
}

// aliasField names position j of code-then-aliases.
func aliasField(code string, j int) string {
	if j == 0 {
		return code
	}
	return fmt.Sprintf("aliases.%d", j-1)
}

type fieldErr struct{ field, msg string }

func checkDisciplines(ds []Discipline) *fieldErr {
	if len(ds) == 0 {
		return &fieldErr{"disciplines", "name at least one discipline (DC, PT, OT, ST)"}
	}
	for j, d := range ds {
		if !d.Valid() {
			return &fieldErr{fmt.Sprintf("disciplines.%d", j), "unknown discipline"}
		}
		if slices.Contains(ds[:j], d) {
			return &fieldErr{fmt.Sprintf("disciplines.%d", j), d.String() + " is listed twice"}
		}
	}
	return nil
}

func disciplineList(ds []Discipline) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return strings.Join(s, ", ")
}

// Holds reports whether a provider of discipline d can hold the
// designation.
func (d *SpecialtyDesignation) Holds(disc Discipline) bool {
	return slices.Contains(d.Disciplines, disc)
}

// OfferedBy reports whether providers of discipline d can offer the
// service.
func (s *Service) OfferedBy(d Discipline) bool { return slices.Contains(s.Disciplines, d) }

// Designation looks a designation up by code or alias, in any case.
func (v *Vocabulary) Designation(code string) (*SpecialtyDesignation, bool) {
	d, ok := v.desig[strings.ToUpper(strings.TrimSpace(code))]
	return d, ok
}

// Service looks a service up by code or alias, in any case, with spaces
// or underscores for hyphens ("Hand Therapy" = "hand-therapy").
func (v *Vocabulary) Service(code string) (*Service, bool) {
	s, ok := v.serv[serviceKey(code)]
	return s, ok
}

var serviceSpaces = strings.NewReplacer(" ", "-", "_", "-")

func serviceKey(code string) string {
	return serviceSpaces.Replace(strings.ToLower(strings.TrimSpace(code)))
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
