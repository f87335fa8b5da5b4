package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/geoaccess/geoaccess/data/pg"
)

func plansVersions(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plans versions", "plans versions [--db URL] [--limit N] [--json]", stderr)
	var db dbFlag
	db.register(fs)
	limit := fs.Int("limit", 0, "show the newest N versions (0: all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseWithArgs(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	vs, err := pg.ListPlanVersions(ctx, pool, pg.ListOptions{Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		if vs == nil {
			vs = []pg.PlanVersion{}
		}
		return writeJSON(stdout, vs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tLOADED (UTC)\tPUBLISHED (UTC)\tPLANS\tSHA256\tSOURCE\tERROR")
	for _, v := range vs {
		status := string(v.Status)
		if v.Current {
			status += " *"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", v.ID, status, v.LoadedAt.Format(time.DateTime), timeOrDash(v.PublishedAt),
			v.Plans, short(v.SHA256, 12), v.Source, oneLine(v.Error, 100))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(vs) == 0 {
		fmt.Fprintln(stdout, "no plans versions yet: geoaccess plans load FILE")
	} else {
		fmt.Fprintln(stdout, "* current")
	}
	return nil
}

// oneLine shortens an error for a table cell.
func oneLine(s string, n int) string {
	for i, r := range s {
		if r == '\n' || r == '\t' {
			s = s[:i]
			break
		}
	}
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
