package server_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// gapErr runs a gap report and returns its error (nil when the summary
// comes).
func gapErr(c pb.AdequacyServiceClient, ctx context.Context, req *pb.GapReportRequest) error {
	s, err := c.GapReport(ctx, req)
	if err != nil {
		return err
	}
	_, err = s.Recv()
	return err
}

func badRequestOf(t *testing.T, err error) *errdetails.BadRequest {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			return br
		}
	}
	t.Fatalf("no BadRequest in %v", err)
	return nil
}

// TestRepeatedFieldLimits: a repeated field over its limit is one
// violation naming the field, however many elements it has; at the
// limit every element is still looked at.
func TestRepeatedFieldLimits(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	discs := func(n int, d pb.Discipline) []pb.Discipline {
		out := make([]pb.Discipline, n)
		for i := range out {
			out[i] = d
		}
		return out
	}
	member := []*pb.GapMember{{MemberRef: "m", Zip: "10001"}}
	tests := []struct {
		name  string
		call  func() error
		field []string
	}{
		{"disciplines over the limit", func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", AsOf: testAsOf, Disciplines: discs(server.MaxDisciplines+1, pt)})
			return err
		}, []string{"disciplines"}},
		{"a million unknown disciplines", func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", AsOf: testAsOf, Disciplines: discs(1_000_000, 99)})
			return err
		}, []string{"disciplines"}},
		{"disciplines over the limit and a bad date", func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", AsOf: "soon", Disciplines: discs(server.MaxDisciplines+1, pt)})
			return err
		}, []string{"as_of", "disciplines"}},
		{"at the limit: each repeat named", func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", AsOf: testAsOf, Disciplines: discs(3, pt)})
			return err
		}, []string{"disciplines[1]", "disciplines[2]"}},
		{"gap members", func() error {
			ms := make([]*pb.GapMember, server.MaxGapMembers+1)
			for i := range ms {
				ms[i] = &pb.GapMember{}
			}
			return gapErr(c, ctx, &pb.GapReportRequest{Members: ms})
		}, []string{"members"}},
		{"gap disciplines", func() error {
			return gapErr(c, ctx, &pb.GapReportRequest{Members: member, Disciplines: discs(server.MaxDisciplines+1, pt)})
		}, []string{"disciplines"}},
		{"gap candidates and credits", func() error {
			return gapErr(c, ctx, &pb.GapReportRequest{Members: member, Candidates: make([]*pb.RecruitmentCandidate, server.MaxCandidates+1),
				Credits: make([]string, server.MaxCredits+1)})
		}, []string{"candidates", "credits"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("%v, want INVALID_ARGUMENT", err)
			}
			if got := fields(err); strings.Join(got, " ") != strings.Join(tc.field, " ") {
				t.Errorf("fields %q, want %q", got, tc.field)
			}
			if n := proto.Size(status.Convert(err).Proto()); n > 2048 {
				t.Errorf("status of %d bytes", n)
			}
		})
	}
}

// TestViolationsCapped: a request with more wrong fields than
// MaxViolations gets the first MaxViolations and one entry counting the
// rest, in the details and the message.
func TestViolationsCapped(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	cands := make([]*pb.RecruitmentCandidate, 100) // three wrong fields each
	for i := range cands {
		cands[i] = &pb.RecruitmentCandidate{Npi: "1"}
	}
	err := gapErr(c, ctxFor(t), &pb.GapReportRequest{Members: []*pb.GapMember{{MemberRef: "m", Zip: "10001"}}, Candidates: cands})
	br := badRequestOf(t, err)
	if n := len(br.FieldViolations); n != server.MaxViolations+1 {
		t.Fatalf("%d violations, want %d", n, server.MaxViolations+1)
	}
	last := br.FieldViolations[server.MaxViolations]
	if want := "… and 280 more field violations"; last.Description != want || last.Field != "" {
		t.Errorf("last violation %v, want %q", last, want)
	}
	if msg := status.Convert(err).Message(); !strings.HasSuffix(msg, "; … and 280 more field violations") {
		t.Errorf("message %q", msg)
	}
}

// TestEchoedValuesCut: a 4 MB value the error quotes comes back as a
// short excerpt; the status with its details stays under a few KB.
func TestEchoedValuesCut(t *testing.T) {
	_, addr := startServer(t, server.Config{MaxRecvBytes: 8 << 20}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	big := strings.Repeat("ž", 2_000_000) // 4 MB, two bytes a rune: cut on a rune boundary
	req := func(f func(*pb.CheckAccessRequest)) *pb.CheckAccessRequest {
		r := &pb.CheckAccessRequest{Zip: "10001", AsOf: testAsOf, Disciplines: []pb.Discipline{pt}}
		f(r)
		return r
	}
	for name, call := range map[string]func() error{
		"profile": func() error {
			_, err := c.CheckAccess(ctx, req(func(r *pb.CheckAccessRequest) { r.Profile = big }))
			return err
		},
		"zip": func() error {
			_, err := c.CheckAccess(ctx, req(func(r *pb.CheckAccessRequest) { r.Zip = big }))
			return err
		},
		"county_fips": func() error {
			_, err := c.CheckAccess(ctx, req(func(r *pb.CheckAccessRequest) { r.CountyFips = big }))
			return err
		},
		"as_of": func() error {
			_, err := c.CheckAccess(ctx, req(func(r *pb.CheckAccessRequest) { r.AsOf = big }))
			return err
		},
		"GetProfile": func() error { _, err := c.GetProfile(ctx, &pb.GetProfileRequest{Name: big}); return err },
		"provider.npi": func() error {
			_, err := c.EvaluateNegotiation(ctx, &pb.EvaluateNegotiationRequest{Zip: "10001", Discipline: pt, AsOf: testAsOf,
				Provider: &pb.RequestedProvider{Npi: big}})
			return err
		},
		"credits": func() error {
			return gapErr(c, ctx, &pb.GapReportRequest{Members: []*pb.GapMember{{MemberRef: "m", Zip: "10001"}}, Credits: []string{big}})
		},
	} {
		t.Run(name, func(t *testing.T) {
			st := status.Convert(call())
			if st.Code() != codes.InvalidArgument && st.Code() != codes.NotFound {
				t.Fatalf("%v: %.200s", st.Code(), st.Message())
			}
			if n := proto.Size(st.Proto()); n > 4096 || len(st.Message()) > 1024 {
				t.Errorf("message of %d bytes, status of %d", len(st.Message()), n)
			}
			if !strings.Contains(st.Message(), "ž") && name != "zip" {
				t.Logf("%s: no excerpt in %q", name, st.Message())
			}
		})
	}
}

// grepLines keeps the lines of s that start with prefix.
func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
