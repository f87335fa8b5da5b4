package adequacy

import (
	"errors"
	"fmt"
)

// VersionCode classifies an error about a roster (or plans) version in a
// version store (PostgreSQL in data/pg): what a store answers when a
// version cannot be named, found, served or indexed. Stores return *VersionError
// values; servers map codes to responses and never retry a version that
// one of them refused (VersionFinal).
type VersionCode uint8

// Version codes. The zero code is not used.
const (
	_ VersionCode = iota
	// VersionBad: the string is not a version ("42", "pg:42").
	VersionBad
	// VersionUnknown: no version has that id.
	VersionUnknown
	// VersionNotServable: the version exists but is loading, failed or
	// retired, or has no participating in-person provider (ErrEmptyRoster).
	VersionNotServable
	// VersionNoneCurrent: the store has no current version: nothing is
	// published yet.
	VersionNoneCurrent
	// VersionInvalidRows: the version's rows cannot be indexed (a location
	// out of range, an unknown discipline, a bad NPI): it was stored
	// without the loader's validation.
	VersionInvalidRows
)

var versionCodeText = [...]string{
	VersionBad:         "not a roster version",
	VersionUnknown:     "no such roster version",
	VersionNotServable: "roster version cannot be served",
	VersionNoneCurrent: "no roster version is published",
	VersionInvalidRows: "roster has invalid rows",
}

func (c VersionCode) String() string {
	if int(c) < len(versionCodeText) && versionCodeText[c] != "" {
		return versionCodeText[c]
	}
	return fmt.Sprintf("roster version error %d", uint8(c))
}

// VersionError is an error about a roster version, classified by Code. Its
// message is Err's, or the code's when Err is nil. errors.Is(err, s)
// holds for the sentinel s of err's code (ErrUnknownVersion, …), and for
// the very value err wraps.
type VersionError struct {
	Code VersionCode
	Err  error // the detail; nil for the sentinels
}

func (e *VersionError) Error() string {
	if e.Err == nil {
		return e.Code.String()
	}
	return e.Err.Error()
}

func (e *VersionError) Unwrap() error { return e.Err }

// Is matches the sentinel of e's code: a *VersionError without detail.
func (e *VersionError) Is(target error) bool {
	t, ok := target.(*VersionError)
	return ok && t.Err == nil && t.Code == e.Code
}

// The sentinels, one per code: errors.Is(err, ErrUnknownVersion) holds
// for every error of code VersionUnknown.
var (
	ErrBadVersion         error = &VersionError{Code: VersionBad}
	ErrUnknownVersion     error = &VersionError{Code: VersionUnknown}
	ErrVersionNotServable error = &VersionError{Code: VersionNotServable}
	ErrNoCurrentVersion   error = &VersionError{Code: VersionNoneCurrent}
	ErrInvalidRoster      error = &VersionError{Code: VersionInvalidRows}
)

// NewVersionError classifies err, whose message it keeps, with code.
func NewVersionError(code VersionCode, err error) error {
	return &VersionError{Code: code, Err: err}
}

// VersionCodeOf is the code of the first *VersionError in err's chain,
// or 0 when there is none.
func VersionCodeOf(err error) VersionCode {
	if ve, ok := errors.AsType[*VersionError](err); ok {
		return ve.Code
	}
	return 0
}

// VersionFinal reports whether err refuses a roster version for good: a
// *VersionError of any code, or the shrink guard's *ShrinkError
// (ErrShrink). Reading the same version again cannot help; only another
// version (or, past the shrink guard, force) can. Other errors — a
// database unreachable, a timeout — may pass on a retry.
//
// A roster with no participating in-person provider (ErrEmptyRoster) is
// refused for good too, however a store reports it.
func VersionFinal(err error) bool {
	return VersionCodeOf(err) != 0 || errors.Is(err, ErrShrink) || errors.Is(err, ErrEmptyRoster)
}
