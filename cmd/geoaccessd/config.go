package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/cliflag"
	"github.com/geoaccess/geoaccess/internal/server"
)

// config is the daemon's configuration: flags, each also settable by the
// environment variable GEOACCESS_<FLAG> (upper case, '-' as '_'); a flag
// given on the command line wins over the environment.
type config struct {
	listen, metricsListen string
	roster                string
	db                    dbConfig // roster from PostgreSQL (reload_config.go)
	maxBadRows            int
	hsd                   string
	profileFiles          cliflag.Multi
	profileExpiry         adequacy.ExpiryPolicy
	servicesFile          string
	plansFile             string
	tz                    string
	logFormat             string
	logLevel              slog.Level
	tlsCert, tlsKey       string
	tlsClientCA           string
	authTokens            string
	keepalive             server.Keepalive
	maxRecvBytes          int
	maxSendBytes          int
	maxStreams            int
	maxGapReports         int
	maxConnStreams        int
	shutdownGrace         time.Duration
	pprof                 bool
	batch                 server.BatchConfig
	batchDecider          string
}

// envPrefix starts every environment variable the daemon reads.
const envPrefix = "GEOACCESS_"

func newFlagSet(c *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("geoaccessd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8443", "gRPC listen address (host:port)")
	fs.StringVar(&c.metricsListen, "metrics-listen", "127.0.0.1:9090", "Prometheus /metrics HTTP listen address; empty disables")
	fs.StringVar(&c.roster, "roster", "", "participating-provider roster CSV (default: the embedded sample roster)")
	registerDBFlags(fs, &c.db)
	fs.IntVar(&c.maxBadRows, "max-bad-rows", 0, "refuse a roster with more bad rows than this (-1: no limit)")
	fs.StringVar(&c.hsd, "hsd", "", "county table: CMS HSD reference workbook (.xlsx) or imported table (default: embedded CY2026)")
	fs.Var(&c.profileFiles, "profile-file", "extra standards profile, YAML or JSON (repeatable; env: comma-separated)")
	fs.StringVar(&c.servicesFile, "services-file", "", "extend or replace the services vocabulary with this YAML or JSON file (docs/services.md)")
	fs.StringVar(&c.plansFile, "plans-file", "", "client plans, YAML or JSON (docs/plans.md): requests may name a plan")
	fs.TextVar(&c.profileExpiry, "profile-expiry", adequacy.CarryForward, "a request for today past every loaded version of its profile: carry-forward (decide with the version that ended last, flagged profile_expired) or fail")
	fs.StringVar(&c.tz, "tz", "", "IANA time zone of the default as-of date and of --reload-at, e.g. America/Chicago (default: the host's)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log level: debug (every call), info, warn or error")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate (PEM); with --tls-key serves TLS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key (PEM)")
	fs.StringVar(&c.tlsClientCA, "tls-client-ca", "", "CA bundle (PEM): require client certificates it signed (mTLS)")
	fs.StringVar(&c.authTokens, "auth-tokens", "", "bearer token file, one \"token role name\" per line (roles reader, auditor, admin)")
	fs.DurationVar(&c.keepalive.Time, "keepalive-time", time.Minute, "ping a client after this long without activity")
	fs.DurationVar(&c.keepalive.Timeout, "keepalive-timeout", 20*time.Second, "close the connection when a ping is unanswered this long")
	fs.DurationVar(&c.keepalive.MinClientPingTime, "keepalive-min-ping", 10*time.Second, "close connections of clients that ping more often than this")
	fs.BoolVar(&c.keepalive.PermitWithoutStream, "keepalive-permit-without-stream", true, "allow client pings when no call is in flight")
	fs.DurationVar(&c.keepalive.MaxConnectionIdle, "max-connection-idle", 0, "close connections idle this long (0: never)")
	fs.DurationVar(&c.keepalive.MaxConnectionAge, "max-connection-age", 0, "close connections this old so clients rebalance (0: never)")
	fs.IntVar(&c.maxRecvBytes, "max-recv-bytes", server.DefaultMaxRecvBytes, "largest request message accepted, bytes")
	fs.IntVar(&c.maxSendBytes, "max-send-bytes", server.DefaultMaxSendBytes, "largest response message sent, bytes")
	fs.IntVar(&c.maxStreams, "max-streams", server.DefaultMaxStreams, "CheckAccessBatch, GapReport, AssessNetworkChange and GetProviderCriticality streams served at once; more are refused with RESOURCE_EXHAUSTED")
	fs.IntVar(&c.maxGapReports, "max-gap-reports", server.DefaultMaxGapReports, "GapReport, AssessNetworkChange and GetProviderCriticality streams served at once (each counts toward --max-streams too); more are refused with RESOURCE_EXHAUSTED")
	fs.IntVar(&c.maxConnStreams, "max-conn-streams", server.DefaultMaxConnStreams, "calls in flight on one connection (HTTP/2 MAX_CONCURRENT_STREAMS); a client's further calls wait")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 20*time.Second, "on SIGTERM, how long calls in flight may take to finish")
	fs.BoolVar(&c.pprof, "pprof", false, "also serve Go's /debug/pprof/ profiles on the metrics listener")
	fs.IntVar(&c.batch.ChunkSize, "batch-chunk-size", 1024, "CheckAccessBatch: items decided together")
	fs.StringVar(&c.batchDecider, "batch-decider", "spatial", "CheckAccessBatch: spatial (neighbours in a chunk share index searches) or parallel (one search per item)")
	fs.DurationVar(&c.batch.ChunkWait, "batch-chunk-wait", 2*time.Millisecond, "CheckAccessBatch: longest wait for a chunk to fill")
	fs.IntVar(&c.batch.Workers, "batch-workers", 0, "CheckAccessBatch: parallel workers per stream (0: one per CPU)")
	fs.Int64Var(&c.batch.BufferBytes, "batch-buffer-bytes", server.DefaultBatchBufferBytes, "CheckAccessBatch: encoded bytes of items and answers one stream holds before it stops reading")
	return fs
}

