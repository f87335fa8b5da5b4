// Command go is a geoaccess client in Go: it calls a running geoaccessd the
// way a client service would, prints what it gets, and checks it.
//
//	geoaccessd --listen 127.0.0.1:8443 --plans-file data/assets/plans/example.yaml &
//	go run ./examples/go --addr 127.0.0.1:8443
//
// It makes four calls: CheckAccess for a member in Manhattan (by
// discipline, then for a service under a plan), CheckAccess with an
// impossible latitude (decoding the google.rpc.BadRequest details of the
// INVALID_ARGUMENT error), a CheckAccessBatch stream of several members one
// of which is invalid, and EvaluateNegotiation for a member whose plan has
// no accessible provider of the service. The checks hold for the embedded
// sample roster and the example plans (docs/clients.md); the program exits
// 1 when one does not.
//
// Go clients need no protoc: they import the generated package
// github.com/geoaccess/geoaccess/proto/geoaccess/v1, and the error
// details from google.golang.org/genproto/googleapis/rpc/errdetails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// asOf fixes the date, so the answers do not change with the calendar
// (the example plan acme-ma is in force in 2026).
const asOf = "2026-06-01"

var (
	manhattan = &pb.LatLng{Latitude: 40.748817, Longitude: -73.985428} // New York County, NY
	austin    = &pb.LatLng{Latitude: 30.2672, Longitude: -97.7431}     // Travis County, TX
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "geoaccessd's gRPC address")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	fmt.Println("ok: every check passed")
}

func run(addr string) error {
	// Plaintext on loopback; use credentials.NewTLS (and a bearer token
	// with grpc.WithPerRPCCredentials) against a real deployment.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := pb.NewAdequacyServiceClient(conn)
	for _, step := range []func(pb.AdequacyServiceClient) error{checkAccess, checkAccessInvalid, checkAccessBatch, evaluateNegotiation} {
		if err := step(client); err != nil {
			return err
		}
	}
	return nil
}

func checkAccess(client pb.AdequacyServiceClient) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := client.CheckAccess(ctx, &pb.CheckAccessRequest{
		Location: manhattan, Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}, AsOf: asOf, K: 3})
	if err != nil {
		return fmt.Errorf("CheckAccess: %w", err)
	}
	d := resp.Decisions[0]
	fmt.Printf("CheckAccess PT, Manhattan: %s, %d providers within; %s\n", d.Status, d.ProvidersWithin, d.Explanation)
	fmt.Printf("  profile %s %s, roster %s\n", resp.Profile, resp.ProfileVersion, resp.RosterVersion)
	if d.Status != pb.AccessStatus_ACCESS_STATUS_SERVED || !d.Served || d.County.GetFips() != "36061" || len(d.Nearest) != 3 {
		return fmt.Errorf("CheckAccess PT in Manhattan: got %s in county %q with %d nearest, want SERVED in 36061 with 3", d.Status, d.County.GetFips(), len(d.Nearest))
	}

	// A service under a plan: only the plan's networks count, under the
	// profile its contract mandates, and only providers offering the
	// service (or a similar one). Without disciplines, one decision across
	// the service's disciplines.
	resp, err = client.CheckAccess(ctx, &pb.CheckAccessRequest{
		Location: manhattan, Service: "lymphedema", Plan: "acme-ma", AsOf: asOf})
	if err != nil {
		return fmt.Errorf("CheckAccess lymphedema under acme-ma: %w", err)
	}
	d = resp.Decisions[0]
	fmt.Printf("CheckAccess lymphedema, plan %s (networks %v): %s; %s\n", resp.Plan, resp.Networks, d.Status, d.Explanation)
	for _, c := range d.Components {
		fmt.Printf("  %s: %d within %g miles\n", c.Discipline, c.ProvidersWithin, c.Rule.GetMaxMiles())
	}
	if resp.Plan != "acme-ma" || !slices.Equal(resp.Networks, []string{"ACME-MA"}) || d.Service != "lymphedema" ||
		d.Status != pb.AccessStatus_ACCESS_STATUS_SERVED || len(d.Components) == 0 {
		return fmt.Errorf("CheckAccess lymphedema under acme-ma: plan %q networks %v service %q %s with %d components",
			resp.Plan, resp.Networks, d.Service, d.Status, len(d.Components))
	}
	for _, p := range d.Nearest {
		if !slices.Contains(p.Services, "lymphedema") {
			return fmt.Errorf("nearest provider %s does not offer lymphedema: %v", p.Npi, p.Services)
		}
	}
	return nil
}

