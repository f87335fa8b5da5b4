package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data/pg"
)

type diffCountsJSON struct {
	Added     int `json:"added"`
	Removed   int `json:"removed"`
	Moved     int `json:"moved"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
}

type providerJSON struct {
	NPI                  string   `json:"npi"`
	Discipline           string   `json:"discipline"`
	Name                 string   `json:"name"`
	Lat                  float64  `json:"lat"`
	Lon                  float64  `json:"lon"`
	Address1             string   `json:"address1,omitempty"`
	Address2             string   `json:"address2,omitempty"`
	City                 string   `json:"city,omitempty"`
	State                string   `json:"state,omitempty"`
	ZIP                  string   `json:"zip,omitempty"`
	CountyFIPS           string   `json:"county_fips"`
	Networks             []string `json:"networks,omitempty"`
	Designations         []string `json:"designations,omitempty"`
	Services             []string `json:"services,omitempty"`
	Participating        bool     `json:"participating"`
	TelehealthOnly       bool     `json:"telehealth_only"`
	AcceptingNewPatients bool     `json:"accepting_new_patients"`
	EffectiveDate        string   `json:"effective_date,omitempty"`
	TerminationDate      string   `json:"termination_date,omitempty"`
}

type changeJSON struct {
	Old    providerJSON `json:"old"`
	New    providerJSON `json:"new"`
	Miles  float64      `json:"miles"`
	Fields []string     `json:"fields"`
}

type diffJSON struct {
	Old       string                    `json:"old"`
	New       string                    `json:"new"`
	MoveMiles float64                   `json:"move_miles"`
	Counts    map[string]diffCountsJSON `json:"counts"`
	Total     diffCountsJSON            `json:"total"`
	Added     []providerJSON            `json:"added"`
	Removed   []providerJSON            `json:"removed"`
	Moved     []changeJSON              `json:"moved"`
	Changed   []changeJSON              `json:"changed"`
}

func toProviderJSON(p *adequacy.Provider) providerJSON {
	return providerJSON{NPI: p.NPI, Discipline: p.Discipline.String(), Name: p.Name, Lat: p.Location.Lat, Lon: p.Location.Lon,
		Address1: p.Address.Line1, Address2: p.Address.Line2, City: p.Address.City, State: p.Address.State, ZIP: p.Address.ZIP,
		CountyFIPS: p.CountyFIPS, Networks: p.Networks, Designations: p.Designations, Services: p.Services, Participating: p.Participating, TelehealthOnly: p.TelehealthOnly,
		AcceptingNewPatients: p.AcceptingNewPatients, EffectiveDate: p.Effective.String(), TerminationDate: p.Termination.String()}
}

func toDiffJSON(d *adequacy.RosterDiff) diffJSON {
	out := diffJSON{Old: d.Old, New: d.New, MoveMiles: d.MoveMiles, Counts: map[string]diffCountsJSON{}, Total: diffCountsJSON(d.Total),
		Added: []providerJSON{}, Removed: []providerJSON{}, Moved: []changeJSON{}, Changed: []changeJSON{}}
	for disc, c := range d.Counts {
		out.Counts[disc.String()] = diffCountsJSON(c)
	}
	for i := range d.Added {
		out.Added = append(out.Added, toProviderJSON(&d.Added[i]))
	}
	for i := range d.Removed {
		out.Removed = append(out.Removed, toProviderJSON(&d.Removed[i]))
	}
	change := func(c *adequacy.ProviderChange) changeJSON {
		f := c.Fields
		if f == nil {
			f = []string{}
		}
		return changeJSON{toProviderJSON(&c.Old), toProviderJSON(&c.New), round(c.Miles, 4), f}
	}
	for i := range d.Moved {
		out.Moved = append(out.Moved, change(&d.Moved[i]))
	}
	for i := range d.Changed {
		out.Changed = append(out.Changed, change(&d.Changed[i]))
	}
	return out
}

func rosterDiff(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("roster diff", "roster diff V1 V2 [--db URL] [--move-miles MI] [--rows N] [--json]", stderr)
	var db dbFlag
	db.register(fs)
	moveMiles := fs.Float64("move-miles", 0.1, "a provider matched farther than this from its old location has moved (statute miles); smaller shifts are ignored")
	rows := fs.Int("rows", 50, "list at most this many rows of each kind (-1: all); --json lists all")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseWithArgs(fs, args, 2, "two versions: the old and the new")
	if err != nil {
		return err
	}
	if *moveMiles < 0 || math.IsNaN(*moveMiles) {
		return fmt.Errorf("%w: --move-miles must be ≥ 0", errUsage)
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	var rs [2]*adequacy.Roster
	for i, a := range pos {
		id, err := resolveVersion(ctx, pool, a)
		if err != nil {
			return err
		}
		if rs[i], err = pg.ReadRoster(ctx, pool, id); err != nil {
			return err
		}
	}
	d := adequacy.DiffRosters(rs[0], rs[1], *moveMiles)
	if *asJSON {
		return writeJSON(stdout, toDiffJSON(&d))
	}
	return writeDiffText(stdout, &d, *rows)
}

func writeDiffText(w io.Writer, d *adequacy.RosterDiff, maxRows int) error {
	fmt.Fprintf(w, "roster diff %s → %s (a move is more than %g mi)\n\n", d.Old, d.New, d.MoveMiles)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DISCIPLINE\tADDED\tREMOVED\tMOVED\tCHANGED\tUNCHANGED\t")
	line := func(name string, c adequacy.DiffCounts) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", name, c.Added, c.Removed, c.Moved, c.Changed, c.Unchanged)
	}
	for _, disc := range adequacy.Disciplines {
		line(disc.String(), d.Counts[disc])
	}
	line("total", d.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	limit := func(n int) int {
		if maxRows < 0 || n < maxRows {
			return n
		}
		return maxRows
	}
	more := func(shown, n int) {
		if shown < n {
			fmt.Fprintf(w, "  … and %d more (--rows -1 or --json for all)\n", n-shown)
		}
	}
	providers := func(title string, ps []adequacy.Provider) {
		if len(ps) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(ps))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NPI\tDISC\tNAME\tLOCATION\tCOUNTY\tPARTICIPATING")
		n := limit(len(ps))
		for _, p := range ps[:n] {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", p.NPI, p.Discipline, p.Name, p.Location, p.CountyFIPS, yesNo(p.Participating))
		}
		tw.Flush()
		more(n, len(ps))
	}
	providers("added", d.Added)
	providers("removed", d.Removed)
	if len(d.Moved) > 0 {
		fmt.Fprintf(w, "\nmoved (%d):\n", len(d.Moved))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NPI\tDISC\tNAME\tFROM\tTO\tMILES\tALSO CHANGED")
		n := limit(len(d.Moved))
		for _, c := range d.Moved[:n] {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%.2f\t%s\n", c.New.NPI, c.New.Discipline, c.New.Name, c.Old.Location, c.New.Location, c.Miles, changesText(&c))
		}
		tw.Flush()
		more(n, len(d.Moved))
	}
	if len(d.Changed) > 0 {
		fmt.Fprintf(w, "\nchanged (%d):\n", len(d.Changed))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NPI\tDISC\tNAME\tLOCATION\tCHANGES")
		n := limit(len(d.Changed))
		for _, c := range d.Changed[:n] {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.New.NPI, c.New.Discipline, c.Old.Name, c.New.Location, changesText(&c))
		}
		tw.Flush()
		more(n, len(d.Changed))
	}
	return nil
}

// changesText is "field old → new; …" for a change's fields.
func changesText(c *adequacy.ProviderChange) string {
	parts := make([]string, 0, len(c.Fields))
	for _, f := range c.Fields {
		parts = append(parts, fmt.Sprintf("%s %s → %s", f, fieldValue(&c.Old, f), fieldValue(&c.New, f)))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

func fieldValue(p *adequacy.Provider, field string) string {
	orNone := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return strconv.Quote(s)
	}
	switch field {
	case "name":
		return orNone(p.Name)
	case "address":
		a := p.Address
		var parts []string
		for _, s := range []string{a.Line1, a.Line2, a.City, strings.TrimSpace(a.State + " " + a.ZIP)} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		return orNone(strings.Join(parts, ", "))
	case "county_fips":
		return orNone(p.CountyFIPS)
	case "networks":
		return orNone(strings.Join(p.Networks, ";"))
	case "designations":
		return orNone(strings.Join(p.Designations, ";"))
	case "services":
		return orNone(strings.Join(p.Services, ";"))
	case "participating":
		return yesNo(p.Participating)
	case "telehealth_only":
		return yesNo(p.TelehealthOnly)
	case "accepting_new_patients":
		return yesNo(p.AcceptingNewPatients)
	case "effective_date":
		return orNone(p.Effective.String())
	case "termination_date":
		return orNone(p.Termination.String())
	}
	return "?"
}

func yesNo(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}
