package server

import (
	"fmt"

	"github.com/geoaccess/geoaccess/adequacy"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// Limits on what one request may hold. A repeated field over its limit is
// refused with one field violation before any of its elements is looked
// at, so a small message cannot make the server do (or say) a million
// things. docs/api.md lists them.
const (
	// MaxDisciplines is the most elements of a disciplines field
	// (CheckAccess, a CheckAccessBatch item, GapReport). There are four
	// disciplines and each may be asked once; a few more still get a
	// precise violation per element.
	MaxDisciplines = 16
	// MaxGapMembers is the most members of one GapReport request (at
	// about 60 bytes a member, a 4 MiB message holds 70,000); larger
	// member files suit the geoaccess gap command.
	MaxGapMembers = 100_000
	// MaxCandidates is the most recruitment candidates of one GapReport.
	MaxCandidates = 10_000
	// MaxCredits is the most credits one GapReport may claim.
	MaxCredits = 16
	// MaxGapServices is the most services one GapReport may report (each
	// adds a layer per discipline of the service to the evaluation).
	MaxGapServices = 16
	// MaxCandidateCodes is the most designations, and the most services,
	// one recruitment candidate may list.
	MaxCandidateCodes = 16
	// MaxViolations is the most field violations one error carries; one
	// more entry counts the rest.
	MaxViolations = 20
	// maxDescription bounds one violation's description. Every value the
	// domain quotes is already cut to an excerpt (adequacy.Excerpt); this
	// keeps any message the server sends within a few KB regardless.
	maxDescription = 512
)

// tooMany is the violation of a repeated field with n elements, over its
// limit.
func tooMany(field string, n, limit int, why string) adequacy.FieldViolation {
	return adequacy.FieldViolation{Field: field, Reason: fmt.Sprintf("%d elements: at most %d%s", n, limit, why)}
}

const disciplinesWhy = " (DC, PT, OT and ST, each at most once)"

// gapLimits checks a GapReport's repeated fields against their limits.
func gapLimits(req *pb.GapReportRequest) []adequacy.FieldViolation {
	var out []adequacy.FieldViolation
	if n := len(req.GetMembers()); n > MaxGapMembers {
		out = append(out, tooMany("members", n, MaxGapMembers, "; larger member files suit the geoaccess gap command"))
	}
	if n := len(req.GetDisciplines()); n > MaxDisciplines {
		out = append(out, tooMany("disciplines", n, MaxDisciplines, disciplinesWhy))
	}
	if n := len(req.GetCandidates()); n > MaxCandidates {
		out = append(out, tooMany("candidates", n, MaxCandidates, ""))
	}
	if n := len(req.GetCredits()); n > MaxCredits {
		out = append(out, tooMany("credits", n, MaxCredits, ""))
	}
	if n := len(req.GetServices()); n > MaxGapServices {
		out = append(out, tooMany("services", n, MaxGapServices, ""))
	}
	for i, c := range req.GetCandidates() {
		if i == MaxCandidates {
			break
		}
		if n := len(c.GetDesignations()); n > MaxCandidateCodes {
			out = append(out, tooMany(fmt.Sprintf("candidates[%d].designations", i), n, MaxCandidateCodes, ""))
		}
		if n := len(c.GetServices()); n > MaxCandidateCodes {
			out = append(out, tooMany(fmt.Sprintf("candidates[%d].services", i), n, MaxCandidateCodes, ""))
		}
	}
	return out
}

// capViolations keeps the first MaxViolations violations and counts the
// rest in one more.
func capViolations(vs []adequacy.FieldViolation) []adequacy.FieldViolation {
	if len(vs) <= MaxViolations {
		return vs
	}
	out := append([]adequacy.FieldViolation(nil), vs[:MaxViolations]...)
	return append(out, adequacy.FieldViolation{Reason: fmt.Sprintf("… and %d more field violations", len(vs)-MaxViolations)})
}