// badRequest returns the field violations of an error's
// google.rpc.BadRequest detail, as field → description.
func badRequest(st *status.Status) map[string]string {
	out := map[string]string{}
	for _, detail := range st.Details() {
		if br, ok := detail.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out[v.GetField()] = v.GetDescription()
			}
		}
	}
	return out
}

func checkAccessInvalid(client pb.AdequacyServiceClient) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := client.CheckAccess(ctx, &pb.CheckAccessRequest{
		Location: &pb.LatLng{Latitude: 91, Longitude: -73.98}, Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}, AsOf: asOf})
	st, _ := status.FromError(err)
	violations := badRequest(st)
	fmt.Printf("CheckAccess latitude 91: %s: %s\n", st.Code(), st.Message())
	for f, desc := range violations {
		fmt.Printf("  field %s: %s\n", f, desc)
	}
	if st.Code() != codes.InvalidArgument || violations["location.latitude"] == "" {
		return fmt.Errorf("CheckAccess latitude 91: got %s with violations %v, want INVALID_ARGUMENT on location.latitude", st.Code(), violations)
	}
	return nil
}

func checkAccessBatch(client pb.AdequacyServiceClient) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pt := []pb.Discipline{pb.Discipline_DISCIPLINE_PT}
	items := []*pb.CheckAccessBatchRequest{
		{MemberRef: "m1", Location: manhattan, Disciplines: pt, AsOf: asOf},
		{MemberRef: "m2", Zip: "10016", Disciplines: pt, AsOf: asOf},
		{MemberRef: "m3", Location: austin, Disciplines: pt, Service: "lymphedema", Plan: "acme-ma", AsOf: asOf},
		{MemberRef: "m4", Location: &pb.LatLng{Latitude: 91, Longitude: -73.98}, Disciplines: pt, AsOf: asOf},
		{MemberRef: "m5", Location: austin, Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_DC, pb.Discipline_DISCIPLINE_OT}, AsOf: asOf},
	}
	stream, err := client.CheckAccessBatch(ctx)
	if err != nil {
		return fmt.Errorf("CheckAccessBatch: %w", err)
	}
	// Send from one goroutine and receive on this one: a long batch must
	// be read while it is written, or flow control stalls both sides.
	sent := make(chan error, 1)
	go func() {
		for _, it := range items {
			if err := stream.Send(it); err != nil {
				sent <- err
				return
			}
		}
		sent <- stream.CloseSend()
	}()
	answers := map[string]*pb.CheckAccessBatchResponse{}
	for {
		a, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("CheckAccessBatch: %w", err)
		}
		if answers[a.MemberRef] != nil {
			return fmt.Errorf("CheckAccessBatch: %s answered twice", a.MemberRef)
		}
		answers[a.MemberRef] = a // answers come in any order: match by member_ref
	}
	if err := <-sent; err != nil {
		return fmt.Errorf("CheckAccessBatch send: %w", err)
	}
	fmt.Printf("CheckAccessBatch: %d items, %d answers\n", len(items), len(answers))
	for _, it := range items {
		a := answers[it.MemberRef]
		if a == nil {
			return fmt.Errorf("CheckAccessBatch: no answer for %s", it.MemberRef)
		}
		if e := a.GetError(); e != nil {
			// The item's error is a google.rpc.Status; status.FromProto
			// reads its details as a call's error would.
			st := status.FromProto(e)
			fmt.Printf("  %s: error %s: %v\n", a.MemberRef, st.Code(), badRequest(st))
			continue
		}
		for _, d := range a.GetResult().Decisions {
			fmt.Printf("  %s: %s %s\n", a.MemberRef, d.Discipline, d.Status)
		}
	}
	m4 := status.FromProto(answers["m4"].GetError())
	if m4.Code() != codes.InvalidArgument || badRequest(m4)["location.latitude"] == "" {
		return fmt.Errorf("CheckAccessBatch m4: got %s %v, want INVALID_ARGUMENT on location.latitude", m4.Code(), badRequest(m4))
	}
	want := map[string][]pb.AccessStatus{
		"m1": {pb.AccessStatus_ACCESS_STATUS_SERVED},
		"m2": {pb.AccessStatus_ACCESS_STATUS_SERVED},
		"m3": {pb.AccessStatus_ACCESS_STATUS_NOT_SERVED},
		"m5": {pb.AccessStatus_ACCESS_STATUS_SERVED, pb.AccessStatus_ACCESS_STATUS_SERVED},
	}
	for ref, statuses := range want {
		var got []pb.AccessStatus
		for _, d := range answers[ref].GetResult().GetDecisions() {
			got = append(got, d.Status)
		}
		if !slices.Equal(got, statuses) {
			return fmt.Errorf("CheckAccessBatch %s: got %v, want %v", ref, got, statuses)
		}
	}
	if !answers["m2"].GetResult().Decisions[0].LocationApproximate {
		return fmt.Errorf("CheckAccessBatch m2: a member located by ZIP must be approximate")
	}
	return nil
}

