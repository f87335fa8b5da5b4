package geo

import (
	"errors"
	"fmt"
)

// ZIP is a ZIP code's representative point. ZIP codes are delivery routes,
// not areas: the point is the Census ZCTA internal point, so a member
// located only by ZIP is located approximately.
type ZIP struct {
	Code       string
	Point      Point
	State      string // USPS code, "" when unknown
	CountyFIPS string // "" when unknown
}

// ZIPs maps five-digit ZIP codes to their points. Immutable once built.
type ZIPs struct {
	byCode map[string]ZIP
}

// ErrUnknownZIP is returned for a well-formed ZIP code the table lacks.
var ErrUnknownZIP = errors.New("unknown ZIP code")

// ErrMalformedZIP is returned for anything but five digits (ZIP+4 is
// accepted and truncated), without the value.
var ErrMalformedZIP = errors.New("a ZIP code is 5 digits")

// NewZIPs validates and indexes ZIP points.
func NewZIPs(zs []ZIP) (*ZIPs, error) {
	t := &ZIPs{byCode: make(map[string]ZIP, len(zs))}
	for i, z := range zs {
		if _, err := NormalizeZIP(z.Code); err != nil {
			return nil, fmt.Errorf("zip table: row %d: %w", i+1, err)
		}
		if err := z.Point.Validate(); err != nil {
			return nil, fmt.Errorf("zip table: %s: %w", z.Code, err)
		}
		t.byCode[z.Code] = z
	}
	return t, nil
}

// NormalizeZIP returns the five-digit ZIP of "12345" or "12345-6789".
func NormalizeZIP(s string) (string, error) {
	if len(s) == 10 && s[5] == '-' && digits(s[6:]) {
		s = s[:5]
	}
	if len(s) != 5 || !digits(s) {
		// The value is not echoed: it is the caller's, of any length, and
		// the caller knows where it came from.
		return "", ErrMalformedZIP
	}
	return s, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Lookup returns the ZIP's point.
func (t *ZIPs) Lookup(code string) (ZIP, error) {
	c, err := NormalizeZIP(code)
	if err != nil {
		return ZIP{}, err
	}
	z, ok := t.byCode[c]
	if !ok {
		return ZIP{}, fmt.Errorf("%w %s", ErrUnknownZIP, c)
	}
	return z, nil
}

// Len is the number of ZIP codes.
func (t *ZIPs) Len() int { return len(t.byCode) }

// All returns every ZIP, in no particular order.
func (t *ZIPs) All() []ZIP {
	out := make([]ZIP, 0, len(t.byCode))
	for _, z := range t.byCode {
		out = append(out, z)
	}
	return out
}
