package server_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

var (
	pt = pb.Discipline_DISCIPLINE_PT
	ot = pb.Discipline_DISCIPLINE_OT
)

func nyc() *pb.LatLng { return &pb.LatLng{Latitude: 40.75, Longitude: -73.99} }

// fields returns the field violations of an error's BadRequest detail.
func fields(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				out = append(out, v.Field)
			}
		}
	}
	return out
}

func TestCheckAccessBadInput(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	ok := func(r *pb.CheckAccessRequest) *pb.CheckAccessRequest {
		if r.AsOf == "" {
			r.AsOf = testAsOf
		}
		if r.Disciplines == nil {
			r.Disciplines = []pb.Discipline{pt}
		}
		return r
	}
	tests := []struct {
		name   string
		req    *pb.CheckAccessRequest
		code   codes.Code
		fields []string
	}{
		{"latitude 91", ok(&pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 91, Longitude: -73.99}}), codes.InvalidArgument, []string{"location.latitude"}},
		{"latitude NaN", ok(&pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: math.NaN(), Longitude: -73.99}}), codes.InvalidArgument, []string{"location.latitude"}},
		{"longitude Inf", ok(&pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 40, Longitude: math.Inf(1)}}), codes.InvalidArgument, []string{"location.longitude"}},
		{"longitude -181", ok(&pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 40, Longitude: -181}}), codes.InvalidArgument, []string{"location.longitude"}},
		{"no location", ok(&pb.CheckAccessRequest{}), codes.InvalidArgument, []string{"location"}},
		{"unknown ZIP", ok(&pb.CheckAccessRequest{Zip: "00000"}), codes.InvalidArgument, []string{"zip"}},
		{"malformed ZIP", ok(&pb.CheckAccessRequest{Zip: "1234x"}), codes.InvalidArgument, []string{"zip"}},
		{"malformed county", ok(&pb.CheckAccessRequest{Location: nyc(), CountyFips: "123"}), codes.InvalidArgument, []string{"county_fips"}},
		{"unknown county", ok(&pb.CheckAccessRequest{Location: nyc(), CountyFips: "99999"}), codes.InvalidArgument, []string{"county_fips"}},
		{"no disciplines", ok(&pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{}}), codes.InvalidArgument, []string{"disciplines"}},
		{"unspecified discipline", ok(&pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_UNSPECIFIED}}), codes.InvalidArgument, []string{"disciplines[0]"}},
		{"unknown enum value", ok(&pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt, pb.Discipline(9)}}), codes.InvalidArgument, []string{"disciplines[1]"}},
		{"discipline twice", ok(&pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt, ot, pt}}), codes.InvalidArgument, []string{"disciplines[2]"}},
		{"unknown profile", ok(&pb.CheckAccessRequest{Location: nyc(), Profile: "nope"}), codes.NotFound, []string{"profile"}},
		{"unknown profile and bad latitude", ok(&pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: -90.5}, Profile: "nope"}), codes.InvalidArgument, []string{"profile", "location.latitude"}},
		{"bad as_of", ok(&pb.CheckAccessRequest{Location: nyc(), AsOf: "2026-02-30"}), codes.InvalidArgument, []string{"as_of"}},
		{"as_of not a date", ok(&pb.CheckAccessRequest{Location: nyc(), AsOf: "June 1"}), codes.InvalidArgument, []string{"as_of"}},
		{"as_of outside profile", ok(&pb.CheckAccessRequest{Location: nyc(), AsOf: "2031-01-01"}), codes.InvalidArgument, []string{"as_of"}},
		{"k too big", ok(&pb.CheckAccessRequest{Location: nyc(), K: 51}), codes.InvalidArgument, []string{"k"}},
		{"k negative", ok(&pb.CheckAccessRequest{Location: nyc(), K: -1}), codes.InvalidArgument, []string{"k"}},
		{"everything wrong", &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 100}, Disciplines: []pb.Discipline{0}, AsOf: "x", K: 99},
			codes.InvalidArgument, []string{"disciplines[0]", "k", "as_of", "location.latitude"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CheckAccess(ctx, tt.req)
			expectStatus(t, err, tt.code, tt.fields)
		})
	}
}

