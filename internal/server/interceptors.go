package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// callInfo is what a handler tells the logging interceptor about its call:
// counts and versions only, never request content. A handler writes it
// before returning; the interceptor reads it after.
type callInfo struct {
	decisions [4]int // by adequacy.Discipline
	items     int    // batch items answered
	roster    string // roster version the answers rest on
	profiles  []profileUse
	replay    bool   // the call named a past version: logged at info, with its caller
	principal string // the caller's token name, for replays
}

type callInfoKey struct{}

// infoOf returns the call's info, or a scratch one outside an interceptor.
func infoOf(ctx context.Context) *callInfo {
	if ci, ok := ctx.Value(callInfoKey{}).(*callInfo); ok {
		return ci
	}
	return &callInfo{}
}

func (ci *callInfo) addDecisions(ds []adequacy.Decision) {
	for i := range ds {
		if d := ds[i].Discipline; int(d) < len(ci.decisions) {
			ci.decisions[d]++
		}
	}
	if len(ds) > 0 {
		ci.roster = ds[0].RosterVersion
	}
	if ci.replay {
		return // a replay's profile versions say nothing of what serves today
	}
	for i := range ds {
		n := 0
		if ds[i].ProfileExpired {
			n = 1
		}
		ci.useProfile(ds[i].Profile, n)
	}
}

// useProfile records that the call used a profile, carrying it past its
// end in n decisions.
func (ci *callInfo) useProfile(name string, carried int) {
	for i := range ci.profiles {
		if ci.profiles[i].name == name {
			ci.profiles[i].carried += carried
			return
		}
	}
	ci.profiles = append(ci.profiles, profileUse{name, carried})
}

// disciplineAttr renders counts as "PT=1" or "DC=10 PT=12".
func (ci *callInfo) disciplineAttr() string {
	var b strings.Builder
	for d, n := range ci.decisions {
		if n > 0 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s=%d", adequacy.Discipline(d), n)
		}
	}
	return b.String()
}

// interceptors observe, authorise and guard every call, outermost first:
// observation sees the final code, refusals included.
type interceptors struct {
	log     *slog.Logger
	metrics *metrics
	expiry  *expiryWatch
	tokens  *Tokens         // nil: no authentication
	admin   map[string]bool // extra admin methods (tests)
	streams chan struct{}   // a slot per costly stream served (Config.MaxStreams)
	gaps    chan struct{}   // a slot per report stream served (reportStreams, Config.MaxGapReports)
}

// costlyStreams are the calls Config.MaxStreams counts: each may hold a
// stream's byte budget or a whole gap report.
var costlyStreams = map[string]bool{
	pb.AdequacyService_CheckAccessBatch_FullMethodName:       true,
	pb.AdequacyService_GapReport_FullMethodName:              true,
	pb.AdequacyService_AssessNetworkChange_FullMethodName:    true,
	pb.AdequacyService_GetProviderCriticality_FullMethodName: true,
}

// reportStreams are the costly streams that evaluate a whole member set
// at once: Config.MaxGapReports counts them together.
var reportStreams = map[string]bool{
	pb.AdequacyService_GapReport_FullMethodName:              true,
	pb.AdequacyService_AssessNetworkChange_FullMethodName:    true,
	pb.AdequacyService_GetProviderCriticality_FullMethodName: true,
}

type principalKey struct{}

// principalOf is the holder of the call's bearer token; ok is false when
// the server has no tokens (then every caller may do everything).
func principalOf(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// mayAdminister reports whether the caller may see what admins see:
// every caller on a server without tokens, else the admin role.
func mayAdminister(ctx context.Context) bool {
	p, ok := principalOf(ctx)
	return !ok || p.Role == RoleAdmin
}

// mayReplay reports whether the caller may decide against past versions:
// every caller on a server without tokens, else the auditor and admin
// roles.
func mayReplay(ctx context.Context) bool {
	p, ok := principalOf(ctx)
	return !ok || p.Role == RoleAuditor || p.Role == RoleAdmin
}

func (ic *interceptors) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	ci := &callInfo{}
	ctx = context.WithValue(ctx, callInfoKey{}, ci)
	start := time.Now()
	defer func() { ic.observe(ctx, info.FullMethod, err, start, ci) }()
	if ic.tokens != nil {
		p, err := ic.tokens.authorize(ctx, info.FullMethod, ic.admin)
		if err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, principalKey{}, p)
	}
	defer ic.recoverInto(ctx, info.FullMethod, &err)
	return h(ctx, req)
}

func (ic *interceptors) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	ci := &callInfo{}
	ctx := context.WithValue(ss.Context(), callInfoKey{}, ci)
	start := time.Now()
	defer func() { ic.observe(ctx, info.FullMethod, err, start, ci) }()
	if ic.tokens != nil {
		p, err := ic.tokens.authorize(ctx, info.FullMethod, ic.admin)
		if err != nil {
			return err
		}
		ctx = context.WithValue(ctx, principalKey{}, p)
	}
	if costlyStreams[info.FullMethod] {
		release, err := ic.admit(info.FullMethod)
		if err != nil {
			return err
		}
		defer release()
	}
	defer ic.recoverInto(ctx, info.FullMethod, &err)
	return h(srv, &ctxStream{ServerStream: ss, ctx: ctx})
}

