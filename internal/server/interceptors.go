package server

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
)

// callInfo is what a handler tells the logging interceptor about its call:
// counts and versions only, never request content. A handler writes it
// before returning; the interceptor reads it after.
type callInfo struct {
	decisions [4]int // by adequacy.Discipline
	items     int    // batch items answered
	roster    string // roster version the answers rest on
	profiles  []profileUse
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
}

func (ic *interceptors) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	ci := &callInfo{}
	ctx = context.WithValue(ctx, callInfoKey{}, ci)
	start := time.Now()
	defer func() { ic.observe(ctx, info.FullMethod, err, start, ci) }()
	if ic.tokens != nil {
		if _, err := ic.tokens.authorize(ctx, info.FullMethod, ic.admin); err != nil {
			return nil, err
		}
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
		if _, err := ic.tokens.authorize(ctx, info.FullMethod, ic.admin); err != nil {
			return err
		}
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
	code := status.Code(err)
	ic.metrics.observeCall(method, code, d)
	ic.metrics.observeDecisions(&ci.decisions)
	ic.expiry.use(ci.profiles)
	level := levelFor(code)
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
	if serverFault(code) {
		// Server faults carry no request content; caller faults may echo
		// it (a latitude, a ZIP), so their messages are never logged.
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	ic.log.LogAttrs(ctx, level, "call", attrs...)
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
