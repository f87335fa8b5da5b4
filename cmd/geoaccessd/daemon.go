package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/server"
	"github.com/geoaccess/geoaccess/internal/serving"
)

// daemon is a configured server with its listeners.
type daemon struct {
	cfg     *config
	log     *slog.Logger
	srv     *server.Server
	lis     net.Listener
	metrics *http.Server
	mlis    net.Listener
	loc     *time.Location
	db      *dbRoster // with --db (reload.go)
}

func newDaemon(cfg *config, log *slog.Logger) (*daemon, error) {
	loc, err := timeZone(cfg.tz)
	if err != nil {
		return nil, err
	}
	eng, _, err := data.NewEngine(data.Setup{CountyTable: cfg.hsd, ProfileFiles: cfg.profileFiles, ServicesFile: cfg.servicesFile, PlansFile: cfg.plansFile})
	if err != nil {
		return nil, fmt.Errorf("build engine: %w", err)
	}
	eng.Expiry = cfg.profileExpiry
	switch cfg.batchDecider {
	case "spatial":
		cfg.batch.Decider = server.SpatialDecider()
	case "parallel":
		cfg.batch.Decider = nil // the per-item default
	default:
		return nil, fmt.Errorf("--batch-decider %q: want spatial or parallel", cfg.batchDecider)
	}
	scfg := server.Config{Engine: eng, Location: loc, Logger: log, Keepalive: cfg.keepalive,
		MaxRecvBytes: cfg.maxRecvBytes, MaxSendBytes: cfg.maxSendBytes, Batch: cfg.batch,
		MaxStreams: cfg.maxStreams, MaxGapReports: cfg.maxGapReports, MaxConnStreams: cfg.maxConnStreams}
	if scfg.TLS, err = tlsConfig(cfg); err != nil {
		return nil, err
	}
	if cfg.authTokens != "" {
		if scfg.Tokens, err = server.LoadTokens(cfg.authTokens); err != nil {
			return nil, err
		}
	}
	srv, err := server.New(scfg)
	if err != nil {
		return nil, err
	}
	d := &daemon{cfg: cfg, log: log, srv: srv, loc: loc}
	if d.lis, err = net.Listen("tcp", cfg.listen); err != nil {
		return nil, fmt.Errorf("gRPC listener: %w", err)
	}
	if cfg.metricsListen != "" {
		if d.mlis, err = net.Listen("tcp", cfg.metricsListen); err != nil {
			d.lis.Close()
			return nil, fmt.Errorf("metrics listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", srv.MetricsHandler())
		if cfg.pprof {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		d.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}
	log.Info("listening", slog.String("grpc", d.lis.Addr().String()), slog.String("metrics", addrOf(d.mlis)),
		slog.Bool("tls", scfg.TLS != nil), slog.Bool("mtls", cfg.tlsClientCA != ""), slog.Bool("auth_tokens", scfg.Tokens != nil),
		slog.String("tz", loc.String()))
	if scfg.Tokens != nil && scfg.TLS == nil {
		log.Warn("bearer tokens over plaintext: anyone on the path can read them; use --tls-cert and --tls-key")
	}
	return d, nil
}

func timeZone(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("--tz: %w", err)
	}
	return loc, nil
}

func tlsConfig(cfg *config) (*tls.Config, error) {
	if cfg.tlsCert == "" {
		return nil, nil
	}
	return server.TLSConfig(cfg.tlsCert, cfg.tlsKey, cfg.tlsClientCA)
}

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

// run serves until ctx ends (SIGTERM, SIGINT), then shuts down gracefully.
// The roster loads while the server already answers health (NOT_SERVING)
// and UNAVAILABLE; a failed first load stops the daemon.
func (d *daemon) run(ctx context.Context) error {
	serveErr := make(chan error, 2)
	go func() { serveErr <- d.srv.Serve(d.lis) }()
	if d.metrics != nil {
		go func() {
			if err := d.metrics.Serve(d.mlis); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("metrics: %w", err)
			}
		}()
	}
	loaded := make(chan error, 1)
	go func() {
		err := d.loadRoster(ctx)
		if err != nil && !errors.Is(err, serving.ErrLoadCanceled) {
			err = &startError{err}
		}
		loaded <- err
	}()
	var err error
	select {
	case err = <-loaded:
		if err == nil {
			select {
			case <-ctx.Done():
			case err = <-serveErr:
			}
		}
	case <-ctx.Done():
	case err = <-serveErr:
	}
	d.shutdown()
	if err != nil && ctx.Err() != nil && errors.Is(err, serving.ErrLoadCanceled) {
		err = nil // stopped while loading: a clean stop
	}
	return err
}

