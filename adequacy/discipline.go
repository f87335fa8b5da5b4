package adequacy

import (
	"errors"
	"fmt"
	"strings"
)

// Discipline is a provider discipline the negotiation policy covers.
type Discipline uint8

// The disciplines, in the order reports list them.
const (
	DC Discipline = iota // chiropractor, CMS specialty 010
	PT                   // physical therapy, CMS specialty 049
	OT                   // occupational therapy, CMS specialty 050
	ST                   // speech therapy, CMS specialty 051
	numDisciplines

	// AnyDiscipline marks a service decided across its disciplines.
	AnyDiscipline = numDisciplines
)

// Disciplines lists every discipline in report order.
var Disciplines = []Discipline{DC, PT, OT, ST}

// ErrUnknownDiscipline is wrapped by ParseDiscipline.
var ErrUnknownDiscipline = errors.New("unknown discipline")

var disciplineInfo = [numDisciplines]struct {
	code, name, cms string
}{
	DC: {"DC", "Chiropractor", "010"},
	PT: {"PT", "Physical Therapy", "049"},
	OT: {"OT", "Occupational Therapy", "050"},
	ST: {"ST", "Speech Therapy", "051"},
}

// upperNames are the disciplines' names in upper case.
var upperNames = func() (out [numDisciplines]string) {
	for d := range out {
		out[d] = strings.ToUpper(disciplineInfo[d].name)
	}
	return out
}()

// String is the short code: DC, PT, OT or ST.
func (d Discipline) String() string {
	if d < numDisciplines {
		return disciplineInfo[d].code
	}
	if d == AnyDiscipline {
		return "any"
	}
	return fmt.Sprintf("Discipline(%d)", uint8(d))
}

// Name is the discipline's long name as CMS writes it.
func (d Discipline) Name() string {
	if d < numDisciplines {
		return disciplineInfo[d].name
	}
	return d.String()
}

// CMSSpecialty is the CMS HSD specialty code (010, 049, 050, 051).
func (d Discipline) CMSSpecialty() string {
	if d < numDisciplines {
		return disciplineInfo[d].cms
	}
	return ""
}

// Valid reports whether d is one of the four disciplines.
func (d Discipline) Valid() bool { return d < numDisciplines }

// ParseDiscipline accepts the short code (DC, PT, OT, ST), the long name,
// the CMS specialty code, or a "DISCIPLINE_" prefixed code, in any case.
func ParseDiscipline(s string) (Discipline, error) {
	switch s { // the usual spelling, without allocating
	case "DC":
		return DC, nil
	case "PT":
		return PT, nil
	case "OT":
		return OT, nil
	case "ST":
		return ST, nil
	}
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimPrefix(t, "DISCIPLINE_")
	for d := range numDisciplines {
		in := disciplineInfo[d]
		if t == in.code || t == upperNames[d] || t == in.cms {
			return d, nil
		}
	}
	switch t {
	case "CHIROPRACTIC", "CHIRO":
		return DC, nil
	case "PHYSICAL THERAPIST":
		return PT, nil
	case "OCCUPATIONAL THERAPIST":
		return OT, nil
	case "SPEECH THERAPIST", "SPEECH-LANGUAGE PATHOLOGY", "SLP":
		return ST, nil
	}
	return 0, fmt.Errorf("%w %q (want DC, PT, OT or ST)", ErrUnknownDiscipline, Excerpt(s))
}

// MarshalText implements encoding.TextMarshaler.
func (d Discipline) MarshalText() ([]byte, error) {
	if d == AnyDiscipline {
		return []byte("any"), nil
	}
	if !d.Valid() {
		return nil, fmt.Errorf("%w %d", ErrUnknownDiscipline, uint8(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Discipline) UnmarshalText(b []byte) error {
	v, err := ParseDiscipline(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
