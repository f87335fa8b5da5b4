package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/geoaccess/geoaccess/adequacy"
)

func plansShow(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plans show", "plans show ID (--plans-file F | --db URL [--version V]) [--profile-file F]... [--json]", stderr)
	var pf plansFlags
	pf.register(fs)
	all := fs.Bool("counties", false, "name every county, whole states too")
	asJSON := fs.Bool("json", false, "print JSON (every county of the service area, by name)")
	pos, err := parseWithArgs(fs, args, 1, "a plan id")
	if err != nil {
		return err
	}
	reg, err := pf.load()
	if err != nil {
		return err
	}
	p, err := reg.Get(pos[0])
	if err != nil {
		return fmt.Errorf("%w in %s (plans: %s)", err, reg.Version, ids(reg.All(), 20))
	}
	counties, err := countiesTable()
	if err != nil {
		return err
	}
	j := toPlanJSON(p, counties, true)
	if *asJSON {
		return writeJSON(stdout, struct {
			Version string `json:"version"`
			Source  string `json:"source"`
			planJSON
		}{reg.Version, reg.Source, j})
	}
	profiles, err := pf.profiles()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "plan\t%s\n", p.ID)
	fmt.Fprintf(tw, "name\t%s\n", p.Name)
	fmt.Fprintf(tw, "product line\t%s\n", p.ProductLine)
	if p.ProfileVersion != "" {
		fmt.Fprintf(tw, "profile\t%s, pinned to version %s\n", p.Profile, p.ProfileVersion)
	} else {
		var vs []string
		if versions, err := profiles.Versions(p.Profile); err == nil {
			for _, v := range versions {
				vs = append(vs, fmt.Sprintf("%s: %s", v.Version, v.Effective))
			}
		}
		fmt.Fprintf(tw, "profile\t%s, the version in effect on the as-of date (loaded: %s)\n", p.Profile, strings.Join(vs, "; "))
	}
	fmt.Fprintf(tw, "networks\t%s\n", strings.Join(p.Networks, ", "))
	fmt.Fprintf(tw, "effective\t%s\n", effectiveText(p.Effective))
	fmt.Fprintf(tw, "service area\t%s\n", j.ServiceArea.brief())
	fmt.Fprintf(tw, "from\t%s\n", reg.describe())
	if err := tw.Flush(); err != nil {
		return err
	}
	if j.ServiceArea == nil {
		fmt.Fprintln(stdout, "\nno service area: members anywhere are the plan's")
		return nil
	}
	// Each state: whole, all but a few, or the counties by name.
	in := map[string]bool{}
	for _, c := range j.ServiceArea.List {
		in[c.FIPS] = true
	}
	byState := map[string][]string{} // state → counties not in the area
	for _, c := range counties.All() {
		if !in[c.FIPS] {
			byState[c.State] = append(byState[c.State], c.Name+" ("+c.FIPS+")")
		}
	}
	for _, st := range j.ServiceArea.States {
		var names []string
		for _, c := range j.ServiceArea.List {
			if c.State == st.State {
				names = append(names, c.Name+" ("+c.FIPS+")")
			}
		}
		switch out := byState[st.State]; {
		case st.Counties == st.Of && !*all:
			fmt.Fprintf(stdout, "\n%s: all %d counties\n", orUnknown(st.State), st.Of)
		case st.Counties == st.Of:
			fmt.Fprintf(stdout, "\n%s: all %d counties:\n", orUnknown(st.State), st.Of)
			wrap(stdout, names, "  ", 100)
		case st.State != "" && len(out) < len(names) && !*all:
			fmt.Fprintf(stdout, "\n%s: %d of %d counties, all but:\n", st.State, st.Counties, st.Of)
			wrap(stdout, out, "  ", 100)
		default:
			fmt.Fprintf(stdout, "\n%s: %d of %d counties:\n", orUnknown(st.State), st.Counties, st.Of)
			wrap(stdout, names, "  ", 100)
		}
	}
	if !*all {
		fmt.Fprintln(stdout, "\n(--counties names every county)")
	}
	return nil
}

// ids lists the first n plans' ids.
func ids(ps []*adequacy.Plan, n int) string {
	var out []string
	for i, p := range ps {
		if i == n {
			out = append(out, fmt.Sprintf("… %d more", len(ps)-n))
			break
		}
		out = append(out, p.ID)
	}
	return strings.Join(out, ", ")
}

func orUnknown(state string) string {
	if state == "" {
		return "unknown state"
	}
	return state
}

// wrap writes words joined by ", " in lines of at most width bytes.
func wrap(w io.Writer, words []string, indent string, width int) {
	line := indent
	for i, word := range words {
		if i < len(words)-1 {
			word += ","
		}
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		fmt.Fprintln(w, line)
	}
}
