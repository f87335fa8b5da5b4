package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/cliflag"
	"github.com/geoaccess/geoaccess/internal/report"
)

func init() {
	register("impact", "who loses or gains access when providers leave or join: county rows before and after, the members affected", runImpact)
}

// errLoss: --fail-on-loss and a county × discipline goes from pass to
// fail (exit status 3).
var errLoss = errors.New("a county × discipline goes from pass to fail")

// baselineFlags are the flags impact and criticality share beyond the
// engine's.
type baselineFlags struct {
	ef      engineFlags
	members string
	out     string
	profile string
	plan    string
	disc    string
	credits cliflag.Multi
}

func (f *baselineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.members, "members", "", "member CSV: member_id, then lat and lon or zip, optional county_fips (required)")
	fs.StringVar(&f.out, "out", "", "directory for the report files (created if needed; required): its report files are replaced, other files left alone")
	fs.StringVar(&f.profile, "profile", "", "standards profile (default: the plan's, or "+data.DefaultProfile+")")
	fs.StringVar(&f.plan, "plan", "", "the members' plan (with --plans-file, or the database's plans with --db): its networks, contracted profile and service area")
	fs.StringVar(&f.disc, "discipline", "", "disciplines to report (default: every one the profile covers)")
	fs.Var(&f.credits, "credit", "claim a profile credit that applies on request, e.g. new_or_expanding_applicant (repeatable)")
	f.ef.register(fs)
	f.ef.registerProfileVersion(fs)
}

