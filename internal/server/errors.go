package server

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/geoaccess/geoaccess/adequacy"
)

// The resource types NOT_FOUND answers name.
const (
	profileResource = "geoaccess.v1.Profile"
	planResource    = "geoaccess.v1.Plan"
)

// errorStatus maps a domain error to a gRPC status. Caller mistakes are
// INVALID_ARGUMENT (or NOT_FOUND for an unknown profile) with a
// google.rpc.BadRequest naming each field; a missing roster is
// UNAVAILABLE; only what is left is INTERNAL. faults are the conversion's
// own findings (see domainRequest); rename maps domain field names to
// protocol field paths where they differ.
func errorStatus(err error, faults []adequacy.FieldViolation, rename func(string) string) *status.Status {
	var bad *adequacy.InvalidRequest
	switch {
	case errors.As(err, &bad) || len(faults) > 0:
		return invalidStatus(mergeFaults(bad, faults), rename)
	case errors.Is(err, adequacy.ErrNoRoster):
		return noRosterStatus()
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, err.Error())
	}
	return status.New(codes.Internal, err.Error())
}

func noRosterStatus() *status.Status {
	return status.New(codes.Unavailable, "no roster is loaded yet: retry shortly (health reports SERVING once one is)")
}

// mergeFaults combines the domain's violations with the conversion's: a
// fault replaces the domain's reason for the same field (the domain saw
// only the placeholder the fault left), and a fault for a field the
// domain did not mention is added.
func mergeFaults(bad *adequacy.InvalidRequest, faults []adequacy.FieldViolation) *adequacy.InvalidRequest {
	if len(faults) == 0 {
		return bad
	}
	out := &adequacy.InvalidRequest{}
	used := make([]bool, len(faults))
	if bad != nil {
		for _, v := range bad.Violations {
			for i, f := range faults {
				if f.Field == v.Field && !used[i] {
					v.Reason, used[i] = f.Reason, true
				}
			}
			out.Violations = append(out.Violations, v)
		}
	}
	for i, f := range faults {
		if !used[i] {
			out.Violations = append(out.Violations, f)
		}
	}
	return out
}

// invalidStatus is INVALID_ARGUMENT (or NOT_FOUND) with at most
// MaxViolations violations (one more entry counts the rest), each
// description at most maxDescription bytes.
func invalidStatus(bad *adequacy.InvalidRequest, rename func(string) string) *status.Status {
	br := &errdetails.BadRequest{}
	var msg strings.Builder
	msg.WriteString("invalid request: ")
	for i, v := range capViolations(bad.Violations) {
		field, reason := v.Field, adequacy.ExcerptN(v.Reason, maxDescription)
		if rename != nil && field != "" {
			field = rename(field)
		}
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: field, Description: reason})
		if i > 0 {
			msg.WriteString("; ")
		}
		if field != "" {
			msg.WriteString(field + ": ")
		}
		msg.WriteString(reason)
	}
	code := codes.InvalidArgument
	details := []protoadapt.MessageV1{br}
	if bad.NotFound {
		code = codes.NotFound
		kind := profileResource
		if errors.Is(bad, adequacy.ErrUnknownPlan) {
			kind = planResource
		}
		details = append(details, &errdetails.ResourceInfo{ResourceType: kind, Description: br.FieldViolations[0].Description})
	}
	return withDetails(status.New(code, msg.String()), details...)
}

// unknownProfileStatus is GetProfile's NOT_FOUND.
func unknownProfileStatus(field, name string, err error) *status.Status {
	desc := adequacy.ExcerptN(err.Error(), maxDescription)
	br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: desc}}}
	ri := &errdetails.ResourceInfo{ResourceType: profileResource, ResourceName: adequacy.Excerpt(name), Description: desc}
	return withDetails(status.New(codes.NotFound, desc), br, ri)
}

// withDetails attaches details; a status that cannot carry them is sent
// without (it only fails for an OK status, which never gets here).
func withDetails(st *status.Status, details ...protoadapt.MessageV1) *status.Status {
	if s, err := st.WithDetails(details...); err == nil {
		return s
	}
	return st
}
