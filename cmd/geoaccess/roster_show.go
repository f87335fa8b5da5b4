package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/geoaccess/geoaccess/data/pg"
)

func rosterShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("roster show", "roster show V [--db URL] [--json]", stderr)
	var db dbFlag
	db.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseWithArgs(fs, args, 1, "a version (42, pg:42 or current)")
	if err != nil {
		return err
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	id, err := resolveVersion(ctx, pool, pos[0])
	if err != nil {
		return err
	}
	v, err := pg.GetVersion(ctx, pool, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, v)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	cur := ""
	if v.Current {
		cur = " (current)"
	}
	fmt.Fprintf(tw, "version\t%s%s\n", v.Label, cur)
	fmt.Fprintf(tw, "status\t%s\n", v.Status)
	fmt.Fprintf(tw, "source\t%s\n", v.Source)
	fmt.Fprintf(tw, "sha256\t%s\n", short(v.Checksum, 64))
	fmt.Fprintf(tw, "created\t%s\n", utc(v.CreatedAt))
	fmt.Fprintf(tw, "finished\t%s\n", utc(v.FinishedAt))
	fmt.Fprintf(tw, "published\t%s\n", utc(v.PublishedAt))
	if !v.RetiredAt.IsZero() {
		fmt.Fprintf(tw, "retired\t%s (providers deleted; this record kept)\n", utc(v.RetiredAt))
	}
	fmt.Fprintf(tw, "rows read\t%d\n", v.RowsRead)
	fmt.Fprintf(tw, "providers\t%d\n", v.Providers)
	fmt.Fprintf(tw, "bad rows\t%d\n", v.BadRows)
	if v.Forced {
		fmt.Fprintf(tw, "forced\tyes: published past the shrink guard\n")
	}
	if v.Error != "" {
		fmt.Fprintf(tw, "error\t%s\n", v.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(v.Counts) == 0 {
		return nil
	}
	fmt.Fprintln(stdout)
	tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DISCIPLINE\tPROVIDERS\tPARTICIPATING\tTELEHEALTH-ONLY\tNON-PARTICIPATING\t")
	var tot pg.DisciplineCounts
	for _, c := range v.Counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", c.Discipline, c.Providers, c.Participating, c.TelehealthOnly, c.Providers-c.Participating)
		tot.Providers += c.Providers
		tot.Participating += c.Participating
		tot.TelehealthOnly += c.TelehealthOnly
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t\n", tot.Providers, tot.Participating, tot.TelehealthOnly, tot.Providers-tot.Participating)
	return tw.Flush()
}