// options are the baseline's options from the flags.
func (f *baselineFlags) options() (adequacy.ImpactOptions, error) {
	opts := adequacy.ImpactOptions{Profile: f.profile, ProfileVersion: f.ef.profileVersion, Plan: f.plan, Credits: f.credits}
	var err error
	if opts.AsOf, opts.AsOfToday, err = f.ef.date(); err != nil {
		return opts, err
	}
	if f.disc != "" {
		if opts.Disciplines, err = parseDisciplines(f.disc); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// makeBaseline reads the member file and evaluates it against the engine's
// network; member rows that cannot be evaluated become rejections.
func makeBaseline(ctx context.Context, eng *adequacy.Engine, path string, opts adequacy.ImpactOptions, stderr io.Writer) (*adequacy.Baseline, []report.Rejected, error) {
	prog := newProgress(stderr)
	ms, rejected, err := readMembers(path, prog)
	if err != nil {
		return nil, nil, err
	}
	opts.Progress = func(done, total int) { prog.update("evaluated", done, total) }
	b, err := eng.NewBaseline(ctx, ms, opts)
	prog.done()
	if err != nil && !errors.Is(err, adequacy.ErrNoMembers) {
		return nil, nil, err
	}
	for _, r := range b.Rejected {
		rejected = append(rejected, report.Rejected{Line: r.Line, MemberID: r.MemberID, Column: report.MemberColumn(r.Field), Reason: r.Reason})
	}
	if err != nil {
		return b, rejected, fmt.Errorf("%w (%d rows rejected)", err, len(rejected))
	}
	return b, rejected, nil
}

func runImpact(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("impact", "impact --members FILE (--roster FILE | --db URL) [--remove NPI,NPI…] [--remove-file FILE] [--add FILE] [--profile P] [--plan ID] [--as-of D] --out DIR\n"+
		"       geoaccess impact --members FILE --db URL --from-version A --to-version B --out DIR", stderr)
	var f baselineFlags
	var remove cliflag.Multi
	f.register(fs)
	fs.Var(&remove, "remove", "NPIs of providers leaving, comma-separated (repeatable): every roster row of each")
	removeFile := fs.String("remove-file", "", "file of NPIs leaving, one a line (a header npi, blank lines and # comments allowed)")
	add := fs.String("add", "", "roster-shaped CSV of providers joining, validated like any roster")
	from := fs.String("from-version", "", "with --db: the roster version before the change (a number or current)")
	to := fs.String("to-version", "", "with --db: the roster version after the change; the change is every row that differs")
	failOnLoss := fs.Bool("fail-on-loss", false, "exit with status 3 when any county × discipline goes from pass to fail")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if f.members == "" || f.out == "" {
		return fmt.Errorf("%w: --members and --out are required", errUsage)
	}
	versions := *from != "" || *to != ""
	switch {
	case versions && (*from == "" || *to == ""):
		return fmt.Errorf("%w: give both --from-version and --to-version", errUsage)
	case versions && f.ef.db == "":
		return fmt.Errorf("%w: --from-version and --to-version compare versions in the database: give --db", errUsage)
	case versions && (len(remove) > 0 || *removeFile != "" || *add != ""):
		return fmt.Errorf("%w: the change is the difference between the two versions: --remove, --remove-file and --add do not apply", errUsage)
	case !versions && len(remove) == 0 && *removeFile == "" && *add == "":
		return fmt.Errorf("%w: say what changes: --remove, --remove-file, --add, or --from-version and --to-version", errUsage)
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	inputs := append([]string{f.members, *removeFile, *add, f.ef.roster, f.ef.countyTable, f.ef.plansFile, f.ef.servicesFile}, f.ef.profileFiles...)
	dst, err := report.NewOutputFor(f.out, report.ImpactFiles(), nil, inputs...)
	if err != nil {
		return fmt.Errorf("impact: --out: %w", err)
	}
	defer dst.Abort() // does nothing after Commit
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	phase := phaseTimer(stderr)
	var eng *adequacy.Engine
	var ch adequacy.Change
	if versions {
		var after *adequacy.Roster
		if eng, after, err = versionRosters(ctx, &f.ef, *from, *to, stderr); err != nil {
			return err
		}
		ch = adequacy.ChangeBetween(eng.Network.Roster, after)
	} else if eng, err = f.ef.engine(stderr); err != nil {
		return err
	}
	if !versions {
		if ch, err = changeFromFlags(eng, remove, *removeFile, *add); err != nil {
			return err
		}
	}
	phase("engine and roster")
	b, rejected, err := makeBaseline(ctx, eng, f.members, opts, stderr)
	phase("read and evaluate members")
	if err != nil {
		if b != nil {
			if werr := report.WriteRejected(dst.Dir(), rejected); werr == nil {
				dst.Commit() // the rejected members at least; a failed Commit leaves nothing behind
			}
		}
		return fmt.Errorf("impact: %w", err)
	}
	b.IndexMembers()
	phase("index members")
	im, err := b.Impact(ctx, ch)
	if err != nil {
		return fmt.Errorf("impact: %w", err)
	}
	phase("apply the change")
	dir := dst.Dir()
	for _, step := range []func() error{
		func() error { return report.WriteImpact(dir, im) },
		func() error { return report.WriteChangedMembers(dir, "members_lost.csv", im.Lost) },
		func() error { return report.WriteChangedMembers(dir, "members_gained.csv", im.Gained) },
		func() error { return report.WriteRejected(dir, rejected) },
		func() error {
			return report.WriteImpactHTML(dir, report.ImpactPage{Impact: im, Rejected: len(rejected), Files: report.ImpactFiles()[:4]})
		},
	} {
		if err := step(); err != nil {
			return err
		}
	}
	if err := dst.Commit(); err != nil {
		return fmt.Errorf("impact: %w", err)
	}
	phase("write files")
	report.WriteImpactSummary(stdout, im, len(rejected))
	fmt.Fprintf(stdout, "wrote %s\n", f.out)
	if *failOnLoss && im.LosesCounty() {
		return fmt.Errorf("impact: %w (--fail-on-loss)", errLoss)
	}
	return nil
}

// versionRosters reads two published roster versions and makes the
// engine serve the first (with the database's plans, as --db does).
func versionRosters(ctx context.Context, ef *engineFlags, from, to string, stderr io.Writer) (*adequacy.Engine, *adequacy.Roster, error) {
	if ef.roster != "" || ef.rosterVersion != "" {
		return nil, nil, fmt.Errorf("%w: --from-version and --to-version name the rosters: not with --roster or --roster-version", errUsage)
	}
	d := dbFlag{url: ef.db}
	_, pool, done, err := d.open()
	if err != nil {
		return nil, nil, err
	}
	defer done()
	fromID, err := resolveVersion(ctx, pool, from)
	if err != nil {
		return nil, nil, fmt.Errorf("--from-version: %w", err)
	}
	if _, err := pg.GetVersion(ctx, pool, fromID); err != nil {
		return nil, nil, fmt.Errorf("--from-version: %w", err)
	}
	toID, err := resolveVersion(ctx, pool, to)
	if err != nil {
		return nil, nil, fmt.Errorf("--to-version: %w", err)
	}
	after, err := pg.ReadRoster(ctx, pool, toID)
	if err != nil {
		return nil, nil, fmt.Errorf("--to-version: %w", err)
	}
	ef.rosterVersion = strconv.FormatInt(fromID, 10)
	eng, err := ef.engine(stderr)
	if err != nil {
		return nil, nil, fmt.Errorf("--from-version: %w", err)
	}
	return eng, after, nil
}

// changeFromFlags is the change --remove, --remove-file and --add say.
func changeFromFlags(eng *adequacy.Engine, remove []string, removeFile, add string) (adequacy.Change, error) {
	var ch adequacy.Change
	var npis []string
	for _, r := range remove {
		for _, n := range strings.Split(r, ",") {
			if n = strings.TrimSpace(n); n != "" {
				npis = append(npis, n)
			}
		}
	}
	if removeFile != "" {
		more, err := readNPIFile(removeFile)
		if err != nil {
			return ch, err
		}
		npis = append(npis, more...)
	}
	if len(npis) > 0 {
		rows, err := eng.Network.RowsOf(npis)
		if err != nil {
			return ch, fmt.Errorf("impact: --remove: %w %s", err, eng.Network.Version())
		}
		ch.Remove = rows
	}
	if add != "" {
		r, _, err := data.ReadRosterFile(add, 0, eng.Vocabulary)
		if err != nil {
			return ch, fmt.Errorf("impact: --add: %w", err)
		}
		ch.Add = r.Expand().Providers
	}
	var parts []string
	if len(npis) > 0 {
		parts = append(parts, fmt.Sprintf("%d NPI(s) leaving", len(npis)))
	}
	if len(ch.Add) > 0 {
		parts = append(parts, fmt.Sprintf("%d provider row(s) joining", len(ch.Add)))
	}
	ch.Label = strings.Join(parts, ", ")
	return ch, nil
}

// readNPIFile reads NPIs one a line; each is checked (line and value in
// the error).
func readNPIFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("impact: --remove-file: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 4096)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if s == "" || strings.HasPrefix(s, "#") || (line == 1 && strings.EqualFold(s, "npi")) {
			continue
		}
		if err := data.ValidNPI(s); err != nil {
			return nil, fmt.Errorf("impact: --remove-file %s, line %d: %q: %v", path, line, adequacy.Excerpt(s), err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("impact: --remove-file %s: %w (one NPI a line)", path, err)
	}
	return out, nil
}
