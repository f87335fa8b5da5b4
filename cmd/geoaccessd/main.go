// Command geoaccessd is the geoaccess gRPC server: AdequacyService
// (geoaccess.v1), grpc.health.v1 and server reflection, with Prometheus
// metrics on a separate HTTP port. It only reads configuration and wires
// internal/server to listeners and signals, and with --db a PostgreSQL
// version source (internal/serving/pgsource) into the roster reloader
// (internal/serving) that it hands the server; docs/operations.md lists every
// flag and GEOACCESS_* environment variable.
//
//	geoaccessd --listen 127.0.0.1:8443 --metrics-listen 127.0.0.1:9090
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // --tz works on hosts without a zoneinfo database
)

func main() {
	// The roster is a large, pointer-rich heap that barely changes: marking
	// it on every doubling of the heap sets the tail latency. Collect at
	// five times the live heap unless GOGC says otherwise
	// (docs/operations.md, "Tuning").
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the daemon: 0 after a clean shutdown, 1 when it could not start
// or serve, 2 for a bad command line.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) int {
	cfg, err := parseConfig(args, lookupEnv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "geoaccessd: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	d, err := newDaemon(cfg, log)
	if err != nil {
		log.Error("cannot start", slog.String("error", err.Error()))
		return 1
	}
	if err := d.run(ctx); err != nil {
		msg := "stopped with an error"
		if se := (*startError)(nil); errors.As(err, &se) {
			msg = "cannot start: the roster cannot be served"
		}
		log.Error(msg, slog.String("error", err.Error()))
		return 1
	}
	return 0
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
