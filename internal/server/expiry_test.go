package server_test

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// clock is a settable test clock for Config.Now.
type clock struct{ ns atomic.Int64 }

func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()) }
func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func centralTime(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// withProfiles is the base engine with other profiles and an expiry policy.
func withProfiles(t testing.TB, policy adequacy.ExpiryPolicy, extra ...*adequacy.Profile) *adequacy.Engine {
	t.Helper()
	e := *baseEngine(t)
	e.Expiry = policy
	if len(extra) > 0 {
		ps, err := adequacy.NewProfiles(append(e.Profiles.All(), extra...)...)
		if err != nil {
			t.Fatal(err)
		}
		e.Profiles = ps
	}
	return &e
}

func metricsBody(t testing.TB, srv *server.Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func metricValue(t testing.TB, body, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no series %s in\n%s", series, body)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The day before and after cms-ma 2026.1 ends, under both policies, on a
// server in Chicago: the last day decides normally; the day after is
// carried forward and flagged (same answer otherwise) or refused; a named
// date past the end is always refused.
func TestExpiryDayBeforeAndAfter(t *testing.T) {
	loc := centralTime(t)
	lastDay := time.Date(2026, 12, 31, 18, 0, 0, 0, loc)
	dayAfter := time.Date(2027, 1, 1, 12, 0, 0, 0, loc)
	check := &pb.CheckAccessRequest{Location: nyc(), Disciplines: allDisciplines()}
	for _, policy := range []adequacy.ExpiryPolicy{adequacy.CarryForward, adequacy.FailExpired} {
		t.Run(policy.String(), func(t *testing.T) {
			clk := newClock(lastDay)
			srv, addr := startServer(t, server.Config{Engine: withProfiles(t, policy), Location: loc, Now: clk.now}, false)
			c := client(t, addr)
			ctx := ctxFor(t)
			before, err := c.CheckAccess(ctx, check)
			if err != nil {
				t.Fatal(err)
			}
			if before.ProfileExpired || before.AsOf != "2026-12-31" || before.ProfileEffectiveTo != "2026-12-31" {
				t.Fatalf("last day: expired=%v as_of=%s", before.ProfileExpired, before.AsOf)
			}
			clk.set(dayAfter)
			after, err := c.CheckAccess(ctx, check)
			if policy == adequacy.FailExpired {
				assertAsOfViolation(t, err, "2027-01-01 is outside profile cms-ma's effective period")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !after.ProfileExpired || after.ProfileVersion != "2026.1" || after.ProfileEffectiveTo != "2026-12-31" || after.AsOf != "2027-01-01" {
				t.Fatalf("day after: %+v", after)
			}
			for i, d := range after.Decisions {
				b := before.Decisions[i]
				if !strings.Contains(d.Explanation, "carried forward: profile cms-ma 2026.1 ended 2026-12-31") {
					t.Errorf("explanation %q", d.Explanation)
				}
				if d.Status != b.Status || d.ProvidersWithin != b.ProvidersWithin || len(d.Nearest) != len(b.Nearest) || d.Nearest[0].Npi != b.Nearest[0].Npi {
					t.Errorf("%s: carried answer differs from the last day's", d.Discipline)
				}
			}
			neg, err := c.EvaluateNegotiation(ctx, &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt,
				Provider: &pb.RequestedProvider{Npi: "1234567893"}})
			if err != nil || !neg.ProfileExpired || neg.ProfileEffectiveTo != "2026-12-31" {
				t.Errorf("negotiation: %v %+v", err, neg)
			}
			_, err = c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: nyc(), Disciplines: allDisciplines(), AsOf: "2027-01-02"})
			assertAsOfViolation(t, err, "2027-01-02 is outside profile cms-ma's effective period")
			body := metricsBody(t, srv)
			if got := metricValue(t, body, `geoaccess_profile_carried_forward_total{profile="cms-ma"}`); got != 5 {
				t.Errorf("carried forward counter = %v, want 5 (4 decisions and the gate's)", got)
			}
			if got := metricValue(t, body, `geoaccess_profile_expiry_seconds{profile="cms-ma"}`); got != -12*3600 {
				t.Errorf("expiry seconds = %v, want -43200", got)
			}
			if got := metricValue(t, body, `geoaccess_profile_expiry_seconds{profile="tx-medicaid"}`); !(got > 1e300) {
				t.Errorf("open-ended profile's expiry seconds = %v, want +Inf", got)
			}
			st, err := c.GetRosterStatus(ctx, &pb.GetRosterStatusRequest{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range st.Standards {
				if s.Profile == "cms-ma" {
					found = true
					if !s.Expired || s.VersionInUse != "2026.1" || s.LastDay != "2026-12-31" || s.GetDaysLeft() != 0 {
						t.Errorf("standing %+v", s)
					}
				}
			}
			if !found || st.ExpiryPolicy != pb.ExpiryPolicy_EXPIRY_POLICY_CARRY_FORWARD {
				t.Errorf("roster status standards %+v policy %v", st.Standards, st.ExpiryPolicy)
			}
		})
	}
}

func assertAsOfViolation(t *testing.T, err error, want string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), want) {
		t.Fatalf("err = %v, want INVALID_ARGUMENT %q", err, want)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				if v.Field == "as_of" {
					return
				}
			}
		}
	}
	t.Fatalf("no as_of field violation in %v", st.Details())
}

