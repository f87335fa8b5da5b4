package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/serving"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// Config is everything a Server needs; zero values take the defaults
// given on each field.
type Config struct {
	// Engine is the decision engine without a network: geography, county
	// table and profiles. Required. Rosters are loaded with
	// Server.Roster().Load or by a reloader (Server.SetReloader).
	Engine *adequacy.Engine
	// Location is the time zone of the default as-of date; nil = UTC.
	Location *time.Location
	// Logger receives the call and lifecycle logs; nil = none.
	Logger *slog.Logger
	// TLS serves TLS (set ClientAuth and ClientCAs for mTLS); nil =
	// plaintext.
	TLS *tls.Config
	// Tokens, when set, requires a bearer token on every call but health.
	Tokens *Tokens
	// AdminMethods adds full method names to AdminMethods for this server.
	AdminMethods []string
	// Keepalive: server pings and the policy clients' pings must follow.
	Keepalive Keepalive
	// MaxRecvBytes and MaxSendBytes limit one message; 0 = 4 MiB and 16 MiB.
	MaxRecvBytes, MaxSendBytes int
	// Batch tunes CheckAccessBatch.
	Batch BatchConfig
	// MaxStreams caps the CheckAccessBatch, GapReport,
	// AssessNetworkChange and GetProviderCriticality streams the server
	// serves at once (the costly calls: each may hold
	// Batch.BufferBytes, or a whole gap report); one more is refused with
	// RESOURCE_EXHAUSTED and a google.rpc.QuotaFailure. 0 =
	// DefaultMaxStreams.
	MaxStreams int
	// MaxGapReports caps the GapReport, AssessNetworkChange and
	// GetProviderCriticality streams among them: each holds
	// its members and rows (about 200 MB for 100,000 members), so few run
	// at once; one more is refused the same way. 0 = DefaultMaxGapReports.
	MaxGapReports int
	// MaxConnStreams caps the calls in flight on one connection, every
	// method (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS): a client's further
	// calls wait for one to end. 0 = DefaultMaxConnStreams.
	MaxConnStreams int
	// Registry receives the metrics; nil = a new registry.
	Registry *prometheus.Registry
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// ExpiryWarning: warn when a standards profile in use has less than
	// this left; 0 = DefaultExpiryWarning. (What a request for today does
	// past a profile's end is Engine.Expiry.)
	ExpiryWarning time.Duration
}

// Keepalive configures keepalive; zero fields take the defaults shown.
type Keepalive struct {
	Time                time.Duration // ping an idle connection after this; 0 = 1m
	Timeout             time.Duration // close it when the ping is not answered within; 0 = 20s
	MaxConnectionIdle   time.Duration // close connections idle this long; 0 = never
	MaxConnectionAge    time.Duration // close connections this old (rebalancing); 0 = never
	MinClientPingTime   time.Duration // clients pinging more often are closed; 0 = 10s
	PermitWithoutStream bool          // allow client pings with no call in flight
}

// Default message size limits.
const (
	DefaultMaxRecvBytes = 4 << 20
	DefaultMaxSendBytes = 16 << 20
)

// Default stream limits (docs/operations.md sizes them).
const (
	DefaultMaxStreams     = 16
	DefaultMaxGapReports  = 1
	DefaultMaxConnStreams = 100
)

// Flow-control windows. gRPC's default lets the window of a busy stream
// grow to 16 MiB (BDP estimation), which a caller that sends without
// reading can fill on every stream; fixed windows bound what the
// transport buffers per stream and per connection. 1 MiB keeps a
// loopback or LAN stream at full speed (docs/benchmarks.md).
const (
	streamWindow = 1 << 20
	connWindow   = 4 << 20
)

// Server is the geoaccess gRPC server: AdequacyService, health and
// reflection, with metrics for a separate HTTP listener.
type Server struct {
	grpc       *grpc.Server
	health     *health.Server
	roster     *serving.Holder
	svc        *service
	metrics    *metrics
	expiry     *expiryWatch
	stopExpiry context.CancelFunc
	log        *slog.Logger
}

// HealthService is the service name health reports besides "" (the whole
// server).
const HealthService = "geoaccess.v1.AdequacyService"

// New builds a server. It serves nothing until Serve, and answers
// UNAVAILABLE (health NOT_SERVING) until a roster is loaded.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("server: Config.Engine is required")
	}
	if cfg.Engine.Network != nil {
		return nil, errors.New("server: Config.Engine must have no network: load rosters with Roster().Load")
	}
	cfg = withDefaults(cfg)
	s := &Server{log: cfg.Logger, health: health.NewServer()}
	s.metrics = newMetrics(cfg.Registry, cfg.Now)
	s.expiry = newExpiryWatch(cfg, cfg.Registry)
	s.roster = serving.NewHolder(cfg.Engine, cfg.Now)
	s.roster.OnChange(s.metrics.rosterChanged)
	s.roster.OnChange(s.rosterChanged)
	s.grpc = grpc.NewServer(serverOptions(cfg, s)...)
	s.svc = &service{roster: s.roster, loc: cfg.Location, now: cfg.Now, batch: cfg.Batch, metrics: s.metrics, expiry: s.expiry,
		noStore: serving.NewReplays(s.roster, nil, serving.ReplayConfig{Versions: -1})}
	pb.RegisterAdequacyServiceServer(s.grpc, s.svc)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	s.health.SetServingStatus(HealthService, healthpb.HealthCheckResponse_NOT_SERVING)
	ctx, cancel := context.WithCancel(context.Background())
	s.stopExpiry = cancel
	go s.expiry.run(ctx)
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.MaxRecvBytes <= 0 {
		cfg.MaxRecvBytes = DefaultMaxRecvBytes
	}
	if cfg.MaxSendBytes <= 0 {
		cfg.MaxSendBytes = DefaultMaxSendBytes
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.MaxGapReports <= 0 {
		cfg.MaxGapReports = DefaultMaxGapReports
	}
	if cfg.MaxConnStreams <= 0 {
		cfg.MaxConnStreams = DefaultMaxConnStreams
	}
	if cfg.ExpiryWarning <= 0 {
		cfg.ExpiryWarning = DefaultExpiryWarning
	}
	cfg.Keepalive = cfg.Keepalive.withDefaults()
	cfg.Batch = cfg.Batch.withDefaults()
	return cfg
}

