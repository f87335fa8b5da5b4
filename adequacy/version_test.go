package adequacy_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

// TestVersionErrors: a classified error matches its code's sentinel and
// no other, keeps its own message, classifies itself through wrapping,
// and is final; errors of other kinds are not.
func TestVersionErrors(t *testing.T) {
	sentinels := map[adequacy.VersionCode]error{
		adequacy.VersionBad:         adequacy.ErrBadVersion,
		adequacy.VersionUnknown:     adequacy.ErrUnknownVersion,
		adequacy.VersionNotServable: adequacy.ErrVersionNotServable,
		adequacy.VersionNoneCurrent: adequacy.ErrNoCurrentVersion,
		adequacy.VersionInvalidRows: adequacy.ErrInvalidRoster,
	}
	retired := adequacy.NewVersionError(adequacy.VersionNotServable, errors.New("roster version is retired"))
	tests := []struct {
		name  string
		err   error
		code  adequacy.VersionCode
		text  string
		final bool
	}{
		{"a sentinel", adequacy.ErrUnknownVersion, adequacy.VersionUnknown, "no such roster version", true},
		{"a wrapped sentinel", fmt.Errorf("roster version 7: %w: 7", adequacy.ErrUnknownVersion), adequacy.VersionUnknown,
			"roster version 7: no such roster version: 7", true},
		{"with its own detail", adequacy.NewVersionError(adequacy.VersionBad, errors.New(`roster version "x": want an id`)),
			adequacy.VersionBad, `roster version "x": want an id`, true},
		{"a classified sentinel of a store, wrapped", fmt.Errorf("read: %w (version 3)", retired), adequacy.VersionNotServable,
			"read: roster version is retired (version 3)", true},
		{"invalid rows around a cause", adequacy.NewVersionError(adequacy.VersionInvalidRows, fmt.Errorf("roster v1: %w", adequacy.ErrUnknownDiscipline)),
			adequacy.VersionInvalidRows, "roster v1: unknown discipline", true},
		{"the shrink guard", fmt.Errorf("x: %w", &adequacy.ShrinkError{MaxShrink: 0.2}), 0, "", true},
		{"a database down", errors.New("connection refused"), 0, "connection refused", false},
		{"a timeout", fmt.Errorf("read: %w", context.DeadlineExceeded), 0, "read: context deadline exceeded", false},
		{"nil", nil, 0, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := adequacy.VersionCodeOf(tc.err); got != tc.code {
				t.Errorf("code %v, want %v", got, tc.code)
			}
			if got := adequacy.VersionFinal(tc.err); got != tc.final {
				t.Errorf("final %v, want %v", got, tc.final)
			}
			if tc.text != "" && tc.err.Error() != tc.text {
				t.Errorf("message %q, want %q", tc.err.Error(), tc.text)
			}
			for code, s := range sentinels {
				if got := errors.Is(tc.err, s); got != (code == tc.code) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
		})
	}
	// A store's own classified sentinels stay apart from each other.
	notPublished := adequacy.NewVersionError(adequacy.VersionNotServable, errors.New("roster version is not published"))
	if errors.Is(fmt.Errorf("%w", retired), notPublished) || !errors.Is(fmt.Errorf("%w", retired), retired) {
		t.Error("two sentinels of one code match each other")
	}
	for code, s := range sentinels {
		if s.Error() != code.String() || s.Error() == "" {
			t.Errorf("%d: sentinel %q, code %q", code, s, code)
		}
	}
}

// TestShrinkLimit: the zero limit is the default; an explicit 0 allows
// no fall; NoShrinkLimit any.
func TestShrinkLimit(t *testing.T) {
	var old, cut adequacy.NetworkStats
	old.Participating = [4]int{100, 100, 100, 100}
	cut.Participating = [4]int{100, 79, 100, 100} // 21% fewer PT
	tests := []struct {
		name  string
		limit adequacy.ShrinkLimit
		frac  float64
		text  string
		fail  [2]bool // refuses: 21% cut, 1% cut
	}{
		{"zero value: the default", adequacy.ShrinkLimit{}, adequacy.DefaultMaxShrink, "20%", [2]bool{true, false}},
		{"explicit 0: no fall", adequacy.MaxShrink(0), 0, "0%", [2]bool{true, true}},
		{"explicit 35%", adequacy.MaxShrink(0.35), 0.35, "35%", [2]bool{false, false}},
		{"no limit", adequacy.NoShrinkLimit, 1, "no limit", [2]bool{false, false}},
	}
	small := old
	small.Participating[1] = 99
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.limit.Fraction() != tc.frac || tc.limit.String() != tc.text || tc.limit.Off() != (tc.frac >= 1) {
				t.Errorf("fraction %v, %q, off %v", tc.limit.Fraction(), tc.limit, tc.limit.Off())
			}
			for i, s := range []adequacy.NetworkStats{cut, small} {
				err := tc.limit.Check(old, s)
				if (err != nil) != tc.fail[i] || err != nil && !errors.Is(err, adequacy.ErrShrink) {
					t.Errorf("cut %d: %v", i, err)
				}
			}
		})
	}
}
