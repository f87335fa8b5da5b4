package adequacy

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Sentinel errors callers branch on.
var (
	// ErrInvalidRequest is wrapped by *InvalidRequest: the caller's input
	// is wrong (gRPC InvalidArgument).
	ErrInvalidRequest = errors.New("invalid request")
	// ErrUnknownProfile: no profile by that name (gRPC NotFound).
	ErrUnknownProfile = errors.New("unknown profile")
	// ErrNoRoster: no roster is loaded yet (gRPC Unavailable).
	ErrNoRoster = errors.New("no roster is loaded")
	// ErrEmptyRoster: the roster has no participating provider who sees
	// members in person, so every member would be unserved and every
	// negotiation supported. Such a roster is never served; see
	// NetworkStats.Servable.
	ErrEmptyRoster = errors.New("roster has no participating providers")
)

// FieldViolation names one wrong field of a request and why.
type FieldViolation struct {
	Field  string // e.g. "location.latitude", "disciplines[1]"
	Reason string
}

// InvalidRequest lists every wrong field of a request.
type InvalidRequest struct {
	Violations []FieldViolation
	// NotFound marks a request whose only fault is naming something that
	// does not exist (an unknown profile or plan); Missing is which
	// (ErrUnknownProfile when nil).
	NotFound bool
	Missing  error
}

func (e *InvalidRequest) Error() string {
	var b strings.Builder
	b.WriteString("invalid request: ")
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Field)
		b.WriteString(": ")
		b.WriteString(v.Reason)
	}
	return b.String()
}

// Unwrap lets errors.Is match ErrInvalidRequest, and ErrUnknownProfile or
// ErrUnknownPlan when that is the fault.
func (e *InvalidRequest) Unwrap() []error {
	if e.NotFound {
		if e.Missing != nil {
			return []error{ErrInvalidRequest, e.Missing}
		}
		return []error{ErrInvalidRequest, ErrUnknownProfile}
	}
	return []error{ErrInvalidRequest}
}

func (e *InvalidRequest) notFound(which error) {
	e.NotFound, e.Missing = true, which
}

func (e *InvalidRequest) add(field, reason string) {
	e.Violations = append(e.Violations, FieldViolation{field, reason})
}

func (e *InvalidRequest) orNil() error {
	if e == nil || len(e.Violations) == 0 {
		return nil
	}
	return e
}

// MaxExcerpt is how many bytes of a caller's or a file's value an error
// message or a log line quotes: enough to recognise the value, never
// megabytes of it.
const MaxExcerpt = 60

// Excerpt is what an error message may quote of a value it did not make
// (a request field, a CSV cell, a header line): s itself when at most
// MaxExcerpt bytes, otherwise its first MaxExcerpt bytes, cut on a rune
// boundary, and "…". Every echo of outside text in geoaccess's errors
// and logs goes through it.
func Excerpt(s string) string { return ExcerptN(s, MaxExcerpt) }

// ExcerptN is Excerpt with room for n bytes, for a list of names (a
// header) where a little more helps.
func ExcerptN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
