package adequacy

import (
	"errors"
	"strings"
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
	// does not exist (an unknown profile).
	NotFound bool
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

// Unwrap lets errors.Is match ErrInvalidRequest, and ErrUnknownProfile
// when that is the fault.
func (e *InvalidRequest) Unwrap() []error {
	if e.NotFound {
		return []error{ErrInvalidRequest, ErrUnknownProfile}
	}
	return []error{ErrInvalidRequest}
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
