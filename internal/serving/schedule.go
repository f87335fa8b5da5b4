package serving

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ClockTime is a wall-clock time of day, for the nightly reload.
type ClockTime struct {
	Hour, Minute int
}

// ErrClockTime is wrapped by ParseClockTime's errors.
var ErrClockTime = errors.New("want a time of day HH:MM, 00:00 to 23:59")

// ParseClockTime reads "HH:MM" (24-hour; "2:00" is accepted too).
func ParseClockTime(s string) (ClockTime, error) {
	hs, ms, ok := strings.Cut(strings.TrimSpace(s), ":")
	h, herr := strconv.Atoi(hs)
	m, merr := strconv.Atoi(ms)
	if !ok || herr != nil || merr != nil || len(ms) != 2 || h < 0 || h > 23 || m < 0 || m > 59 {
		return ClockTime{}, fmt.Errorf("%q: %w", s, ErrClockTime)
	}
	return ClockTime{h, m}, nil
}

func (c ClockTime) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// NextDaily is the first instant strictly after after at which the wall
// clock in loc reads at. Daylight-saving changes are handled the way an
// operator expects of a nightly job:
//
//   - a time that occurs twice (the hour repeated when clocks go back)
//     runs once, at its first occurrence;
//   - a time that does not occur (the hour skipped when clocks go
//     forward) runs at the first instant after the gap (02:30 on the
//     spring-forward night in America/Chicago runs at 03:00 CDT), so no
//     night is skipped.
//
// The interval between runs is therefore 23, 24 or 25 hours around a
// change, never 0 or 48.
func NextDaily(after time.Time, at ClockTime, loc *time.Location) time.Time {
	local := after.In(loc)
	y, m, d := local.Date()
	// Today's run may still be ahead; otherwise tomorrow's is. A third
	// day covers a run today that a gap pushed before after.
	for i := range 3 {
		t := wallInstant(y, m, d+i, at, loc)
		if t.After(after) {
			return t
		}
	}
	// Unreachable for real zones; a safe answer all the same.
	return after.Add(24 * time.Hour)
}

// wallInstant is the earliest instant at which loc's wall clock reads the
// given day and time; in a gap, the instant the gap ends.
func wallInstant(y int, mo time.Month, d int, at ClockTime, loc *time.Location) time.Time {
	naive := time.Date(y, mo, d, at.Hour, at.Minute, 0, 0, time.UTC)
	want := naive // normalised (d may be past the month's end)
	// The offsets in force around that day: a transition changes the
	// offset, so probing either side of the day finds both.
	var offsets []int
	for h := -48; h <= 48; h += 6 {
		_, off := naive.Add(time.Duration(h) * time.Hour).In(loc).Zone()
		if !slices.Contains(offsets, off) {
			offsets = append(offsets, off)
		}
	}
	var best time.Time
	maxOff := offsets[0]
	for _, off := range offsets {
		maxOff = max(maxOff, off)
		cand := naive.Add(-time.Duration(off) * time.Second)
		l := cand.In(loc)
		if l.Year() == want.Year() && l.YearDay() == want.YearDay() && l.Hour() == at.Hour && l.Minute() == at.Minute {
			if best.IsZero() || cand.Before(best) {
				best = cand
			}
		}
	}
	if !best.IsZero() {
		return best
	}
	// A gap: the wall time was skipped. Read with the offset after the
	// change (the larger one) it falls just before the change; the zone
	// in force then ends exactly when the gap does.
	_, end := naive.Add(-time.Duration(maxOff) * time.Second).In(loc).ZoneBounds()
	if end.IsZero() {
		return naive.Add(-time.Duration(maxOff) * time.Second)
	}
	return end
}