// ctxStream carries the call info in the stream's context.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *ctxStream) Context() context.Context { return s.ctx }

// recoverInto turns a handler panic into INTERNAL for that call alone.
func (ic *interceptors) recoverInto(ctx context.Context, method string, err *error) {
	if r := recover(); r != nil {
		ic.log.LogAttrs(ctx, slog.LevelError, "panic in handler", slog.String("method", method),
			slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(debug.Stack())))
		*err = status.Error(codes.Internal, "internal error")
	}
}

func (ic *interceptors) observe(ctx context.Context, method string, err error, start time.Time, ci *callInfo) {
	d := time.Since(start)
	code := callCode(ctx, err)
	ic.metrics.observeCall(method, code, d)
	ic.metrics.observeDecisions(&ci.decisions)
	ic.expiry.use(ci.profiles)
	level := levelFor(code)
	if ci.replay && level < slog.LevelInfo {
		level = slog.LevelInfo // an audit trail: who replayed which versions
	}
	if !ic.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("method", method), slog.String("code", code.String()),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000)}
	if s := ci.disciplineAttr(); s != "" {
		attrs = append(attrs, slog.String("decisions", s))
	}
	if ci.items > 0 {
		attrs = append(attrs, slog.Int("items", ci.items))
	}
	if ci.roster != "" {
		attrs = append(attrs, slog.String("roster_version", ci.roster))
	}
	if ci.replay {
		attrs = append(attrs, slog.Bool("replay", true))
		if ci.principal != "" {
			attrs = append(attrs, slog.String("caller", ci.principal))
		}
	}
	if serverFault(code) {
		// Server faults carry no request content; caller faults may echo
		// it (a latitude, a ZIP), so their messages are never logged.
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	ic.log.LogAttrs(ctx, level, "call", attrs...)
}

// deadlineSlack: a cancellation that arrives this close to the call's
// deadline is the deadline. The caller's deadline comes first (the
// server's is the caller's plus the request's way here), and its
// cancellation may arrive before the server's own timer fires.
const deadlineSlack = 25 * time.Millisecond

// callCode is the code a call is counted and logged with. A call whose
// caller went away — it canceled, or its deadline passed — ends with
// whatever the handler met on the way out (a failed send, a context
// error), which is counted as what happened: CANCELLED or
// DEADLINE_EXCEEDED, never the server's own UNAVAILABLE or UNKNOWN.
func callCode(ctx context.Context, err error) codes.Code {
	code := status.Code(err)
	if err == nil || ctx.Err() == nil {
		return code
	}
	switch code {
	case codes.Canceled, codes.DeadlineExceeded, codes.Unavailable, codes.Unknown:
	default:
		return code // the handler's own answer, reached before the caller left
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return codes.DeadlineExceeded
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < deadlineSlack {
		return codes.DeadlineExceeded
	}
	return codes.Canceled
}

// admit takes a slot for a costly stream (and a GapReport's own), or
// refuses it with RESOURCE_EXHAUSTED; release gives the slots back.
func (ic *interceptors) admit(method string) (release func(), err error) {
	select {
	case ic.streams <- struct{}{}:
	default:
		ic.metrics.refused.WithLabelValues(method).Inc()
		return nil, streamLimitStatus("CheckAccessBatch, GapReport, AssessNetworkChange and GetProviderCriticality streams", "--max-streams", cap(ic.streams)).Err()
	}
	gap := reportStreams[method]
	if gap {
		select {
		case ic.gaps <- struct{}{}:
		default:
			<-ic.streams
			ic.metrics.refused.WithLabelValues(method).Inc()
			return nil, streamLimitStatus("GapReport, AssessNetworkChange and GetProviderCriticality streams", "--max-gap-reports", cap(ic.gaps)).Err()
		}
	}
	ic.metrics.streams.Inc()
	return func() {
		if gap {
			<-ic.gaps
		}
		<-ic.streams
		ic.metrics.streams.Dec()
	}, nil
}

// streamLimitStatus refuses a costly stream over a limit.
func streamLimitStatus(what, flag string, limit int) *status.Status {
	st := status.Newf(codes.ResourceExhausted, "the server is serving its limit of %d %s (%s): retry with backoff", limit, what, flag)
	return withDetails(st,
		&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "server",
			Description: fmt.Sprintf("at most %d %s at once", limit, what)}}},
		&errdetails.ErrorInfo{Reason: "STREAM_LIMIT", Domain: "geoaccess.v1", Metadata: map[string]string{"limit": strconv.Itoa(limit), "flag": flag}})
}

// levelFor logs successful calls at debug (metrics count them), caller
// mistakes at info, and the server's own trouble at warn or error.
func levelFor(c codes.Code) slog.Level {
	switch {
	case c == codes.OK:
		return slog.LevelDebug
	case c == codes.Unavailable:
		return slog.LevelWarn
	case serverFault(c):
		return slog.LevelError
	}
	return slog.LevelInfo
}

func serverFault(c codes.Code) bool {
	switch c {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented:
		return true
	}
	return false
}
