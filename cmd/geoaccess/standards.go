package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/hsd"
	"github.com/geoaccess/geoaccess/internal/cliflag"
)

func init() {
	register("standards", "list profiles, show one, import a CMS HSD reference file", runStandards)
}

func runStandards(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, `usage:
  geoaccess standards profiles [--profile-file F]...    list the standards profiles, every version, with expiry
  geoaccess standards show PROFILE [--version V]        print a profile's standards
  geoaccess standards import-hsd FILE.xlsx [--out F]    resolve a CMS HSD reference workbook to a county table
  geoaccess standards new-version PROFILE --out F       write the next period's version of a profile (--county-table, --from, --to, --version)`)
		if len(args) == 0 {
			return fmt.Errorf("%w: standards needs a subcommand", errUsage)
		}
		return nil
	}
	switch args[0] {
	case "profiles":
		return standardsProfiles(args[1:], stdout, stderr)
	case "show":
		return standardsShow(args[1:], stdout, stderr)
	case "import-hsd":
		return standardsImport(args[1:], stdout, stderr)
	case "new-version":
		return standardsNewVersion(args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown standards subcommand %q", errUsage, args[0])
}

func standardsProfiles(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("standards profiles", "standards profiles [--profile-file F]... [--today YYYY-MM-DD]", stderr)
	var files cliflag.Multi
	fs.Var(&files, "profile-file", "also load this profile file (repeatable)")
	day := fs.String("today", "", "judge expiry on this date (default: today)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ps, err := data.LoadProfiles(files...)
	if err != nil {
		return err
	}
	today := adequacy.DateOf(time.Now())
	if *day != "" {
		if today, err = adequacy.ParseDate(*day); err != nil {
			return fmt.Errorf("%w: --today: %v", errUsage, err)
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tEFFECTIVE\tSTATE\tDAYS LEFT\tDISCIPLINES\tTITLE")
	for _, p := range ps.All() {
		var ds []string
		for _, d := range p.CoveredDisciplines() {
			ds = append(ds, d.String())
		}
		state, left := versionStanding(ps, p, today)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Effective, state, left, strings.Join(ds, ","), p.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range ps.Names() {
		st, err := ps.StandingOn(n, today)
		if err != nil || st.InUse == nil || st.LastDay.IsZero() {
			continue
		}
		switch left := st.DaysLeft(today); {
		case st.Expired:
			fmt.Fprintf(stdout, "warning: %s has no version in effect on %s; requests for today carry %s forward (or fail with --profile-expiry fail)\n", n, today, st.InUse.Version)
		case left < 45:
			fmt.Fprintf(stdout, "warning: %s is covered through %s (%d days left): load the next version (standards new-version)\n", n, st.LastDay, left)
		}
	}
	return nil
}

// versionStanding says where a version stands on a day, and the days it
// has left ("-" when open-ended).
func versionStanding(ps *adequacy.Profiles, p *adequacy.Profile, day adequacy.Date) (string, string) {
	left := "-"
	if !p.Effective.To.IsZero() {
		left = fmt.Sprint(p.Effective.To.Sub(day) + 1)
	}
	st, _ := ps.StandingOn(p.Name, day)
	switch {
	case st.InUse == p && st.Expired:
		return "expired, in use", left
	case st.InUse == p:
		return "in effect", left
	case day.Before(p.Effective.From):
		return "upcoming", left
	}
	return "ended", left
}

func orOpen(d adequacy.Date) string {
	if d.IsZero() {
		return "open"
	}
	return d.String()
}

func standardsShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("standards show", "standards show PROFILE [--version V] [--profile-file F]...", stderr)
	var files cliflag.Multi
	fs.Var(&files, "profile-file", "also load this profile file (repeatable)")
	version := fs.String("version", "", "the version to show (default: the latest)")
	if len(args) == 0 {
		return fmt.Errorf("%w: standards show needs a profile name", errUsage)
	}
	name := args[0]
	if err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	ps, err := data.LoadProfiles(files...)
	if err != nil {
		return err
	}
	p, err := ps.Get(name)
	if *version != "" {
		p, err = ps.Version(name, *version)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s — %s\nsource: %s\neffective: %s to %s\ntime: %s\n", p.Name, p.Version, p.Title, p.Source,
		p.Effective.From, orOpen(p.Effective.To), p.Time.Name())
	if p.Counties != nil {
		fmt.Fprintf(stdout, "county table: %s\n", p.Counties.Source)
	}
	if p.OfficialCountyStandards {
		fmt.Fprintln(stdout, "county limits: the official per-county values of the county table where it has them; this base table elsewhere")
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nDISCIPLINE\tCOUNTY TYPE\tMAX MINUTES\tMAX MILES\tPROVIDERS\tSERVED SHARE")
	for _, d := range p.CoveredDisciplines() {
		for _, t := range adequacy.CountyTypes {
			s := p.Disciplines[d].ByType[t]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%.0f%%\n", d, t, orDash(s.MaxMinutes), orDash(s.MaxMiles), s.ProvidersRequired, 100*s.ServedShare)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range p.Credits {
		var ds []string
		for _, d := range c.Disciplines {
			ds = append(ds, d.String())
		}
		fmt.Fprintf(stdout, "credit %s: %g points for [%s] (%s)\n", c.Name, c.Points, strings.Join(ds, ","), c.Basis)
	}
	return nil
}

func orDash(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%g", x)
}

func standardsImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("standards import-hsd", "standards import-hsd FILE.xlsx [--out table.csv]", stderr)
	out := fs.String("out", "", "write the resolved county table here (default: standard output)")
	source := fs.String("source", "", `name the reference in every decision, e.g. "CMS MA HSD reference file CY2027 (12-15-2026)" (default: the title and the file name)`)
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs.Usage()
		if len(args) > 0 && isHelp(args[0]) {
			return flag.ErrHelp
		}
		return fmt.Errorf("%w: standards import-hsd needs the workbook file", errUsage)
	}
	file := args[0]
	if err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	res, title, err := data.ImportHSD(file)
	if err != nil {
		return err
	}
	if *source == "" {
		*source = fmt.Sprintf("%s (%s)", title, filepath.Base(file))
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("import-hsd: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := hsd.WriteTable(w, *source, res.Counties); err != nil {
		return err
	}
	report := stderr
	if *out != "" {
		report = stdout
	}
	fmt.Fprintf(report, "%s: %d county polygons resolved; %d CMS counties unresolved; %d polygons with no CMS county (designations derived)\n",
		*source, len(res.Counties), len(res.Unresolved), len(res.Unmatched))
	for _, u := range res.Unresolved {
		fmt.Fprintf(report, "  unresolved: %s, %s (SSA %s): %s\n", u.Row.Name, u.Row.State, u.Row.SSA, u.Reason)
	}
	for _, p := range res.Unmatched {
		fmt.Fprintf(report, "  no CMS county: %s %s, %s\n", p.FIPS, p.Name, p.State)
	}
	if *out != "" {
		fmt.Fprintf(report, "wrote %s: the next period's profile version takes it with 'standards new-version PROFILE --county-table %s'; check and gap take it as --hsd %s\n", *out, *out, *out)
	}
	return nil
}

func standardsNewVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("standards new-version", "standards new-version PROFILE --out FILE [--county-table F] [--version V] [--from D] [--to D]", stderr)
	var files cliflag.Multi
	fs.Var(&files, "profile-file", "also load this profile file (repeatable)")
	out := fs.String("out", "", "write the new version's profile file here (required)")
	table := fs.String("county-table", "", "the new period's county table (from 'standards import-hsd'); the version uses it alone")
	version := fs.String("version", "", `the new version (default: "<year of --from>.1")`)
	from := fs.String("from", "", "first day (default: the day after the latest version ends)")
	to := fs.String("to", "", "last day (default: a year after --from, less a day)")
	source := fs.String("source", "", "what the numbers rest on (default: the latest version's source and the county table's)")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs.Usage()
		if len(args) > 0 && isHelp(args[0]) {
			return flag.ErrHelp
		}
		return fmt.Errorf("%w: standards new-version needs a profile name", errUsage)
	}
	name := args[0]
	if err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	ps, err := data.LoadProfiles(files...)
	if err != nil {
		return err
	}
	latest, err := ps.Get(name)
	if err != nil {
		return err
	}
	next, err := nextVersion(latest, *version, *from, *to)
	if err != nil {
		return err
	}
	tablePath := ""
	if *table != "" {
		ct, err := data.LoadCounties(*table)
		if err != nil {
			return err
		}
		next.Counties = ct.Counties
		if tablePath, err = relativeTo(*out, *table); err != nil {
			return err
		}
		next.Source = latest.Source + "; county table: " + ct.Source
	}
	if *source != "" {
		next.Source = *source
	}
	b, err := data.EncodeProfile(next, tablePath,
		fmt.Sprintf("%s %s: written by 'geoaccess standards new-version' from version %s on %s.", next.Name, next.Version, latest.Version, time.Now().Format(time.DateOnly)),
		"Review every number against the year's rule and contract changes before use.")
	if err != nil {
		return err
	}
	if _, err := data.ParseProfile(*out, b); err != nil { // never write a file the loader would refuse
		return fmt.Errorf("new-version: %w", err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		return fmt.Errorf("new-version: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %s %s, %s", *out, next.Name, next.Version, next.Effective)
	if tablePath != "" {
		fmt.Fprintf(stdout, ", county table %s", tablePath)
	}
	fmt.Fprintf(stdout, "\nserve it beside the others: geoaccessd --profile-file %s (and geoaccess ... --profile-file %s)\n", *out, *out)
	return nil
}

// nextVersion copies p for the period after it.
func nextVersion(p *adequacy.Profile, version, from, to string) (*adequacy.Profile, error) {
	next := *p
	next.Counties = nil
	var err error
	switch {
	case from != "":
		if next.Effective.From, err = adequacy.ParseDate(from); err != nil {
			return nil, fmt.Errorf("%w: --from: %v", errUsage, err)
		}
	case p.Effective.To.IsZero():
		return nil, fmt.Errorf("%w: %s %s is open-ended: give --from", errUsage, p.Name, p.Version)
	default:
		next.Effective.From = p.Effective.To.AddDays(1)
	}
	if to != "" {
		if next.Effective.To, err = adequacy.ParseDate(to); err != nil {
			return nil, fmt.Errorf("%w: --to: %v", errUsage, err)
		}
	} else {
		f := next.Effective.From.Time()
		next.Effective.To = adequacy.DateOf(f.AddDate(1, 0, -1))
	}
	next.Version = version
	if version == "" {
		next.Version = fmt.Sprintf("%d.1", next.Effective.From.Time().Year())
	}
	return &next, nil
}

// relativeTo expresses target relative to the directory of file, as a
// profile's county_table is read.
func relativeTo(file, target string) (string, error) {
	absFile, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	absTarget, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(filepath.Dir(absFile), absTarget)
	if err != nil {
		return absTarget, nil
	}
	return rel, nil
}

// isHelp reports whether arg asks for a command's help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h":
		return true
	}
	return false
}
