package server

import (
	"context"
	"sync/atomic"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/serving"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// service implements geoaccess.v1.AdequacyService.
type service struct {
	pb.UnimplementedAdequacyServiceServer
	roster   *serving.Holder
	reloader atomic.Pointer[serving.Reloader] // set by Server.SetReloader: the admin RPCs
	replay   atomic.Pointer[serving.Replays]  // set by Server.SetReplays: past versions from a store
	noStore  *serving.Replays                 // replays of the serving versions only, without SetReplays
	loc      *time.Location                   // for the default as-of date
	now      func() time.Time
	batch    BatchConfig
	metrics  *metrics
	expiry   *expiryWatch
}

// engine is the serving engine, or UNAVAILABLE before the first roster.
func (s *service) engine() (*adequacy.Engine, error) {
	if e := s.roster.Engine(); e != nil {
		return e, nil
	}
	return nil, noRosterStatus().Err()
}

func (s *service) today() adequacy.Date { return today(s.now(), s.loc) }

// CheckAccess implements AdequacyService.
func (s *service) CheckAccess(ctx context.Context, req *pb.CheckAccessRequest) (*pb.CheckAccessResponse, error) {
	dr := checkRequest(req, s.today())
	eng, err := s.replayEngine(ctx, req, len(dr.faults) > 0)
	if err != nil {
		return nil, err
	}
	ds, err := eng.Decide(dr.req)
	if err != nil || len(dr.faults) > 0 {
		return nil, errorStatus(err, dr.faults, nil).Err()
	}
	infoOf(ctx).addDecisions(ds)
	return checkResponse(ds), nil
}

// EvaluateNegotiation implements AdequacyService.
func (s *service) EvaluateNegotiation(ctx context.Context, req *pb.EvaluateNegotiationRequest) (*pb.EvaluateNegotiationResponse, error) {
	nr, faults := negotiationRequest(req, s.today())
	eng, err := s.replayEngine(ctx, req, len(faults) > 0)
	if err != nil {
		return nil, err
	}
	g, err := eng.Negotiate(nr)
	if err != nil || len(faults) > 0 {
		rename := func(f string) string { return negotiationField(f, nr) }
		return nil, errorStatus(err, faults, rename).Err()
	}
	infoOf(ctx).addDecisions([]adequacy.Decision{g.GeoAccess})
	return negotiationResponse(&g), nil
}

// ListProfiles implements AdequacyService. Profiles serve before any
// roster is loaded.
func (s *service) ListProfiles(context.Context, *pb.ListProfilesRequest) (*pb.ListProfilesResponse, error) {
	base := s.roster.Base()
	out := &pb.ListProfilesResponse{DefaultProfile: base.DefaultProfile, ExpiryPolicy: expiryPolicyProto(base.Expiry)}
	for _, p := range base.Profiles.All() {
		out.Profiles = append(out.Profiles, s.profileSummary(p))
	}
	return out, nil
}

func (s *service) profileSummary(p *adequacy.Profile) *pb.ProfileSummary {
	out := profileSummaryProto(p)
	out.State, out.DaysLeft = s.expiry.versionState(p)
	return out
}

// GetProfile implements AdequacyService.
func (s *service) GetProfile(_ context.Context, req *pb.GetProfileRequest) (*pb.GetProfileResponse, error) {
	base := s.roster.Base()
	name := req.GetName()
	if name == "" {
		name = base.DefaultProfile
	}
	var p *adequacy.Profile
	var err error
	field := "name"
	if v := req.GetVersion(); v != "" {
		field = "version"
		p, err = base.Profiles.Version(name, v)
	} else if ch, cerr := base.Profiles.Choose(name, s.today(), true, adequacy.CarryForward); cerr == nil {
		p = ch.Profile
	} else {
		p, err = base.Profiles.Get(name) // every version starts later: the latest
	}
	if err != nil {
		if _, nameErr := base.Profiles.Versions(name); nameErr != nil {
			field = "name"
		}
		return nil, unknownProfileStatus(field, name, err).Err()
	}
	out := profileProto(p)
	out.Summary = s.profileSummary(p)
	return &pb.GetProfileResponse{Profile: out}, nil
}

// GetRosterStatus implements AdequacyService; it answers before any
// roster is loaded too (loaded = false, and the last attempt's outcome).
// A failed attempt's error is in full for admins (and on a server
// without tokens); readers get it without connection details.
func (s *service) GetRosterStatus(ctx context.Context, _ *pb.GetRosterStatusRequest) (*pb.GetRosterStatusResponse, error) {
	return &pb.GetRosterStatusResponse{Status: rosterStatusProto(s.roster.Status(), mayAdminister(ctx)), Standards: s.expiry.standings(),
		ExpiryPolicy: expiryPolicyProto(s.roster.Base().Expiry)}, nil
}

// ListServices implements AdequacyService: the services vocabulary.
func (s *service) ListServices(context.Context, *pb.ListServicesRequest) (*pb.ListServicesResponse, error) {
	v := s.roster.Base().Vocabulary
	if v == nil {
		return &pb.ListServicesResponse{}, nil
	}
	out := &pb.ListServicesResponse{Version: v.Version, Source: v.Source}
	for _, d := range v.Designations() {
		out.Designations = append(out.Designations, &pb.SpecialtyDesignation{Code: d.Code, Aliases: d.Aliases, Name: d.Name, Body: d.Body,
			Disciplines: disciplinesProto(d.Disciplines), Source: d.Source})
	}
	for _, sv := range v.Services() {
		out.Services = append(out.Services, &pb.Service{Code: sv.Code, Aliases: sv.Aliases, Name: sv.Name, Disciplines: disciplinesProto(sv.Disciplines),
			Designations: sv.Designations, Similar: sv.Similar, Source: sv.Source})
	}
	return out, nil
}

// ListPlans implements AdequacyService.
func (s *service) ListPlans(context.Context, *pb.ListPlansRequest) (*pb.ListPlansResponse, error) {
	ps := s.roster.Base().Plans
	out := &pb.ListPlansResponse{}
	if ps == nil {
		return out, nil
	}
	out.Version = ps.Version
	for _, p := range ps.All() {
		out.Plans = append(out.Plans, planProto(p))
	}
	return out, nil
}

// GetPlan implements AdequacyService.
func (s *service) GetPlan(_ context.Context, req *pb.GetPlanRequest) (*pb.GetPlanResponse, error) {
	p, err := s.roster.Base().Plans.Get(req.GetId())
	if err != nil {
		br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "id", Description: err.Error()}}}
		ri := &errdetails.ResourceInfo{ResourceType: planResource, ResourceName: adequacy.Excerpt(req.GetId()), Description: err.Error()}
		return nil, withDetails(status.New(codes.NotFound, err.Error()), br, ri).Err()
	}
	return &pb.GetPlanResponse{Plan: planProto(p)}, nil
}

func planProto(p *adequacy.Plan) *pb.Plan {
	return &pb.Plan{Id: p.ID, Name: p.Name, ProductLine: string(p.ProductLine), Profile: p.Profile, ProfileVersion: p.ProfileVersion,
		Networks: p.Networks, ServiceArea: p.ServiceArea, EffectiveFrom: p.Effective.From.String(), EffectiveTo: p.Effective.To.String()}
}
