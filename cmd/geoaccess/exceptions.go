package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/report"
)

func init() {
	register("exceptions", "exception-request packets (42 CFR 422.116(f)) for every failing county x specialty", runExceptions)
}

func runExceptions(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("exceptions", "exceptions --members FILE (--roster FILE | --db URL) --candidates FILE --out DIR [--profile cms-ma] [--as-of D] [--service-area CODES|FILE]", stderr)
	var ff filingFlags
	ff.register(fs, "member CSV: member_id, then lat and lon or zip, optional county_fips (required)")
	candidates := fs.String("candidates", "", "non-contracted providers near the plan's members: a roster CSV with contract_status, status_date and notes (required)")
	nearest := fs.Int("nearest", 10, "contracted providers beyond the standard to list in each packet")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if ff.members == "" || *candidates == "" {
		return fmt.Errorf("%w: --members and --candidates are required", errUsage)
	}
	if *nearest < 1 || *nearest > 100 {
		return fmt.Errorf("%w: --nearest must be 1 to 100", errUsage)
	}
	if ff.ef.roster == "" && !ff.ef.fromDB() {
		return fmt.Errorf("%w: give the contracted network with --roster FILE or --db URL", errUsage)
	}
	dst, err := ff.output("exceptions", report.ExceptionFiles(), []string{report.ExceptionsDir}, *candidates)
	if err != nil {
		return err
	}
	defer dst.Abort() // does nothing after Commit
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fl, err := ff.prepare(ctx, "exceptions", stderr)
	if err != nil {
		return err
	}
	cands, bad, err := readCandidates(*candidates, fl.eng)
	if err != nil {
		return err
	}
	exs, skip, err := fl.rep.Exceptions(ctx, cands, adequacy.ExceptionOptions{Nearest: *nearest})
	if err != nil {
		return err
	}
	rctx := report.ExceptionContext{Profile: fl.rep.Profile, AsOf: fl.rep.AsOf, RosterVersion: fl.rep.RosterVersion,
		CountySource: fl.rep.CountySource, Area: fl.area, Census: "Member file"}
	packets, err := report.WriteExceptions(dst.Dir(), exs, rctx)
	if err != nil {
		return err
	}
	if err := report.WriteRejected(dst.Dir(), fl.rejected); err != nil {
		return err
	}
	rc := make([]report.RejectedCandidate, len(bad))
	for i, e := range bad {
		rc[i] = report.RejectedCandidate{Line: e.Line, NPI: e.Key, Column: e.Column, Value: e.Value, Reason: e.Reason}
	}
	if err := report.WriteRejectedCandidates(dst.Dir(), rc); err != nil {
		return err
	}
	if err := dst.Commit(); err != nil {
		return fmt.Errorf("exceptions: %w", err)
	}
	fmt.Fprintln(stdout, fl.censusLine())
	fmt.Fprintln(stdout, fl.areaLine())
	fmt.Fprintf(stdout, "candidates: %d read, %d rows rejected (rejected_candidates.csv), %d that would not count under the profile, %d of other specialties\n",
		len(cands), badRows(bad), skip.NotCounting, skip.OtherDiscipline)
	fmt.Fprintf(stdout, "failing county x specialty rows: %d; packets: %d in %s (exceptions.csv lists them)\n", len(exs), packets,
		filepath.Join(ff.out, report.ExceptionsDir))
	fmt.Fprintln(stdout, "wrote "+ff.out)
	return nil
}

func readCandidates(path string, eng *adequacy.Engine) ([]adequacy.Candidate, []data.RowError, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("exceptions: %w", err)
	}
	defer f.Close()
	cands, bad, err := data.ReadCandidates(f, eng.Map)
	if err != nil {
		return nil, nil, fmt.Errorf("exceptions: %s: %w", path, err)
	}
	return cands, bad, nil
}

// badRows counts the distinct lines among row errors.
func badRows(errs []data.RowError) int {
	lines := map[int]bool{}
	for _, e := range errs {
		lines[e.Line] = true
	}
	return len(lines)
}
