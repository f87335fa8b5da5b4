package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/internal/report"
)

func init() {
	register("hsd", "CMS HSD tables: provider and facility tables, field edits, a pass/fail preview", runHSD)
}

const hsdUsage = "hsd export (--roster FILE | --db URL) [--members FILE] [--profile cms-ma] [--as-of D] [--service-area CODES|FILE] --out DIR"

func runHSD(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage:\n  geoaccess "+hsdUsage+"\n\nrun \"geoaccess hsd export -h\" for the flags")
		if len(args) == 0 {
			return fmt.Errorf("%w: hsd needs a subcommand (export)", errUsage)
		}
		return nil
	}
	if args[0] != "export" {
		return fmt.Errorf("%w: unknown hsd subcommand %q (want export)", errUsage, args[0])
	}
	return hsdExport(args[1:], stdout, stderr)
}

func hsdExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hsd export", hsdUsage, stderr)
	var ff filingFlags
	ff.register(fs, "member CSV standing for the beneficiaries (member_id, then lat and lon or zip, optional county_fips); without it, the ZIP points of the service area's counties")
	xlsx := fs.Bool("xlsx", true, "also write the .xlsx twins of the tables (-xlsx=false skips them: for a large plan they take longer than the rest of the export)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile here (for performance work)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if ff.ef.roster == "" && !ff.ef.fromDB() {
		return fmt.Errorf("%w: give the contracted network with --roster FILE or --db URL", errUsage)
	}
	dst, err := ff.output("hsd export", report.HSDFiles(), nil, *cpuprofile)
	if err != nil {
		return err
	}
	defer dst.Abort() // does nothing after Commit
	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	phase := phaseTimer(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fl, err := ff.prepare(ctx, "hsd export", stderr)
	if err != nil {
		return err
	}
	phase("engine, census, evaluate")
	tables, err := fl.rep.HSDTables(fl.area, fl.eng.Counties)
	if err != nil {
		return err
	}
	unlisted, err := fl.rep.Unlisted()
	if err != nil {
		return err
	}
	x := &report.HSDExport{Tables: tables, Area: fl.area, Preview: fl.rep.Preview(fl.area), Census: fl.census, NotListed: unlisted, NoXLSX: !*xlsx}
	phase("rows and edits")
	sum, err := report.WriteHSD(dst.Dir(), x)
	if err != nil {
		return err
	}
	if ff.members != "" {
		if err := report.WriteRejected(dst.Dir(), fl.rejected); err != nil {
			return err
		}
	}
	lines := hsdSummary(fl, sum, len(unlisted), ff.out)
	if err := report.WriteHSDReadme(dst.Dir(), append(hsdReadmeHead(fl), lines...)); err != nil {
		return err
	}
	if err := dst.Commit(); err != nil {
		return fmt.Errorf("hsd export: %w", err)
	}
	phase("write files")
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return nil
}

func hsdReadmeHead(fl *filing) []string {
	p := fl.rep.Profile
	return []string{
		"CMS Medicare Advantage Health Service Delivery (HSD) tables, made by geoaccess hsd export.",
		"",
		fmt.Sprintf("profile: %s %s (%s)", p.Name, p.Version, p.Source),
		fmt.Sprintf("as of: %s; roster: %s; county table: %s", fl.rep.AsOf, fl.rep.RosterVersion, fl.rep.CountySource),
		"",
		"files:",
		"  hsd_provider.csv, hsd_provider.xlsx   the provider table: chiropractors (specialty 010)",
		"  hsd_facility.csv, hsd_facility.xlsx   the facility table: physical (049), occupational (050) and speech therapy (051)",
		"  hsd_errors.csv                        every field edit a row fails: file, spreadsheet row, column, value, reason",
		"  hsd_preview.csv                       CMS's view: each SSA county x specialty, served share, minimum, pass",
		"  hsd_not_listed.csv                    contracted providers in no row, and why",
		"  rejected.csv                          member-file rows not evaluated (with --members)",
		"",
		"A row lists a contracted provider for a county it serves: the provider counts under the profile (in person, in",
		"effect on the as-of date) and is within the county's time and distance standard of at least one member of the",
		"census living there (42 CFR 422.116(a)(2)(i)). Rows that fail a field edit are written like the others and",
		"listed in hsd_errors.csv. Columns follow CMS's MA HSD table templates; see docs/hsd.md for the sources and for",
		"what could not be checked against CMS's current templates.",
		"",
	}
}

func hsdSummary(fl *filing, sum report.HSDSummary, unlisted int, out string) []string {
	lines := []string{
		fl.censusLine(),
		fl.areaLine(),
		fmt.Sprintf("hsd_provider.csv: %d rows; hsd_facility.csv: %d rows%s", sum.ProviderRows, sum.FacilityRows, map[bool]string{true: " (and their .xlsx twins)", false: " (no .xlsx twins: -xlsx=false)"}[sum.XLSX]),
		fmt.Sprintf("field edits: %d failures on %d rows (hsd_errors.csv)", sum.Errors, sum.RowsWithErrors),
	}
	var cols []string
	for c := range sum.ErrorsByColumn {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	for _, c := range cols {
		lines = append(lines, fmt.Sprintf("  %s: %d", c, sum.ErrorsByColumn[c]))
	}
	lines = append(lines,
		fmt.Sprintf("preview: %d of %d SSA county x specialty rows pass (hsd_preview.csv)", sum.PreviewPass, sum.PreviewRows),
		fmt.Sprintf("not listed: %d contracted providers serve no county of the census (hsd_not_listed.csv)", unlisted),
		"left blank, for the plan to fill:")
	for _, b := range report.BlankColumns() {
		lines = append(lines, "  "+b)
	}
	return append(lines, "wrote "+strings.TrimSuffix(out, "/"))
}
