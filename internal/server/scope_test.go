package server_test

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// planEngine is the embedded engine with two plans over the sample
// roster's networks.
func planEngine(t *testing.T) *adequacy.Engine {
	t.Helper()
	e := *baseEngine(t)
	var err error
	e.Plans, err = adequacy.NewPlans("test", "test", []adequacy.Plan{
		{ID: "acme-ma", Name: "Acme Medicare Advantage", ProductLine: adequacy.MedicareAdvantage, Profile: "cms-ma", Networks: []string{"ACME-MA"}},
		{ID: "acme-tx", Name: "Acme Texas Medicaid", ProductLine: adequacy.Medicaid, Profile: "tx-medicaid", Networks: []string{"ACME-MCD"},
			ServiceArea: []string{"48141"}},
	}, e.Profiles)
	if err != nil {
		t.Fatal(err)
	}
	return &e
}

// Service and plan requests over gRPC answer as the engine does, with the
// evidence converted whole: service, components, providers' designations
// and services, plan and networks, out of service area.
func TestCheckAccessScopedMatchesEngine(t *testing.T) {
	eng := planEngine(t)
	_, addr := startServer(t, server.Config{Engine: eng}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	n, err := eng.NewNetwork(fixture.roster)
	if err != nil {
		t.Fatal(err)
	}
	ref := eng.WithNetwork(n)
	asOf, _ := adequacy.ParseDate(testAsOf)
	members := sampleMembers(t)
	cases := []struct {
		service, plan string
		discs         []adequacy.Discipline
	}{
		{"lymphedema", "", nil},
		{"lymphedema", "", []adequacy.Discipline{adequacy.OT}},
		{"orthopedic", "acme-ma", nil},
		{"", "acme-ma", []adequacy.Discipline{adequacy.PT, adequacy.DC}},
		{"", "acme-tx", []adequacy.Discipline{adequacy.PT}},
		{"vestibular", "", []adequacy.Discipline{adequacy.PT}},
	}
	outOfArea := 0
	for i := 0; i < len(members); i += 9 {
		m := members[i]
		cs := cases[(i/9)%len(cases)]
		req, dreq := checkPair(m, 0, "", cs.discs, asOf)
		req.Service, req.Plan, dreq.Service, dreq.Plan = cs.service, cs.plan, cs.service, cs.plan
		want, err := ref.Decide(dreq)
		if err != nil {
			t.Fatalf("member %d %+v: core: %v", i, cs, err)
		}
		got, err := c.CheckAccess(ctx, req)
		if err != nil {
			t.Fatalf("member %d %+v: %v", i, cs, err)
		}
		compareResponse(t, got, want)
		if got.Plan != cs.plan || (cs.plan != "" && !slices.Equal(got.Networks, want[0].Networks)) {
			t.Errorf("plan %q networks %v", got.Plan, got.Networks)
		}
		for j, d := range got.Decisions {
			w := &want[j]
			if d.Service != w.Service || len(d.Components) != len(w.Components) {
				t.Errorf("service %q components %d, want %q %d", d.Service, len(d.Components), w.Service, len(w.Components))
			}
			for k, comp := range d.Components {
				if int(comp.ProvidersWithin) != w.Components[k].ProvidersWithin || comp.Rule.GetMaxMiles() != w.Components[k].Rule.MaxMiles {
					t.Errorf("component %d: %+v, want %+v", k, comp, w.Components[k])
				}
			}
			for k, nb := range d.Nearest {
				if !slices.Equal(nb.Services, w.Nearest[k].Services) || !slices.Equal(nb.Designations, w.Nearest[k].Designations) {
					t.Errorf("nearest %s: services %v designations %v, want %v %v", nb.Npi, nb.Services, nb.Designations, w.Nearest[k].Services, w.Nearest[k].Designations)
				}
			}
			if d.Status == pb.AccessStatus_ACCESS_STATUS_OUT_OF_SERVICE_AREA {
				outOfArea++
				if d.Rule != nil || d.Served {
					t.Errorf("out of area decision carries a rule or a service: %+v", d)
				}
			}
		}
	}
	if outOfArea == 0 {
		t.Error("no member fell outside acme-tx's service area: the case is untested")
	}
}

// Unknown plans and services, and a plan with another profile, are named
// by field; GetPlan answers NOT_FOUND with the resource.
func TestScopedErrors(t *testing.T) {
	_, addr := startServer(t, server.Config{Engine: planEngine(t)}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf, Plan: "no-such-plan"})
	st := status.Convert(err)
	if st.Code() != codes.NotFound || !hasResource(st, "geoaccess.v1.Plan") {
		t.Errorf("unknown plan: %v %v", st.Code(), st.Details())
	}
	_, err = c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf, Service: "reiki"})
	expectStatus(t, err, codes.InvalidArgument, []string{"service"})
	_, err = c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_ST}, AsOf: testAsOf, Service: "lymphedema"})
	expectStatus(t, err, codes.InvalidArgument, []string{"disciplines[0]"})
	_, err = c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf, Plan: "acme-ma", Profile: "tx-medicaid"})
	expectStatus(t, err, codes.InvalidArgument, []string{"profile"})
	_, err = c.GetPlan(ctx, &pb.GetPlanRequest{Id: "no-such-plan"})
	if st := status.Convert(err); st.Code() != codes.NotFound || !hasResource(st, "geoaccess.v1.Plan") {
		t.Errorf("GetPlan unknown: %v", err)
	}
	gp, err := c.GetPlan(ctx, &pb.GetPlanRequest{Id: "acme-tx"})
	if err != nil || gp.Plan.Profile != "tx-medicaid" || !slices.Equal(gp.Plan.ServiceArea, []string{"48141"}) || gp.Plan.ProductLine != "medicaid" {
		t.Errorf("GetPlan: %v %+v", err, gp)
	}
	lp, err := c.ListPlans(ctx, &pb.ListPlansRequest{})
	if err != nil || len(lp.Plans) != 2 || lp.Plans[0].Id != "acme-ma" || lp.Version != "test" {
		t.Errorf("ListPlans: %v %+v", err, lp)
	}
	ls, err := c.ListServices(ctx, &pb.ListServicesRequest{})
	if err != nil || len(ls.Services) < 14 || len(ls.Designations) < 20 || ls.Version == "" {
		t.Fatalf("ListServices: %v", err)
	}
	for _, s := range ls.Services {
		if s.Code == "lymphedema" && (!slices.Contains(s.Designations, "CLT") || s.Source == "") {
			t.Errorf("lymphedema: %+v", s)
		}
	}
}