// startError is a failure to load the first roster: the daemon never
// served.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

func (d *daemon) shutdown() {
	d.log.Info("shutting down: draining calls in flight", slog.Duration("grace", d.cfg.shutdownGrace))
	start := time.Now()
	drained := d.srv.Shutdown(d.cfg.shutdownGrace)
	d.closeDB()
	if d.metrics != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		d.metrics.Shutdown(ctx) //nolint:errcheck // the process is ending; nothing left to do on error
		cancel()
	}
	if !drained {
		d.log.Warn("grace period over: calls still in flight were cut off", slog.Duration("grace", d.cfg.shutdownGrace))
	}
	d.log.Info("stopped", slog.Float64("drain_ms", float64(time.Since(start).Microseconds())/1000))
}

// loadRoster loads the configured roster: from PostgreSQL, a file or the
// embedded sample.
func (d *daemon) loadRoster(ctx context.Context) error {
	if d.cfg.db.url != "" {
		return d.loadFromDB(ctx)
	}
	name, load := "embedded sample", func(context.Context) (*adequacy.Roster, error) { return data.SampleRoster() }
	if d.cfg.roster != "" {
		name, load = "file", d.readRosterFile
	}
	start := time.Now()
	if err := d.srv.Roster().Load(ctx, name, load); err != nil {
		return err
	}
	d.log.Info("serving", slog.String("roster_version", d.srv.Roster().Status().Version),
		slog.Float64("load_ms", float64(time.Since(start).Microseconds())/1000))
	return nil
}

// maxLoggedRowErrors caps the bad-row lines logged at startup.
const maxLoggedRowErrors = 20

// readRosterFile reads the roster CSV. Bad rows are logged by line and
// column only: their values are provider addresses and coordinates.
func (d *daemon) readRosterFile(context.Context) (*adequacy.Roster, error) {
	start := time.Now()
	r, rep, err := data.ReadRosterFile(d.cfg.roster, d.cfg.maxBadRows, d.srv.Roster().Base().Vocabulary)
	if rep != nil {
		for i, re := range rep.Errors {
			if i == maxLoggedRowErrors {
				d.log.Warn("roster: more bad rows not logged", slog.Int("bad_rows", rep.Bad))
				break
			}
			d.log.Warn("roster: row skipped", slog.Int("line", re.Line), slog.String("column", re.Column))
		}
	}
	var bad *data.BadRows
	if errors.As(err, &bad) {
		// BadRows.Error quotes row values; the rows are logged above.
		return nil, fmt.Errorf("%s: %d of %d rows are bad (limit %d, --max-bad-rows): %w", bad.File, bad.Bad, bad.Rows, bad.Limit, data.ErrTooManyBadRows)
	}
	if err != nil {
		return nil, err
	}
	if rep.Unplaced > 0 {
		// Provider locations, not members': the lines are safe to log.
		d.log.Warn("roster: providers in no county, served without one; check their coordinates",
			slog.Int("unplaced", rep.Unplaced), slog.Any("lines", rep.UnplacedLines))
	}
	d.log.Info("roster read", slog.Int("rows", rep.Rows), slog.Int("accepted", rep.Accepted), slog.Int("bad_rows", rep.Bad),
		slog.Int("unplaced", rep.Unplaced), slog.Float64("read_ms", float64(time.Since(start).Microseconds())/1000))
	return r, nil
}
