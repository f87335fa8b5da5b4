package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/cliflag"
	"github.com/geoaccess/geoaccess/internal/par"
	"github.com/geoaccess/geoaccess/internal/report"
)

func init() {
	register("gap", "gap report over a member file: county tables, unserved members, maps, recruitment targets", runGap)
}

func runGap(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gap", "gap --members FILE --out DIR [--profile cms-ma | --plan ID] [--service CODE]... [--roster FILE] [--candidates FILE [--recruit-service CODE]] [--detail]", stderr)
	var ef engineFlags
	var credits, services cliflag.Multi
	members := fs.String("members", "", "member CSV: member_id, then lat and lon or zip, optional county_fips (required)")
	out := fs.String("out", "", "directory for the report files (created if needed; required): its report files are replaced, other files left alone")
	profile := fs.String("profile", "", "standards profile (default: the plan's, or "+data.DefaultProfile+")")
	candidates := fs.String("candidates", "", "roster-shaped CSV of non-participating providers to rank for recruitment (its designations and services columns say what they offer)")
	detail := fs.Bool("detail", false, "also write member_access.csv: every member × discipline (and × service)")
	fs.Var(&services, "service", "also report a service (e.g. lymphedema): county × service rows, unserved members and a map, decided across the service's disciplines (repeatable)")
	plan := fs.String("plan", "", "the members' plan (with --plans-file, or the current plans in --db): only its networks count, under its profile; members outside its service area are rejected")
	recruitService := fs.String("recruit-service", "", "with --candidates: rank candidates offering this service against the members unserved for it (added to --service if not there)")
	disc := fs.String("discipline", "", "disciplines to report (default: every one the profile covers)")
	fs.Var(&credits, "credit", "claim a profile credit that applies on request, e.g. new_or_expanding_applicant (repeatable)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile here (for performance work)")
	ef.register(fs)
	ef.registerProfileVersion(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *members == "" || *out == "" {
		return fmt.Errorf("%w: --members and --out are required", errUsage)
	}
	if *recruitService != "" && *candidates == "" {
		return fmt.Errorf("%w: --recruit-service needs --candidates", errUsage)
	}
	// Refuse a symlinked --out, and inputs the report would overwrite,
	// before anything is read or written; write beside it, then swap.
	inputs := append([]string{*members, *candidates, ef.roster, ef.countyTable, ef.servicesFile, ef.plansFile, *cpuprofile}, ef.profileFiles...)
	vocab, err := data.LoadVocabulary(ef.servicesFile)
	if err != nil {
		return err
	}
	var codes []string // every service's map is a file the report owns
	for _, s := range vocab.Services() {
		codes = append(codes, s.Code)
	}
	dst, err := report.NewOutputFor(*out, report.GapFiles(codes), nil, inputs...)
	if err != nil {
		return fmt.Errorf("gap: --out: %w", err)
	}
	defer dst.Abort() // does nothing after Commit
	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	phase := phaseTimer(stderr)
	opts := adequacy.GapOptions{Profile: *profile, ProfileVersion: ef.profileVersion, Detail: *detail, Credits: credits, Services: services, Plan: *plan}
	if *recruitService != "" && !slices.ContainsFunc(services, func(c string) bool { return sameService(vocab, c, *recruitService) }) {
		opts.Services = append(opts.Services, *recruitService)
	}
	if opts.AsOf, opts.AsOfToday, err = ef.date(); err != nil {
		return err
	}
	if *disc != "" {
		if opts.Disciplines, err = parseDisciplines(*disc); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	prog := newProgress(stderr)
	// Reading the member file and loading the engine are independent: do
	// them at once.
	type read struct {
		ms  []adequacy.GapMember
		rej []report.Rejected
		err error
	}
	readDone := make(chan read, 1)
	go func() {
		ms, rej, err := readMembers(*members, prog)
		readDone <- read{ms, rej, err}
	}()
	eng, err := ef.engine(stderr)
	if err != nil {
		return err
	}
	phase("engine and roster")
	rd := <-readDone
	if rd.err != nil {
		return rd.err
	}
	ms, rejected := rd.ms, rd.rej
	phase("read members")
	opts.Progress = func(done, total int) { prog.update("evaluated", done, total) }
	rep, err := eng.Gap(ctx, ms, opts)
	prog.done()
	if err != nil && !errors.Is(err, adequacy.ErrNoMembers) {
		return gapFlagError(err)
	}
	phase("evaluate")
	for _, r := range rep.Rejected {
		rejected = append(rejected, report.Rejected{Line: r.Line, MemberID: r.MemberID, Column: report.MemberColumn(r.Field), Reason: r.Reason})
	}
	var picks []adequacy.RecruitPick
	if *candidates != "" {
		if picks, err = recruit(ctx, rep, *candidates, *recruitService, eng.Vocabulary, stderr); err != nil {
			return err
		}
	}
	phase("recruit")
	if err := writeGapFiles(dst.Dir(), eng, rep, rejected, picks, *detail); err != nil {
		return err
	}
	if err := dst.Commit(); err != nil {
		return fmt.Errorf("gap: %w", err)
	}
	phase("write files")
	report.WriteSummary(stdout, rep, len(rejected), picks)
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	if rep.Members == 0 {
		return fmt.Errorf("gap: %w (see %s)", adequacy.ErrNoMembers, "rejected.csv")
	}
	return nil
}

// readMembers reads the member file; bad rows become rejections.
func readMembers(path string, prog *progress) ([]adequacy.GapMember, []report.Rejected, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("gap: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("gap: %w", err)
	}
	ms, errs, err := data.ReadMembers(f, func(n int64) { prog.update("read", int(n), int(st.Size())) })
	if err != nil {
		return nil, nil, fmt.Errorf("gap: %s: %w", path, err)
	}
	rej := make([]report.Rejected, len(errs))
	for i, e := range errs {
		rej[i] = report.Rejected{Line: e.Line, MemberID: e.Key, Column: e.Column, Reason: e.Reason}
	}
	return ms, rej, nil
}

// sameService reports whether two codes name the same service.
func sameService(v *adequacy.Vocabulary, a, b string) bool {
	sa, ok := v.Service(a)
	sb, ok2 := v.Service(b)
	return ok && ok2 && sa == sb
}

// gapFlagError names the flags behind a report's field violations:
// services[1] is the second --service.
func gapFlagError(err error) error {
	var bad *adequacy.InvalidRequest
	if !errors.As(err, &bad) {
		return err
	}
	var parts []string
	for _, v := range bad.Violations {
		f := v.Field
		switch {
		case strings.HasPrefix(f, "services["):
			f = "--service " + f
		case strings.HasPrefix(f, "disciplines["):
			f = "--discipline " + f
		case strings.HasPrefix(f, "credits["):
			f = "--credit " + f
		case f != "":
			f = "--" + strings.ReplaceAll(f, "_", "-")
		}
		parts = append(parts, f+": "+v.Reason)
	}
	return &flagError{msg: "gap: " + strings.Join(parts, "; "), err: err}
}

// flagError says what is wrong in terms of flags, and keeps the error it
// rewords for errors.Is.
type flagError struct {
	msg string
	err error
}

func (e *flagError) Error() string { return e.msg }
func (e *flagError) Unwrap() error { return e.err }

func recruit(ctx context.Context, rep *adequacy.GapReport, path, service string, v *adequacy.Vocabulary, stderr io.Writer) ([]adequacy.RecruitPick, error) {
	cands, crep, err := data.ReadCandidatesFile(path, v)
	if err != nil {
		return nil, fmt.Errorf("gap: candidates: %w", err)
	}
	if crep.Bad > 0 {
		fmt.Fprintf(stderr, "geoaccess: candidates %s: %d bad rows skipped (first: %v)\n", path, crep.Bad, crep.Errors[0])
	}
	var picks []adequacy.RecruitPick
	var skip adequacy.RecruitSkip
	if service != "" {
		picks, skip, err = rep.RecruitService(ctx, service, cands.Providers)
	} else {
		picks, skip, err = rep.Recruit(ctx, cands.Providers)
	}
	if err != nil {
		return nil, gapFlagError(err)
	}
	if skip.Participating+skip.NotCounting+skip.OtherDiscipline+skip.NotOffering > 0 {
		msg := fmt.Sprintf("%d already participating, %d that would not count under the profile, %d of other disciplines",
			skip.Participating, skip.NotCounting, skip.OtherDiscipline)
		if service != "" {
			msg += fmt.Sprintf(", %d not offering %s", skip.NotOffering, service)
		}
		fmt.Fprintf(stderr, "geoaccess: candidates skipped: %s\n", msg)
	}
	return picks, nil
}

func writeGapFiles(dir string, eng *adequacy.Engine, rep *adequacy.GapReport, rejected []report.Rejected, picks []adequacy.RecruitPick, detail bool) error {
	providers := rep.CountingProviders() // the profile's counting rule, at the report's date, in the plan's networks
	steps := []func() error{
		func() error { return report.WriteAdequacy(dir, rep) },
		func() error { return report.WriteUnserved(dir, rep) },
		func() error { return report.WriteRejected(dir, rejected) },
		func() error { return report.WriteGeoJSON(dir, rep, eng.Map) },
		func() error { return report.WriteMaps(dir, rep, eng.Map, providers) },
	}
	files := []string{"adequacy.csv", "unserved.csv", "rejected.csv", "gaps.geojson"}
	for _, s := range rep.Subjects {
		files = append(files, report.MapFile(s.Key()))
	}
	if detail {
		steps = append(steps, func() error { return report.WriteAccess(dir, rep) })
		files = append(files, "member_access.csv")
	}
	if picks != nil {
		steps = append(steps, func() error { return report.WriteRecruitment(dir, picks) })
		files = append(files, "recruitment.csv")
	}
	steps = append(steps, func() error {
		return report.WriteHTML(dir, report.Page{Report: rep, Shapes: eng.Map, Providers: providers, Picks: picks, Rejected: len(rejected), Files: files})
	})
	return par.All(steps...)
}

// progress reports on stderr when it is a terminal, and is silent otherwise.
type progress struct {
	w     io.Writer
	on    bool
	start time.Time
	phase string
	last  time.Time
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, on: ok && term.IsTerminal(int(f.Fd())), start: time.Now()}
}

func (p *progress) update(phase string, done, total int) {
	if !p.on || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	if phase != p.phase {
		p.phase, p.start = phase, time.Now()
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate, eta := 0.0, 0.0
	if el > 0 && done > 0 {
		rate = float64(done) / el
		eta = float64(total-done) / rate
	}
	unit := "members"
	if phase == "read" {
		unit = "bytes"
	}
	fmt.Fprintf(p.w, "\r%s %d of %d %s (%.0f/s), ETA %.0fs   ", phase, done, total, unit, rate, eta)
}

func (p *progress) done() {
	if p.on && p.phase != "" {
		fmt.Fprintln(p.w)
	}
}

// phaseTimer prints how long each phase took when GEOACCESS_TIMINGS is set.
func phaseTimer(w io.Writer) func(string) {
	if os.Getenv("GEOACCESS_TIMINGS") == "" {
		return func(string) {}
	}
	last := time.Now()
	return func(name string) {
		fmt.Fprintf(w, "timing: %-18s %v\n", name, time.Since(last).Round(time.Millisecond))
		last = time.Now()
	}
}

// startCPUProfile writes a CPU profile to path ("" for none) until the
// returned function is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
