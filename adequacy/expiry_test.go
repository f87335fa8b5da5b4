package adequacy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

// version copies the built-in cms-ma with another version and period.
func version(t testing.TB, eng *adequacy.Engine, v, from, to string) *adequacy.Profile {
	t.Helper()
	base, err := eng.Profiles.Get("cms-ma")
	if err != nil {
		t.Fatal(err)
	}
	p := *base
	p.Version = v
	p.Effective = adequacy.DateRange{From: mustDate(from)}
	if to != "" {
		p.Effective.To = mustDate(to)
	}
	return &p
}

func TestProfileVersionsValidation(t *testing.T) {
	eng := engine(t, nil)
	tests := []struct {
		name string
		ps   []*adequacy.Profile
		want string
	}{
		{"side by side", []*adequacy.Profile{version(t, eng, "2027.1", "2027-01-01", "2027-12-31"), version(t, eng, "2026.1", "2026-01-01", "2026-12-31")}, ""},
		{"with a gap", []*adequacy.Profile{version(t, eng, "2026.1", "2026-01-01", "2026-12-31"), version(t, eng, "2028.1", "2028-01-01", "")}, ""},
		{"same version twice", []*adequacy.Profile{version(t, eng, "2026.1", "2026-01-01", "2026-12-31"), version(t, eng, "2026.1", "2027-01-01", "2027-12-31")}, "cms-ma version 2026.1 is defined twice"},
		{"overlap", []*adequacy.Profile{version(t, eng, "2026.1", "2026-01-01", "2026-12-31"), version(t, eng, "2027.1", "2026-12-31", "2027-12-31")}, "overlap"},
		{"open end then another", []*adequacy.Profile{version(t, eng, "2026.1", "2026-01-01", ""), version(t, eng, "2027.1", "2027-01-01", "")}, "overlap"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adequacy.NewProfiles(tc.ps...)
			if tc.want == "" && err != nil {
				t.Fatal(err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestChooseProfileVersion(t *testing.T) {
	eng := engine(t, nil)
	v26 := version(t, eng, "2026.1", "2026-01-01", "2026-12-31")
	v27 := version(t, eng, "2027.1", "2027-01-01", "2027-12-31")
	v29 := version(t, eng, "2029.1", "2029-01-01", "2029-12-31")
	ps, err := adequacy.NewProfiles(v26, v27, v29)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		asOf    string
		today   bool
		policy  adequacy.ExpiryPolicy
		want    *adequacy.Profile
		expired bool
		err     error
	}{
		{"first day of 2026", "2026-01-01", false, adequacy.FailExpired, v26, false, nil},
		{"last day of 2026", "2026-12-31", true, adequacy.FailExpired, v26, false, nil},
		{"first day of 2027", "2027-01-01", true, adequacy.FailExpired, v27, false, nil},
		{"gap year, today, carried", "2028-03-01", true, adequacy.CarryForward, v27, true, nil},
		{"gap year, today, fail", "2028-03-01", true, adequacy.FailExpired, nil, false, adequacy.ErrProfileNotInEffect},
		{"gap year, named date", "2028-03-01", false, adequacy.CarryForward, nil, false, adequacy.ErrProfileNotInEffect},
		{"after every version, today", "2030-01-02", true, adequacy.CarryForward, v29, true, nil},
		{"before every version", "2025-12-31", true, adequacy.CarryForward, nil, false, adequacy.ErrProfileNotInEffect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := ps.Choose("cms-ma", mustDate(tc.asOf), tc.today, tc.policy)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ch.Profile != tc.want || ch.Expired != tc.expired {
				t.Errorf("chose %s expired=%v, want %s expired=%v", ch.Version, ch.Expired, tc.want.Version, tc.expired)
			}
		})
	}
	if _, err := ps.Choose("nope", mustDate("2026-06-01"), true, adequacy.CarryForward); !errors.Is(err, adequacy.ErrUnknownProfile) {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestProfileStanding(t *testing.T) {
	eng := engine(t, nil)
	v26 := version(t, eng, "2026.1", "2026-01-01", "2026-12-31")
	v27 := version(t, eng, "2027.1", "2027-01-01", "2027-12-31")
	one, _ := adequacy.NewProfiles(v26)
	two, _ := adequacy.NewProfiles(v26, v27)
	tests := []struct {
		name     string
		ps       *adequacy.Profiles
		day      string
		inUse    *adequacy.Profile
		expired  bool
		daysLeft int
	}{
		{"45 days before the end", one, "2026-11-17", v26, false, 45},
		{"46 days before", one, "2026-11-16", v26, false, 46},
		{"last day", one, "2026-12-31", v26, false, 1},
		{"the day after", one, "2027-01-01", v26, true, 0},
		{"two days after", one, "2027-01-02", v26, true, -1},
		{"next year loaded", two, "2026-11-30", v26, false, 397},
		{"in the next year", two, "2027-01-02", v27, false, 364},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			day := mustDate(tc.day)
			st, err := tc.ps.StandingOn("cms-ma", day)
			if err != nil {
				t.Fatal(err)
			}
			if st.InUse != tc.inUse || st.Expired != tc.expired || st.DaysLeft(day) != tc.daysLeft {
				t.Errorf("standing = %s expired=%v days left %d, want %s %v %d", st.InUse.Version, st.Expired, st.DaysLeft(day), tc.inUse.Version, tc.expired, tc.daysLeft)
			}
		})
	}
}

// A request for today past the profile's end is carried forward and
// flagged under the default policy, refused under "fail", and an explicit
// date outside every version is always refused. The carried decision is
// the decision of the last day, flagged.
func TestDecideExpiredProfile(t *testing.T) {
	eng := engine(t, nil)
	req := func(day string, today bool) adequacy.Request {
		return adequacy.Request{Member: adequacy.Member{Point: pt(40.75, -73.99)}, Disciplines: []adequacy.Discipline{adequacy.PT, adequacy.DC},
			AsOf: mustDate(day), AsOfToday: today}
	}
	lastDay, err := eng.Decide(req("2026-12-31", true))
	if err != nil {
		t.Fatal(err)
	}
	if lastDay[0].ProfileExpired || strings.Contains(lastDay[0].Explain(), "carried forward") {
		t.Errorf("last day flagged: %+v", lastDay[0])
	}
	after, err := eng.Decide(req("2027-01-02", true))
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range after {
		if !d.ProfileExpired || d.ProfileEnd != mustDate("2026-12-31") || d.ProfileVersion != "2026.1" {
			t.Errorf("%s: expired=%v end=%s version=%s", d.Discipline, d.ProfileExpired, d.ProfileEnd, d.ProfileVersion)
		}
		if !strings.Contains(d.Explain(), "carried forward: profile cms-ma 2026.1 ended 2026-12-31") {
			t.Errorf("explanation %q", d.Explain())
		}
		same := lastDay[i]
		if d.Status != same.Status || d.ProvidersWithin != same.ProvidersWithin || len(d.Nearest) != len(same.Nearest) || d.Rule != same.Rule {
			t.Errorf("%s: carried decision differs from the last day's", d.Discipline)
		}
	}
	for _, tc := range []struct {
		name   string
		today  bool
		policy adequacy.ExpiryPolicy
	}{{"named date", false, adequacy.CarryForward}, {"fail policy", true, adequacy.FailExpired}} {
		e := *eng
		e.Expiry = tc.policy
		_, err := e.Decide(req("2027-01-02", tc.today))
		var bad *adequacy.InvalidRequest
		if !errors.As(err, &bad) || bad.Violations[0].Field != "as_of" || !strings.Contains(err.Error(), "2027-01-02 is outside profile cms-ma's effective period (2026.1: 2026-01-01 to 2026-12-31)") {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	// With a 2027 version loaded the same request is answered by it, unflagged.
	v27 := version(t, eng, "2027.1", "2027-01-01", "2027-12-31")
	v26, _ := eng.Profiles.Get("cms-ma")
	var others []*adequacy.Profile
	for _, p := range eng.Profiles.All() {
		if p.Name != "cms-ma" {
			others = append(others, p)
		}
	}
	ps, err := adequacy.NewProfiles(append(others, v26, v27)...)
	if err != nil {
		t.Fatal(err)
	}
	e := *eng
	e.Profiles = ps
	got, err := e.Decide(req("2027-01-02", true))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].ProfileExpired || got[0].ProfileVersion != "2027.1" {
		t.Errorf("with 2027 loaded: expired=%v version %s", got[0].ProfileExpired, got[0].ProfileVersion)
	}
}

func TestGapExpiredProfile(t *testing.T) {
	eng := engine(t, nil)
	members := []adequacy.GapMember{{ID: "m1", Point: *pt(40.75, -73.99), HasPoint: true}, {ID: "m2", ZIP: "79830"}}
	rep, err := eng.Gap(t.Context(), members, adequacy.GapOptions{AsOf: mustDate("2027-01-02"), AsOfToday: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.ProfileExpired || rep.Profile.Version != "2026.1" {
		t.Errorf("gap: expired=%v version %s", rep.ProfileExpired, rep.Profile.Version)
	}
	if _, err := eng.Gap(t.Context(), members, adequacy.GapOptions{AsOf: mustDate("2027-01-02")}); !errors.Is(err, adequacy.ErrInvalidRequest) {
		t.Errorf("gap with a named date past the end: %v", err)
	}
}