func hasResource(st *status.Status, kind string) bool {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.ResourceInfo); ok && ri.ResourceType == kind {
			return true
		}
	}
	return false
}

// The gate over gRPC with a service: both answers, and whether the
// requested provider offers the service when the roster knows it.
func TestNegotiationService(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	// A non-participating PT of the sample roster, to ask about.
	var npi string
	for _, p := range fixture.roster.Providers {
		if p.Discipline == adequacy.PT && !p.Participating {
			npi = p.NPI
			break
		}
	}
	if npi == "" {
		t.Fatal("the sample roster has no non-participating PT")
	}
	res, err := c.EvaluateNegotiation(ctx, &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: testAsOf,
		Provider: &pb.RequestedProvider{Npi: npi}, Service: "vestibular"})
	if err != nil {
		t.Fatal(err)
	}
	if res.DisciplineAccess == nil || res.GeoAccess.Service != "vestibular" || res.DisciplineAccess.Service != "" || res.ProviderOffersService == nil {
		t.Fatalf("negotiation with a service: %+v", res)
	}
	var geoCrit *pb.Criterion
	for _, cr := range res.Criteria {
		if cr.Id == adequacy.CritGeoAccessNotMet {
			geoCrit = cr
		}
	}
	if geoCrit == nil || !strings.Contains(geoCrit.Detail, "participating PT provider(s) within") || !strings.Contains(geoCrit.Detail, "offering Vestibular") {
		t.Errorf("geo-access criterion detail: %+v", geoCrit)
	}
	plain, err := c.EvaluateNegotiation(ctx, &pb.EvaluateNegotiationRequest{Location: nyc(), Discipline: pt, AsOf: testAsOf, Provider: &pb.RequestedProvider{Npi: npi}})
	if err != nil || plain.DisciplineAccess != nil || plain.ProviderOffersService != nil {
		t.Errorf("without a service: %v %+v", err, plain)
	}
}
