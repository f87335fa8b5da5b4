package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

const auditorToken = "auditor-token-0123456789"

func replayTokens(t testing.TB) *server.Tokens {
	t.Helper()
	tk, err := server.ParseTokens(strings.NewReader(readerToken + " reader dashboard\n" + auditorToken + " auditor appeals-desk\n" + adminToken + " admin ops\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// v27 is a cms-ma 2027 version that decides differently from 2026.1 (the
// profile's base table instead of the official county limits).
func v27(t testing.TB) *adequacy.Profile {
	v26, err := baseEngine(t).Profiles.Get("cms-ma")
	if err != nil {
		t.Fatal(err)
	}
	p := *v26
	p.Version, p.OfficialCountyStandards = "2027.1", false
	p.Effective = adequacy.DateRange{From: v26.Effective.To.AddDays(1), To: v26.Effective.To.AddDays(365)}
	return &p
}

func bearerCtx(t testing.TB, tok string) context.Context {
	return withTokenCtx(ctxFor(t), tok)
}

func withTokenCtx(ctx context.Context, tok string) context.Context {
	if tok == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// Replays need the auditor or admin role; a reader gets PERMISSION_DENIED
// for any request naming a version, and an auditor may not reload.
func TestReplayRoles(t *testing.T) {
	_, addr := startServer(t, server.Config{Tokens: replayTokens(t), Engine: withProfiles(t, adequacy.CarryForward, v27(t))}, false)
	c := client(t, addr)
	npi := nonParticipatingNPI(t, 1)
	tests := []struct {
		name   string
		tok    string
		replay bool
		code   codes.Code
	}{
		{"reader, live", readerToken, false, codes.OK},
		{"reader, replay", readerToken, true, codes.PermissionDenied},
		{"auditor, live", auditorToken, false, codes.OK},
		{"auditor, replay", auditorToken, true, codes.OK},
		{"admin, replay", adminToken, true, codes.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf}
			neg := &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: testAsOf, Provider: &pb.RequestedProvider{Npi: npi}}
			if tc.replay {
				check.ProfileVersion, neg.ProfileVersion = "2026.1", "2026.1"
			}
			r, err := c.CheckAccess(bearerCtx(t, tc.tok), check)
			if status.Code(err) != tc.code {
				t.Errorf("CheckAccess: %v, want %v", err, tc.code)
			}
			if err == nil && r.ProfileVersion != "2026.1" {
				t.Errorf("CheckAccess: profile version %s", r.ProfileVersion)
			}
			if _, err := c.EvaluateNegotiation(bearerCtx(t, tc.tok), neg); status.Code(err) != tc.code {
				t.Errorf("EvaluateNegotiation: %v, want %v", err, tc.code)
			}
			if tc.code == codes.PermissionDenied {
				if _, err := c.CheckAccess(bearerCtx(t, tc.tok), &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt},
					AsOf: testAsOf, RosterVersion: "sample-2026.11"}); status.Code(err) != codes.PermissionDenied ||
					!strings.Contains(status.Convert(err).Message(), "need the auditor or admin role; the token of dashboard is reader") {
					t.Errorf("reader naming the serving roster version: %v", err)
				}
			}
		})
	}
	if _, err := c.ReloadRoster(bearerCtx(t, auditorToken), &pb.ReloadRosterRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("auditor reloads: %v", err)
	}
}

// A replay naming the profile version a past decision carried forward
// gets that decision, byte for byte, from a server that has loaded the
// next year's version since.
func TestReplayCarriedDecisionByteIdentical(t *testing.T) {
	loc := centralTime(t)
	jan3 := newClock(time.Date(2027, 1, 3, 12, 0, 0, 0, loc))
	_, before := startServer(t, server.Config{Engine: withProfiles(t, adequacy.CarryForward), Location: loc, Now: jan3.now}, false)
	_, after := startServer(t, server.Config{Engine: withProfiles(t, adequacy.CarryForward, v27(t)), Location: loc, Now: jan3.now}, false)
	live := &pb.CheckAccessRequest{Location: nyc(), Disciplines: allDisciplines(), K: 5}
	orig, err := client(t, before).CheckAccess(ctxFor(t), live)
	if err != nil {
		t.Fatal(err)
	}
	if !orig.ProfileExpired || orig.ProfileVersion != "2026.1" {
		t.Fatalf("the original was not carried forward: %s expired=%v", orig.ProfileVersion, orig.ProfileExpired)
	}
	replay := proto.Clone(live).(*pb.CheckAccessRequest)
	replay.AsOf, replay.ProfileVersion, replay.RosterVersion = orig.AsOf, orig.ProfileVersion, orig.RosterVersion
	got, err := client(t, after).CheckAccess(ctxFor(t), replay)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := proto.MarshalOptions{Deterministic: true}.Marshal(orig)
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(got)
	if !bytes.Equal(a, b) {
		t.Errorf("replay differs from the original:\n got  %v\n want %v", got, orig)
	}
	now, err := client(t, after).CheckAccess(ctxFor(t), live)
	if err != nil || now.ProfileVersion != "2027.1" || now.ProfileExpired {
		t.Errorf("live after the 2027 load: %v %v", now, err)
	}
}

