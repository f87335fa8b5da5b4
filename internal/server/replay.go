package server

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/serving"
)

// Replays: CheckAccess and EvaluateNegotiation decide against a past
// roster, profile or plans version when the request names one
// (roster_version, profile_version, plans_version). The engine for a past
// roster or plans version comes from a serving.Replays (SetReplays),
// which reads it from the version store and keeps the last few; a
// profile version is in every engine. Replays need the auditor or admin
// role and an explicit as_of: a replay names the day of the decision it
// repeats.

// replayFields are the replay fields of CheckAccessRequest and
// EvaluateNegotiationRequest.
type replayFields interface {
	GetRosterVersion() string
	GetProfileVersion() string
	GetPlansVersion() string
	GetAsOf() string
}

// isReplay reports whether a request names a version.
func isReplay(m replayFields) bool {
	return m.GetRosterVersion() != "" || m.GetProfileVersion() != "" || m.GetPlansVersion() != ""
}

// replayAsOfFault is the fault of a replay without its as_of: the day
// must be the decision's, not the server's today.
const replayAsOfFault = "is required with roster_version, profile_version or plans_version: a replay names the as_of of the decision it repeats"

// Resource types of NOT_FOUND answers to replays.
const (
	rosterVersionResource = "geoaccess.v1.RosterVersion"
	plansVersionResource  = "geoaccess.v1.PlansVersion"
)

// replayEngine is the engine a request decides with. A request naming no
// version gets the serving engine; a replay is authorised (auditor or
// admin), marked in the call's log, and gets the engine of its versions.
// faulty: the request already has faults, so the serving engine only
// checks its other fields and no version is read.
func (s *service) replayEngine(ctx context.Context, m replayFields, faulty bool) (*adequacy.Engine, error) {
	if !isReplay(m) {
		return s.engine()
	}
	p, hasTokens := principalOf(ctx)
	if !mayReplay(ctx) {
		return nil, status.Errorf(codes.PermissionDenied,
			"roster_version, profile_version and plans_version (replays) need the auditor or admin role; the token of %s is %s", p.Name, p.Role)
	}
	ci := infoOf(ctx)
	ci.replay = true
	if hasTokens {
		ci.principal = p.Name
	}
	if faulty {
		return s.engine()
	}
	eng, err := s.replays().Engine(ctx, m.GetRosterVersion(), m.GetPlansVersion())
	if err != nil {
		return nil, replayStatus(ctx, err).Err()
	}
	return eng, nil
}

// replays is the server's Replays: the one SetReplays gave, or one that
// replays only the serving versions.
func (s *service) replays() *serving.Replays {
	if rp := s.replay.Load(); rp != nil {
		return rp
	}
	return s.noStore
}

// replayStatus maps a replay's failure to get its version: a malformed
// version is INVALID_ARGUMENT, an unknown one NOT_FOUND (both naming the
// field), one the store will not serve (retired, failed) or a server
// without a store FAILED_PRECONDITION, a store that failed UNAVAILABLE
// (its details only for admins).
func replayStatus(ctx context.Context, err error) *status.Status {
	if errors.Is(err, adequacy.ErrNoRoster) {
		return noRosterStatus()
	}
	field, resource, version := "roster_version", rosterVersionResource, ""
	if re, ok := errors.AsType[*serving.ReplayError](err); ok {
		version = adequacy.ExcerptN(re.Version, 32)
		if re.What == "plans" {
			field, resource = "plans_version", plansVersionResource
		}
	}
	msg := adequacy.ExcerptN(err.Error(), 2*maxDescription)
	br := func(desc string) *errdetails.BadRequest {
		return &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}}
	}
	switch code := adequacy.VersionCodeOf(err); {
	case code == adequacy.VersionBad:
		return withDetails(status.New(codes.InvalidArgument, "invalid request: "+field+": "+msg), br(msg))
	case code == adequacy.VersionUnknown:
		return withDetails(status.New(codes.NotFound, msg), br(msg),
			&errdetails.ResourceInfo{ResourceType: resource, ResourceName: version, Description: msg})
	case code != 0, errors.Is(err, serving.ErrNoVersionStore), errors.Is(err, adequacy.ErrEmptyRoster):
		return withDetails(status.New(codes.FailedPrecondition, msg),
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{Type: "VERSION", Subject: field, Description: msg}}})
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, msg)
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, msg)
	}
	if !mayAdminister(ctx) {
		msg = "replay " + field + " " + version + ": " + serving.PublicError(err)
	}
	return status.New(codes.Unavailable, msg)
}
