package server

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/serving"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// The roster administration RPCs (admin role: see AdminMethods).

// defaultDiffPage is GetRosterDiff's page size when the request gives none.
const defaultDiffPage = 20

// ErrNoReloader: the server serves a file roster; reloads need a version
// store (geoaccessd --db).
var ErrNoReloader = errors.New("roster reloads are not configured: start geoaccessd with --db")

// ReloadRoster implements AdequacyService.
func (s *service) ReloadRoster(ctx context.Context, req *pb.ReloadRosterRequest) (*pb.ReloadRosterResponse, error) {
	rl := s.reloader.Load()
	if rl == nil {
		return nil, status.Error(codes.FailedPrecondition, ErrNoReloader.Error())
	}
	res, err := rl.Reload(ctx, req.GetVersion(), req.GetForce())
	if err != nil {
		return nil, reloadErrorStatus(err, res.Status).Err()
	}
	out := &pb.ReloadRosterResponse{Result: pb.ReloadResult_RELOAD_RESULT_UNCHANGED, Status: rosterStatusProto(res.Status, true)}
	if res.Loaded {
		out.Result = pb.ReloadResult_RELOAD_RESULT_LOADED
	}
	if res.Diff != nil {
		out.Diff = diffSummaryProto(res.Diff)
	}
	return out, nil
}

// reloadErrorStatus maps a failed reload to a status. Every message ends
// by saying which roster still serves.
func reloadErrorStatus(err error, st serving.RosterStatus) *status.Status {
	msg := err.Error() + "; still serving " + servingName(st)
	switch adequacy.VersionCodeOf(err) {
	case adequacy.VersionBad:
		br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "version",
			Description: `want "current", a version id such as 42, or pg:42`}}}
		return withDetails(status.New(codes.InvalidArgument, msg), br)
	case adequacy.VersionUnknown:
		return status.New(codes.NotFound, msg)
	case adequacy.VersionNotServable, adequacy.VersionNoneCurrent, adequacy.VersionInvalidRows:
		return status.New(codes.FailedPrecondition, msg)
	}
	switch {
	case errors.Is(err, adequacy.ErrShrink):
		return status.New(codes.FailedPrecondition, msg+" (force overrides the shrink guard)")
	case errors.Is(err, adequacy.ErrEmptyRoster):
		return status.New(codes.FailedPrecondition, msg)
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, msg)
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, msg)
	}
	// The version store is unreachable or failed: worth retrying.
	return status.New(codes.Unavailable, msg)
}

func servingName(st serving.RosterStatus) string {
	if !st.Loaded {
		return "nothing (no roster loaded)"
	}
	return st.Version
}

// GetRosterDiff implements AdequacyService.
func (s *service) GetRosterDiff(_ context.Context, req *pb.GetRosterDiffRequest) (*pb.GetRosterDiffResponse, error) {
	n := int(req.GetPageSize())
	if n < 0 || n > serving.MaxDiffRows {
		br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "page_size",
			Description: fmt.Sprintf("must be 0 (meaning %d) to %d", defaultDiffPage, serving.MaxDiffRows)}}}
		return nil, withDetails(status.Newf(codes.InvalidArgument, "invalid request: page_size: %d is not between 0 and %d", n, serving.MaxDiffRows), br).Err()
	}
	if n == 0 {
		n = defaultDiffPage
	}
	rl := s.reloader.Load()
	if rl == nil {
		return nil, status.Error(codes.FailedPrecondition, ErrNoReloader.Error())
	}
	d := rl.LastDiff()
	if d == nil {
		return nil, status.Error(codes.NotFound, "no reload has swapped rosters since the server started")
	}
	out := &pb.GetRosterDiffResponse{Summary: diffSummaryProto(d)}
	for i := range min(n, len(d.Added)) {
		out.Added = append(out.Added, rosterProviderProto(&d.Added[i]))
	}
	for i := range min(n, len(d.Removed)) {
		out.Removed = append(out.Removed, rosterProviderProto(&d.Removed[i]))
	}
	for i := range min(n, len(d.Moved)) {
		out.Moved = append(out.Moved, rosterChangeProto(&d.Moved[i]))
	}
	for i := range min(n, len(d.Changed)) {
		out.Changed = append(out.Changed, rosterChangeProto(&d.Changed[i]))
	}
	return out, nil
}

func diffSummaryProto(d *serving.RosterDiff) *pb.RosterDiffSummary {
	out := &pb.RosterDiffSummary{OldVersion: d.Old, NewVersion: d.New, MoveMiles: d.MoveMiles, Time: timestamp(d.Time),
		Total: diffCountsProto(d.Total)}
	for _, disc := range adequacy.Disciplines {
		out.Counts = append(out.Counts, &pb.DisciplineDiffCounts{Discipline: disciplineProto(disc), Counts: diffCountsProto(d.Counts[disc])})
	}
	return out
}

func diffCountsProto(c adequacy.DiffCounts) *pb.DiffCounts {
	return &pb.DiffCounts{Added: count32(c.Added), Removed: count32(c.Removed), Moved: count32(c.Moved), Changed: count32(c.Changed),
		Unchanged: count32(c.Unchanged)}
}

func rosterProviderProto(p *adequacy.Provider) *pb.RosterProvider {
	out := &pb.RosterProvider{Npi: p.NPI, Discipline: disciplineProto(p.Discipline), Name: p.Name,
		Location: &pb.LatLng{Latitude: p.Location.Lat, Longitude: p.Location.Lon},
		Address1: p.Address.Line1, Address2: p.Address.Line2, City: p.Address.City, State: p.Address.State, Zip: p.Address.ZIP,
		CountyFips: p.CountyFIPS, Participating: p.Participating, TelehealthOnly: p.TelehealthOnly,
		AcceptingNewPatients: p.AcceptingNewPatients, EffectiveDate: p.Effective.String(), TerminationDate: p.Termination.String(),
		Networks: p.Networks, Designations: p.Designations, Services: p.Services}
	if len(p.Networks) > 0 {
		//lint:ignore SA1019 the deprecated field, still filled for older clients
		out.Network = p.Networks[0]
	}
	return out
}

func rosterChangeProto(c *adequacy.ProviderChange) *pb.RosterChange {
	return &pb.RosterChange{Old: rosterProviderProto(&c.Old), New: rosterProviderProto(&c.New), Miles: c.Miles, Fields: c.Fields}
}