// parseConfig reads flags, then fills every flag not given from its
// environment variable.
func parseConfig(args []string, lookupEnv func(string) (string, bool), stderr io.Writer) (*config, error) {
	c := &config{}
	fs := newFlagSet(c, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if err := applyEnv(fs, lookupEnv); err != nil {
		return nil, err
	}
	return c, c.validate()
}

func applyEnv(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := lookupEnv(envName(f.Name))
		if !ok || given[f.Name] || err != nil {
			return
		}
		vals := []string{v}
		if _, multi := f.Value.(*cliflag.Multi); multi { // from the environment: a comma-separated list
			vals = splitList(v)
		}
		for _, s := range vals {
			if e := fs.Set(f.Name, s); e != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), e)
				return
			}
		}
	})
	return err
}

// envName is the environment variable of a flag: listen → GEOACCESS_LISTEN.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *config) validate() error {
	if err := c.validateDB(); err != nil {
		return err
	}
	switch {
	case c.logFormat != "text" && c.logFormat != "json":
		return fmt.Errorf("--log-format %q must be text or json", c.logFormat)
	case (c.tlsCert == "") != (c.tlsKey == ""):
		return fmt.Errorf("--tls-cert and --tls-key go together")
	case c.tlsClientCA != "" && c.tlsCert == "":
		return fmt.Errorf("--tls-client-ca (mTLS) needs --tls-cert and --tls-key")
	case c.shutdownGrace < 0:
		return fmt.Errorf("--shutdown-grace must not be negative")
	case c.maxRecvBytes <= 0 || c.maxSendBytes <= 0:
		return fmt.Errorf("--max-recv-bytes and --max-send-bytes must be positive")
	case c.maxStreams <= 0 || c.maxGapReports <= 0 || c.maxConnStreams <= 0 || c.batch.BufferBytes <= 0:
		return fmt.Errorf("--max-streams, --max-gap-reports, --max-conn-streams and --batch-buffer-bytes must be positive")
	}
	return nil
}