func expectStatus(t *testing.T, err error, code codes.Code, want []string) {
	t.Helper()
	if got := status.Code(err); got != code {
		t.Fatalf("code %v (%v), want %v", got, err, code)
	}
	got := fields(err)
	if strings.Join(sorted(got), ",") != strings.Join(sorted(want), ",") {
		t.Errorf("fields %q, want %q (%v)", got, want, err)
	}
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestNegotiationBadInput(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	npi := nonParticipatingNPI(t, 1)
	tests := []struct {
		name   string
		req    *pb.EvaluateNegotiationRequest
		code   codes.Code
		fields []string
	}{
		{"no provider", &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: testAsOf}, codes.InvalidArgument, []string{"provider.npi"}},
		{"short NPI", &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: testAsOf, Provider: &pb.RequestedProvider{Npi: "123"}}, codes.InvalidArgument, []string{"provider.npi"}},
		{"NPI check digit", &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: testAsOf, Provider: &pb.RequestedProvider{Npi: "1234567890"}}, codes.InvalidArgument, []string{"provider.npi"}},
		{"provider latitude", &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: testAsOf,
			Provider: &pb.RequestedProvider{Npi: npi, Location: &pb.LatLng{Latitude: 100}}}, codes.InvalidArgument, []string{"provider.location.latitude"}},
		{"provider longitude", &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: testAsOf,
			Provider: &pb.RequestedProvider{Npi: npi, Location: &pb.LatLng{Latitude: 40, Longitude: 200}}}, codes.InvalidArgument, []string{"provider.location.longitude"}},
		{"unspecified discipline", &pb.EvaluateNegotiationRequest{Location: nyc(), AsOf: testAsOf, Provider: &pb.RequestedProvider{Npi: npi}}, codes.InvalidArgument, []string{"discipline"}},
		{"member latitude", &pb.EvaluateNegotiationRequest{Location: &pb.LatLng{Latitude: -91}, Discipline: pt, AsOf: testAsOf, Provider: &pb.RequestedProvider{Npi: npi}}, codes.InvalidArgument, []string{"location.latitude"}},
		{"bad as_of", &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: "2026/06/01", Provider: &pb.RequestedProvider{Npi: npi}}, codes.InvalidArgument, []string{"as_of"}},
		{"unknown profile", &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: testAsOf, Profile: "nope", Provider: &pb.RequestedProvider{Npi: npi}}, codes.NotFound, []string{"profile"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.EvaluateNegotiation(ctx, tt.req)
			expectStatus(t, err, tt.code, tt.fields)
		})
	}
}

func TestGetProfileUnknown(t *testing.T) {
	_, addr := startServer(t, server.Config{}, true)
	_, err := client(t, addr).GetProfile(ctxFor(t), &pb.GetProfileRequest{Name: "nope"})
	expectStatus(t, err, codes.NotFound, []string{"name"})
}

// TestNeverInternalForCallerMistakes sends random, mostly wrong requests:
// every answer is OK, INVALID_ARGUMENT or NOT_FOUND.
func TestNeverInternalForCallerMistakes(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	rng := rand.New(rand.NewPCG(1, 2))
	floats := []float64{0, 40.75, -73.99, 91, -181, math.NaN(), math.Inf(-1), 1e308, 64.8, -147.7}
	strs := []string{"", "10001", "00000", "99999", "x", "36061", "2026-06-01", "2026-13-40", "cms-ma", "nope", "tx-medicaid"}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	for i := range 400 {
		req := &pb.CheckAccessRequest{Zip: pick(strs), CountyFips: pick(strs), Profile: pick(strs), AsOf: pick(strs), K: int32(rng.IntN(120) - 10)}
		if rng.IntN(3) > 0 {
			req.Location = &pb.LatLng{Latitude: floats[rng.IntN(len(floats))], Longitude: floats[rng.IntN(len(floats))]}
		}
		for range rng.IntN(6) {
			req.Disciplines = append(req.Disciplines, pb.Discipline(rng.IntN(7)))
		}
		_, err := c.CheckAccess(ctx, req)
		switch status.Code(err) {
		case codes.OK, codes.InvalidArgument, codes.NotFound:
		default:
			t.Fatalf("request %d: %v", i, err)
		}
	}
}

// TestMessageSizeLimits: a request over --max-recv-bytes is refused with
// RESOURCE_EXHAUSTED, and so is an answer over --max-send-bytes.
func TestMessageSizeLimits(t *testing.T) {
	_, addr := startServer(t, server.Config{MaxRecvBytes: 512, MaxSendBytes: 2048}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	big := &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf, Profile: strings.Repeat("x", 600)}
	if _, err := c.CheckAccess(ctx, big); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("large request: %v, want ResourceExhausted", err)
	}
	wide := &pb.CheckAccessRequest{Location: nyc(), Disciplines: allDisciplines(), AsOf: testAsOf, K: 50}
	if _, err := c.CheckAccess(ctx, wide); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("large answer: %v, want ResourceExhausted", err)
	}
	small := &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf, K: 1}
	if _, err := c.CheckAccess(ctx, small); err != nil {
		t.Errorf("small request: %v", err)
	}
}