func evaluateNegotiation(client pb.AdequacyServiceClient) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	yes, no := true, false
	req := &pb.EvaluateNegotiationRequest{
		Location: austin, Discipline: pb.Discipline_DISCIPLINE_PT, Service: "lymphedema", Plan: "acme-ma", AsOf: asOf,
		Provider: &pb.RequestedProvider{Npi: "1398110258", Location: &pb.LatLng{Latitude: 30.269565, Longitude: -97.625406}},
		// proto3 optional: an unset attestation blocks negotiation; false
		// is an answer, and is sent as one.
		Attestations: &pb.Attestations{
			HealthcareRequirement: &yes, WithinScope: &yes, SuperiorOutcomes: &yes, BenefitCoversNegotiation: &yes, MedicallyNecessary: &yes,
			SolelyComfortOrConvenience: &no, TechniquePreference: &no, Investigational: &no, EquivalentOutcomesAvailable: &no,
		},
	}
	resp, err := client.EvaluateNegotiation(ctx, req)
	if err != nil {
		return fmt.Errorf("EvaluateNegotiation: %w", err)
	}
	fmt.Printf("EvaluateNegotiation PT lymphedema, Austin, plan acme-ma: supported=%t\n  %s\n", resp.Supported, resp.Summary)
	for _, c := range resp.Criteria {
		fmt.Printf("  %-32s %s\n", c.Id, c.Outcome)
	}
	if !resp.Supported || resp.GeoAccess.GetStatus() != pb.AccessStatus_ACCESS_STATUS_NOT_SERVED ||
		resp.DisciplineAccess.GetStatus() != pb.AccessStatus_ACCESS_STATUS_SERVED {
		return fmt.Errorf("EvaluateNegotiation: supported=%t, service %s, discipline %s; want supported, NOT_SERVED for the service, SERVED for PT",
			resp.Supported, resp.GeoAccess.GetStatus(), resp.DisciplineAccess.GetStatus())
	}

	// Without the service, PT alone is accessible in Austin: the gate
	// says no, and names the geo-access criterion.
	req.Service = ""
	resp, err = client.EvaluateNegotiation(ctx, req)
	if err != nil {
		return fmt.Errorf("EvaluateNegotiation: %w", err)
	}
	fmt.Printf("EvaluateNegotiation PT, Austin, plan acme-ma: supported=%t\n  %s\n", resp.Supported, resp.Summary)
	if resp.Supported || resp.Criteria[0].Id != "geo_access_not_met" || resp.Criteria[0].Outcome != pb.CriterionOutcome_CRITERION_OUTCOME_FAIL {
		return fmt.Errorf("EvaluateNegotiation PT alone: supported=%t, first criterion %s %s; want not supported on geo_access_not_met",
			resp.Supported, resp.Criteria[0].Id, resp.Criteria[0].Outcome)
	}
	return nil
}
