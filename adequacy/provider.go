package adequacy

import (
	"errors"
	"fmt"
	"time"

	"github.com/geoaccess/geoaccess/geo"
)

// Provider is one provider at one service location, as a roster lists it.
// An NPI may appear several times: one row per discipline and location.
type Provider struct {
	NPI        string
	Name       string
	Discipline Discipline
	Location   geo.Point
	Address    Address
	CountyFIPS string // where the service location is; resolved from the point when the roster omits it
	// Networks are the ids of the networks the provider participates in,
	// sorted and distinct; a plan counts a provider when it shares a
	// network with the plan.
	Networks []string
	// Designations are the professional specialty designations it holds
	// and Services the services it declares: canonical vocabulary codes,
	// sorted and distinct. It offers a service it declares or holds a
	// qualifying designation for (Vocabulary.Offers). Roster readers may
	// share these slices between providers: treat them as read-only.
	Designations []string
	Services     []string

	Participating        bool
	TelehealthOnly       bool // offers no in-person care; never counts toward time/distance
	AcceptingNewPatients bool
	Effective            Date // first day the provider counts; zero = always
	Termination          Date // first day the provider no longer counts; zero = never
}

// Address is a service location's postal address.
type Address struct {
	Line1, Line2, City, State, ZIP string
}

// Roster is a validated set of providers with the version that identifies
// it in every decision made from it. Its providers are either values
// (Providers) or held compactly (see roster.go): Len, Provider, All and
// Stats read both.
type Roster struct {
	Version  string    // e.g. "csv:1f2e3d4c5b6a" or "pg:42"
	Source   string    // where it came from (file name, database)
	LoadedAt time.Time // when it was read
	// Providers are the providers as values; nil in a compact roster.
	Providers []Provider
	table     *rosterTable // a compact roster's providers
}

// Date is a calendar date without a time zone, as rosters and as-of dates
// carry them. The zero Date means "not set".
type Date struct{ days int32 } // days since 0001-01-01, plus one; 0 = unset

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return dateFromYMD(y, m, d)
}

func dateFromYMD(y int, m time.Month, d int) Date {
	u := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date{int32((u.Unix()-epochUnix)/86400) + 1}
}

// epochUnix is 0001-01-01 in Unix seconds (time.Duration cannot span it).
var epochUnix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// ErrBadDate is wrapped by ParseDate.
var ErrBadDate = errors.New("date must be YYYY-MM-DD")

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	if d, ok := parseDateFast(s); ok {
		return d, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%w (got %q)", ErrBadDate, Excerpt(s))
	}
	return DateOf(t), nil
}

// parseDateFast parses a well-formed YYYY-MM-DD as time.Parse would,
// without its cost; ok is false for anything else (which time.Parse then
// judges).
func parseDateFast(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return Date{}, false
	}
	return Date{int32(daysFromCivil(y, m, d)-daysFromCivil(1, 1, 1)) + 1}, true
}

func daysIn(m time.Month, y int) int {
	if m == time.February {
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + int((m+m/8)&1)
}

// daysFromCivil is the proleptic Gregorian day number of y-m-d (days from
// 1970-01-01), by Howard Hinnant's algorithm.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.days == 0 }

// Time is midnight UTC of the date; the zero time for an unset date.
func (d Date) Time() time.Time {
	if d.days == 0 {
		return time.Time{}
	}
	return time.Unix(epochUnix+int64(d.days-1)*86400, 0).UTC()
}

// String is YYYY-MM-DD, or "" when unset.
func (d Date) String() string {
	if d.days == 0 {
		return ""
	}
	return d.Time().Format(time.DateOnly)
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.days < e.days }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// dayNumber is the date as an index tag value.
func (d Date) dayNumber() int32 { return d.days }

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date {
	if d.days == 0 {
		return d
	}
	return Date{d.days + int32(n)}
}

// Sub is the number of days from e to d: positive when d is later.
func (d Date) Sub(e Date) int { return int(d.days - e.days) }
