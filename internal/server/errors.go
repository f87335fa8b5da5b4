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

// profileResource is the resource type NOT_FOUND answers name.
const profileResource = "geoaccess.v1.Profile"

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

func invalidStatus(bad *adequacy.InvalidRequest, rename func(string) string) *status.Status {
	br := &errdetails.BadRequest{}
	var msg strings.Builder
	msg.WriteString("invalid request: ")
	for i, v := range bad.Violations {
		field := v.Field
		if rename != nil {
			field = rename(field)
		}
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: field, Description: v.Reason})
		if i > 0 {
			msg.WriteString("; ")
		}
		msg.WriteString(field + ": " + v.Reason)
	}
	code := codes.InvalidArgument
	details := []protoadapt.MessageV1{br}
	if bad.NotFound {
		code = codes.NotFound
		details = append(details, &errdetails.ResourceInfo{ResourceType: profileResource, Description: bad.Violations[0].Reason})
	}
	return withDetails(status.New(code, msg.String()), details...)
}

// unknownProfileStatus is GetProfile's NOT_FOUND.
func unknownProfileStatus(field, name string, err error) *status.Status {
	br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: err.Error()}}}
	ri := &errdetails.ResourceInfo{ResourceType: profileResource, ResourceName: name, Description: err.Error()}
	return withDetails(status.New(codes.NotFound, err.Error()), br, ri)
}

// withDetails attaches details; a status that cannot carry them is sent
// without (it only fails for an OK status, which never gets here).
func withDetails(st *status.Status, details ...protoadapt.MessageV1) *status.Status {
	if s, err := st.WithDetails(details...); err == nil {
		return s
	}
	return st
}
