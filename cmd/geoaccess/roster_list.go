package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/pg"
)

func rosterList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("roster list", "roster list [--db URL] [--limit N] [--json]", stderr)
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
	vs, err := pg.List(ctx, pool, pg.ListOptions{Limit: *limit})
	if err != nil {
		return err
	}
	if *asJSON {
		if vs == nil {
			vs = []pg.Version{}
		}
		return writeJSON(stdout, vs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "ID\tSTATUS\tCREATED (UTC)\tPUBLISHED (UTC)\tPROVIDERS\tBAD\t")
	for _, d := range adequacy.Disciplines {
		fmt.Fprintf(tw, "%s\t", d)
	}
	fmt.Fprintln(tw, "SHA256\tSOURCE")
	for _, v := range vs {
		status := string(v.Status)
		if v.Current {
			status += " *"
		}
		if v.Forced {
			status += " (forced)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t", v.ID, status, v.CreatedAt.Format(time.DateTime), timeOrDash(v.PublishedAt), v.Providers, v.BadRows)
		byDisc := map[adequacy.Discipline]pg.DisciplineCounts{}
		for _, c := range v.Counts {
			byDisc[c.Discipline] = c
		}
		for _, d := range adequacy.Disciplines {
			if c, ok := byDisc[d]; ok {
				fmt.Fprintf(tw, "%d\t", c.Providers)
			} else {
				fmt.Fprint(tw, "-\t")
			}
		}
		fmt.Fprintf(tw, "%s\t%s\n", short(v.Checksum, 12), v.Source)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(vs) == 0 {
		fmt.Fprintln(stdout, "no roster versions yet: geoaccess roster load FILE.csv")
	} else {
		fmt.Fprintln(stdout, "* current")
	}
	return nil
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.DateTime)
}
