package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

func plansList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plans list", "plans list (--plans-file F | --db URL [--version V]) [--profile-file F]... [--json]", stderr)
	var pf plansFlags
	pf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseWithArgs(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	reg, err := pf.load()
	if err != nil {
		return err
	}
	counties, err := countiesTable()
	if err != nil {
		return err
	}
	if *asJSON {
		out := struct {
			Version string     `json:"version"`
			Source  string     `json:"source"`
			Record  any        `json:"record,omitempty"` // the database's version record
			Plans   []planJSON `json:"plans"`
		}{Version: reg.Version, Source: reg.Source, Plans: []planJSON{}}
		if reg.version != nil {
			out.Record = reg.version
		}
		for _, p := range reg.All() {
			out.Plans = append(out.Plans, toPlanJSON(p, counties, false))
		}
		return writeJSON(stdout, out)
	}
	fmt.Fprintf(stdout, "%s: %s\n\n", reg.describe(), plans(reg.Len()))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPRODUCT LINE\tPROFILE\tNETWORKS\tSERVICE AREA\tEFFECTIVE")
	for _, p := range reg.All() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, p.ProductLine, profileText(p), strings.Join(p.Networks, ", "),
			summarise(p.ServiceArea, counties, false).brief(), effectiveText(p.Effective))
	}
	return tw.Flush()
}
