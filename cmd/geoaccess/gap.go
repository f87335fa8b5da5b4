package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	"golang.org/x/term"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/cliflag"
	"github.com/geoaccess/geoaccess/internal/report"
)

func init() {
	register("gap", "gap report over a member file: county tables, unserved members, maps, recruitment targets", runGap)
}

func runGap(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gap", "gap --members FILE --out DIR [--profile cms-ma] [--roster FILE] [--candidates FILE] [--detail]", stderr)
	var ef engineFlags
	var credits cliflag.Multi
	members := fs.String("members", "", "member CSV: member_id, then lat and lon or zip, optional county_fips (required)")
	out := fs.String("out", "", "directory for the report files (created if needed; required): its report files are replaced, other files left alone")
	profile := fs.String("profile", data.DefaultProfile, "standards profile")
	candidates := fs.String("candidates", "", "roster-shaped CSV of non-participating providers to rank for recruitment")
	detail := fs.Bool("detail", false, "also write member_access.csv: every member × discipline")
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
	// Refuse a symlinked --out, and inputs the report would overwrite,
	// before anything is read or written; write beside it, then swap.
	inputs := append([]string{*members, *candidates, ef.roster, ef.countyTable, *cpuprofile}, ef.profileFiles...)
	dst, err := report.NewOutput(*out, inputs...)
	if err != nil {
		return fmt.Errorf("gap: --out: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			dst.Abort()
		}
	}()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	phase := phaseTimer(stderr)
	opts := adequacy.GapOptions{Profile: *profile, ProfileVersion: ef.profileVersion, Detail: *detail, Credits: credits}
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
		return err
	}
	phase("evaluate")
	for _, r := range rep.Rejected {
		rejected = append(rejected, report.Rejected{Line: r.Line, MemberID: r.MemberID, Column: report.MemberColumn(r.Field), Reason: r.Reason})
	}
	var picks []adequacy.RecruitPick
	if *candidates != "" {
		if picks, err = recruit(ctx, rep, *candidates, eng.Vocabulary, stderr); err != nil {
			return err
		}
	}
	phase("recruit")
	if err := writeGapFiles(dst.Dir(), eng, rep, rejected, picks, *detail); err != nil {
		return err
	}
	committed = true
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

func recruit(ctx context.Context, rep *adequacy.GapReport, path string, v *adequacy.Vocabulary, stderr io.Writer) ([]adequacy.RecruitPick, error) {
	cands, crep, err := data.ReadCandidatesFile(path, v)
	if err != nil {
		return nil, fmt.Errorf("gap: candidates: %w", err)
	}
	if crep.Bad > 0 {
		fmt.Fprintf(stderr, "geoaccess: candidates %s: %d bad rows skipped (first: %v)\n", path, crep.Bad, crep.Errors[0])
	}
	picks, skip, err := rep.Recruit(ctx, cands.Providers)
	if err != nil {
		return nil, err
	}
	if skip.Participating+skip.NotCounting+skip.OtherDiscipline > 0 {
		fmt.Fprintf(stderr, "geoaccess: candidates skipped: %d already participating, %d that would not count under the profile, %d of other disciplines\n",
			skip.Participating, skip.NotCounting, skip.OtherDiscipline)
	}
	return picks, nil
}

func writeGapFiles(dir string, eng *adequacy.Engine, rep *adequacy.GapReport, rejected []report.Rejected, picks []adequacy.RecruitPick, detail bool) error {
	providers := rep.CountingProviders() // the profile's counting rule, at the report's date
	steps := []func() error{
		func() error { return report.WriteAdequacy(dir, rep) },
		func() error { return report.WriteUnserved(dir, rep) },
		func() error { return report.WriteRejected(dir, rejected) },
		func() error { return report.WriteGeoJSON(dir, rep, eng.Map) },
		func() error { return report.WriteMaps(dir, rep, eng.Map, providers) },
	}
	files := []string{"adequacy.csv", "unserved.csv", "rejected.csv", "gaps.geojson"}
	for _, d := range rep.Disciplines {
		files = append(files, report.MapFile(d))
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
	errs := make(chan error, len(steps))
	for _, s := range steps {
		go func() { errs <- s() }()
	}
	var first error
	for range steps {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
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
