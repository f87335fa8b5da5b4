package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

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
  geoaccess standards profiles [--profile-file F]...    list the standards profiles
  geoaccess standards show PROFILE [--profile-file F]   print a profile's standards
  geoaccess standards import-hsd FILE.xlsx [--out F]    resolve a CMS HSD reference workbook to a county table`)
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
	}
	return fmt.Errorf("%w: unknown standards subcommand %q", errUsage, args[0])
}

func standardsProfiles(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("standards profiles", "standards profiles [--profile-file F]...", stderr)
	var files cliflag.Multi
	fs.Var(&files, "profile-file", "also load this profile file (repeatable)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ps, err := data.LoadProfiles(files...)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tEFFECTIVE\tDISCIPLINES\tTITLE")
	for _, p := range ps.All() {
		var ds []string
		for _, d := range p.CoveredDisciplines() {
			ds = append(ds, d.String())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s to %s\t%s\t%s\n", p.Name, p.Version, p.Effective.From, orOpen(p.Effective.To), strings.Join(ds, ","), p.Title)
	}
	return tw.Flush()
}

func orOpen(d adequacy.Date) string {
	if d.IsZero() {
		return "open"
	}
	return d.String()
}

func standardsShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("standards show", "standards show PROFILE [--profile-file F]...", stderr)
	var files cliflag.Multi
	fs.Var(&files, "profile-file", "also load this profile file (repeatable)")
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
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s — %s\nsource: %s\neffective: %s to %s\ntime: %s\n", p.Name, p.Version, p.Title, p.Source,
		p.Effective.From, orOpen(p.Effective.To), p.Time.Name())
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
		fmt.Fprintf(report, "wrote %s; use it with --hsd %s\n", *out, *out)
	}
	return nil
}