// violation is the first field violation of an INVALID_ARGUMENT or
// NOT_FOUND error.
func violation(err error) (field, desc string) {
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.FieldViolations) > 0 {
			return br.FieldViolations[0].Field, br.FieldViolations[0].Description
		}
	}
	return "", ""
}

// Replays refused for their own fields, each named; a server without a
// version store replays only the roster it serves.
func TestReplayErrors(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	_, addr := startServer(t, server.Config{Tokens: replayTokens(t), Engine: withProfiles(t, adequacy.CarryForward, v27(t)), Logger: log}, false)
	c := client(t, addr)
	ctx := bearerCtx(t, auditorToken)
	req := func(edit func(r *pb.CheckAccessRequest)) *pb.CheckAccessRequest {
		r := &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf}
		edit(r)
		return r
	}
	tests := []struct {
		name  string
		req   *pb.CheckAccessRequest
		code  codes.Code
		field string
		want  string
	}{
		{"no as_of", req(func(r *pb.CheckAccessRequest) { r.AsOf, r.RosterVersion = "", "sample-2026.11" }), codes.InvalidArgument, "as_of", "a replay names the as_of of the decision it repeats"},
		{"version not in effect", req(func(r *pb.CheckAccessRequest) { r.ProfileVersion = "2027.1" }), codes.InvalidArgument, "profile_version",
			"profile cms-ma version 2027.1 is in effect 2027-01-01 to 2027-12-31, not on 2026-06-01"},
		{"unknown profile version", req(func(r *pb.CheckAccessRequest) { r.ProfileVersion = "1999.1" }), codes.NotFound, "profile_version", `cms-ma has no version "1999.1"`},
		{"no store: another roster", req(func(r *pb.CheckAccessRequest) { r.RosterVersion = "pg:1" }), codes.FailedPrecondition, "", "keeps no version store"},
		{"no store: a plans version", req(func(r *pb.CheckAccessRequest) { r.PlansVersion = "pg:7" }), codes.FailedPrecondition, "", "replay plans version pg:7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CheckAccess(ctx, tc.req)
			if status.Code(err) != tc.code {
				t.Fatalf("%v, want %v", err, tc.code)
			}
			if tc.field != "" {
				if f, d := violation(err); f != tc.field || !strings.Contains(d, tc.want) {
					t.Errorf("violation %s: %s, want %s: %q", f, d, tc.field, tc.want)
				}
				return
			}
			if !strings.Contains(status.Convert(err).Message(), tc.want) {
				t.Errorf("message %q, want %q", status.Convert(err).Message(), tc.want)
			}
		})
	}
	// Every wrong field at once: the replay's as_of and the location.
	_, err := c.CheckAccess(ctx, req(func(r *pb.CheckAccessRequest) { r.AsOf, r.ProfileVersion, r.Location.Latitude = "", "2026.1", 91 }))
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "location.latitude") || !strings.Contains(st.Message(), "as_of: is required with") {
		t.Errorf("two faults: %v", err)
	}
	// The serving version replays without a store, as the live answer.
	live, err := c.CheckAccess(ctx, req(func(*pb.CheckAccessRequest) {}))
	if err != nil {
		t.Fatal(err)
	}
	same, err := c.CheckAccess(ctx, req(func(r *pb.CheckAccessRequest) { r.RosterVersion = live.RosterVersion }))
	if err != nil || !proto.Equal(live, same) {
		t.Errorf("replay of the serving version: %v", err)
	}
	// The audit trail names the caller and the versions, nothing of the member.
	out := buf.String()
	if !strings.Contains(out, `"replay":true`) || !strings.Contains(out, `"caller":"appeals-desk"`) || !strings.Contains(out, `"roster_version":"sample-2026.11"`) {
		t.Errorf("no replay in the log:\n%s", out)
	}
	assertNoSecrets(t, out)
}
