package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/cliflag"
	"github.com/geoaccess/geoaccess/internal/report"
)

func init() {
	register("criticality", "how critical each provider is: members in reach, sole-access members, counties at risk; dossiers per NPI", runCriticality)
}

func runCriticality(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("criticality", "criticality --members FILE (--roster FILE | --db URL) --out DIR [--npi NPI …] [--profile P] [--plan ID] [--as-of D]", stderr)
	var f baselineFlags
	var npis cliflag.Multi
	f.register(fs)
	fs.Var(&npis, "npi", "write a dossier for this NPI (comma-separated, repeatable): participating, what its leaving does; not, what joining adds")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if f.members == "" || f.out == "" {
		return fmt.Errorf("%w: --members and --out are required", errUsage)
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	opts.Criticality = true
	var list []string
	for _, n := range npis {
		for _, s := range strings.Split(n, ",") {
			if s = strings.TrimSpace(s); s != "" && !contains(list, s) {
				list = append(list, s)
			}
		}
	}
	files, dirs := report.CriticalityFiles()
	inputs := append([]string{f.members, f.ef.roster, f.ef.countyTable, f.ef.plansFile, f.ef.servicesFile}, f.ef.profileFiles...)
	dst, err := report.NewOutputFor(f.out, files, dirs, inputs...)
	if err != nil {
		return fmt.Errorf("criticality: --out: %w", err)
	}
	defer dst.Abort() // does nothing after Commit
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	eng, err := f.ef.engine(stderr)
	if err != nil {
		return err
	}
	if len(list) > 0 { // an NPI the roster lacks is an error before any work
		if _, err := eng.Network.RowsOf(list); err != nil {
			return fmt.Errorf("criticality: --npi: %w %s", err, eng.Network.Version())
		}
	}
	b, rejected, err := makeBaseline(ctx, eng, f.members, opts, stderr)
	if err != nil {
		return fmt.Errorf("criticality: %w", err)
	}
	crit, err := b.Criticality()
	if err != nil {
		return err
	}
	dir := dst.Dir()
	if err := report.WriteCriticality(dir, crit); err != nil {
		return err
	}
	if err := report.WriteRejected(dir, rejected); err != nil {
		return err
	}
	var dossiers []*adequacy.Dossier
	if len(list) > 0 {
		ddir := filepath.Join(dir, report.DossierDir)
		if err := os.Mkdir(ddir, 0o755); err != nil {
			return err
		}
		for _, npi := range list {
			dz, err := b.Dossier(ctx, npi)
			if err != nil {
				return fmt.Errorf("criticality: --npi: %w", err)
			}
			if err := report.WriteDossier(ddir, dz, report.RanksOf(crit, npi)); err != nil {
				return err
			}
			dossiers = append(dossiers, dz)
		}
	}
	if err := dst.Commit(); err != nil {
		return fmt.Errorf("criticality: %w", err)
	}
	writeCriticalitySummary(stdout, crit, len(rejected), dossiers)
	fmt.Fprintf(stdout, "wrote %s\n", f.out)
	return nil
}

func writeCriticalitySummary(w io.Writer, c *adequacy.Criticality, rejected int, dossiers []*adequacy.Dossier) {
	b := c.Baseline
	fmt.Fprintf(w, "criticality: profile %s %s, roster %s, as of %s\n", b.Profile.Name, b.Profile.Version, b.RosterVersion, b.AsOf)
	if b.Plan != nil {
		fmt.Fprintf(w, "plan %s: networks %s\n", b.Plan.ID, strings.Join(b.Plan.Networks, ", "))
	}
	sole, risky := 0, 0
	for _, p := range c.Providers {
		if p.MembersSole > 0 {
			sole++
		}
		if len(p.CountiesAtRisk) > 0 {
			risky++
		}
	}
	fmt.Fprintf(w, "members: %d evaluated, %d rejected; %d providers ranked, %d the sole access of some member, %d whose leaving fails a county\n",
		b.Members, rejected, len(c.Providers), sole, risky)
	for _, p := range c.Providers[:min(10, len(c.Providers))] {
		if p.MembersSole == 0 {
			break
		}
		fmt.Fprintf(w, "  %3d  %s %-2s %-36s %s  %d sole of %d in reach%s\n", p.Rank, p.Provider.NPI, p.Provider.Discipline, clip(p.Provider.Name, 36),
			p.Provider.CountyFIPS, p.MembersSole, p.MembersInReach, atRisk(p.CountiesAtRisk))
	}
	for _, dz := range dossiers {
		what := "leaving"
		n := 0
		for _, t := range dz.Impact.Totals {
			n += t.Lost
		}
		if dz.Joining {
			what, n = "joining", 0
			for _, t := range dz.Impact.Totals {
				n += t.Gained
			}
		}
		fmt.Fprintf(w, "dossier %s: %s changes access for %d member-disciplines (%s)\n", dz.NPI, what, n, filepath.Join(report.DossierDir, report.DossierFile(dz.NPI)))
	}
}

func atRisk(cs []*adequacy.County) string {
	if len(cs) == 0 {
		return ""
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.FIPS
	}
	return "; counties at risk " + strings.Join(s, " ")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