// Two versions side by side switch at midnight in the server's time zone,
// not UTC's; ListProfiles shows each version's state.
func TestProfileVersionsSwitchAtMidnightInTZ(t *testing.T) {
	loc := centralTime(t)
	v26, err := baseEngine(t).Profiles.Get("cms-ma")
	if err != nil {
		t.Fatal(err)
	}
	v27 := *v26
	v27.Version = "2027.1"
	v27.Effective = adequacy.DateRange{From: v26.Effective.To.AddDays(1), To: v26.Effective.To.AddDays(365)}
	v27.OfficialCountyStandards = false                            // distinguishable: the base table's limits
	clk := newClock(time.Date(2027, 1, 1, 5, 59, 59, 0, time.UTC)) // 23:59:59 on 31 December in Chicago
	_, addr := startServer(t, server.Config{Engine: withProfiles(t, adequacy.CarryForward, &v27), Location: loc, Now: clk.now}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	req := &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}}
	got, err := c.CheckAccess(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got.ProfileVersion != "2026.1" || got.AsOf != "2026-12-31" || got.Decisions[0].Rule.Source != pb.RuleSource_RULE_SOURCE_OFFICIAL_COUNTY_STANDARD {
		t.Errorf("before midnight in Chicago: %s %s %v", got.ProfileVersion, got.AsOf, got.Decisions[0].Rule.Source)
	}
	ls, err := c.ListProfiles(ctx, &pb.ListProfilesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]pb.ProfileState{}
	for _, p := range ls.Profiles {
		if p.Name == "cms-ma" {
			states[p.Version] = p.State
		}
	}
	if states["2026.1"] != pb.ProfileState_PROFILE_STATE_IN_EFFECT || states["2027.1"] != pb.ProfileState_PROFILE_STATE_UPCOMING {
		t.Errorf("states before midnight: %v", states)
	}
	clk.set(time.Date(2027, 1, 1, 6, 0, 0, 0, time.UTC)) // midnight in Chicago
	got, err = c.CheckAccess(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got.ProfileVersion != "2027.1" || got.ProfileExpired || got.AsOf != "2027-01-01" || got.Decisions[0].Rule.Source != pb.RuleSource_RULE_SOURCE_PROFILE_BASE_TABLE {
		t.Errorf("after midnight in Chicago: %s expired=%v %s %v", got.ProfileVersion, got.ProfileExpired, got.AsOf, got.Decisions[0].Rule.Source)
	}
	// A named date still picks its own version.
	got, err = c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: "2026-06-01"})
	if err != nil || got.ProfileVersion != "2026.1" {
		t.Errorf("named 2026 date: %v %v", got.GetProfileVersion(), err)
	}
	gp, err := c.GetProfile(ctx, &pb.GetProfileRequest{Name: "cms-ma", Version: "2026.1"})
	if err != nil || gp.Profile.Summary.Version != "2026.1" || gp.Profile.Summary.State != pb.ProfileState_PROFILE_STATE_ENDED {
		t.Errorf("GetProfile 2026.1: %v %v", gp, err)
	}
	_, err = c.GetProfile(ctx, &pb.GetProfileRequest{Name: "cms-ma", Version: "1999.1"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown version: %v", err)
	}
}