func (k Keepalive) withDefaults() Keepalive {
	if k.Time <= 0 {
		k.Time = time.Minute
	}
	if k.Timeout <= 0 {
		k.Timeout = 20 * time.Second
	}
	if k.MinClientPingTime <= 0 {
		k.MinClientPingTime = 10 * time.Second
	}
	return k
}

func serverOptions(cfg Config, s *Server) []grpc.ServerOption {
	admin := map[string]bool{}
	for _, m := range cfg.AdminMethods {
		admin[m] = true
	}
	ic := &interceptors{log: cfg.Logger, metrics: s.metrics, expiry: s.expiry, tokens: cfg.Tokens, admin: admin,
		streams: make(chan struct{}, cfg.MaxStreams), gaps: make(chan struct{}, cfg.MaxGapReports)}
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(ic.unary),
		grpc.ChainStreamInterceptor(ic.stream),
		// Reused stream workers keep their grown stacks: a fresh goroutine
		// per call would grow and copy its stack through every Decide.
		grpc.NumStreamWorkers(uint32(streamWorkers())),
		grpc.MaxRecvMsgSize(cfg.MaxRecvBytes),
		grpc.MaxSendMsgSize(cfg.MaxSendBytes),
		grpc.MaxConcurrentStreams(uint32(cfg.MaxConnStreams)),
		grpc.InitialWindowSize(streamWindow),
		grpc.InitialConnWindowSize(connWindow),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: cfg.Keepalive.Time, Timeout: cfg.Keepalive.Timeout,
			MaxConnectionIdle: cfg.Keepalive.MaxConnectionIdle, MaxConnectionAge: cfg.Keepalive.MaxConnectionAge}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: cfg.Keepalive.MinClientPingTime,
			PermitWithoutStream: cfg.Keepalive.PermitWithoutStream}),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	return opts
}

// streamWorkers is enough workers for a busy server's concurrent calls;
// beyond them gRPC starts a goroutine per call as usual.
func streamWorkers() int { return 32 * runtime.GOMAXPROCS(0) }

// rosterChanged moves health to SERVING once a roster serves. A failed
// reload leaves health as it was: the previous roster still serves.
func (s *Server) rosterChanged(st serving.RosterStatus) {
	if st.Loaded {
		s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		s.health.SetServingStatus(HealthService, healthpb.HealthCheckResponse_SERVING)
	}
	lr := st.LastReload
	if lr.Success {
		s.log.Info("roster loaded", slog.String("roster_version", st.Version), slog.String("loader", lr.Loader),
			slog.Int("providers", st.Stats.Total))
	} else {
		s.log.Error("roster load failed", slog.String("loader", lr.Loader), slog.String("serving_version", st.Version))
	}
}

// Roster is the holder of the serving roster: load rosters with its
// Load, or keep it in step with a version store with a
// serving.Reloader (SetReloader).
func (s *Server) Roster() *serving.Holder { return s.roster }

// SetReloader hands the server the reloader that keeps its roster in
// step with a version store (geoaccessd --db): the admin RPCs
// ReloadRoster and GetRosterDiff use it, and its metrics join the
// server's. rl must reload this server's holder (Roster()); a server
// takes one reloader. Without one, the admin RPCs answer
// FAILED_PRECONDITION (ErrNoReloader).
func (s *Server) SetReloader(rl *serving.Reloader) error {
	if rl.Holder() != s.roster {
		return errors.New("server: the reloader keeps another holder than Roster() in step")
	}
	if s.svc.reloader.Load() != nil {
		return errors.New("server: a reloader is already set")
	}
	if err := s.metrics.reg.Register(rl.Collector()); err != nil {
		return fmt.Errorf("server: reload metrics: %w", err)
	}
	s.svc.reloader.Store(rl)
	return nil
}

// SetReplays hands the server the replays that read past roster and
// plans versions from a version store (geoaccessd --db): CheckAccess and
// EvaluateNegotiation with roster_version or plans_version use it, and
// its metrics join the server's. rp must replay over this server's holder
// (Roster()); a server takes one. Without it, a replay may name only the
// versions the server serves (others are FAILED_PRECONDITION), and any
// profile version it has loaded.
func (s *Server) SetReplays(rp *serving.Replays) error {
	if rp.Holder() != s.roster {
		return errors.New("server: the replays read over another holder than Roster()")
	}
	if s.svc.replay.Load() != nil {
		return errors.New("server: replays are already set")
	}
	if err := s.metrics.reg.Register(rp.Collector()); err != nil {
		return fmt.Errorf("server: replay metrics: %w", err)
	}
	s.svc.replay.Store(rp)
	return nil
}

// Serve serves gRPC on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("serve gRPC on %s: %w", lis.Addr(), err)
	}
	return nil
}

// MetricsHandler serves the Prometheus metrics.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Shutdown stops the server: health turns NOT_SERVING, no new calls are
// accepted, calls in flight may finish within grace, then the rest are
// cut off. It reports whether every call finished in time.
func (s *Server) Shutdown(grace time.Duration) bool {
	s.stopExpiry()
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		s.grpc.Stop()
		<-done
		return false
	}
}
