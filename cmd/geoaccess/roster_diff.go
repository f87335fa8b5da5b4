package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
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
	Impact    *impactJSON               `json:"impact,omitempty"`
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
	fs := newFlags("roster diff", "roster diff V1 V2 [--db URL] [--move-miles MI] [--rows N] [--json] [--impact --members FILE [--profile P] [--plan ID] [--as-of D]]", stderr)
	var db dbFlag
	db.register(fs)
	withImpact := fs.Bool("impact", false, "also evaluate --members on both versions: the members who lose or gain access, the counties that flip")
	members := fs.String("members", "", "with --impact: the member CSV")
	profile := fs.String("profile", "", "with --impact: the standards profile (default: the plan's, or "+data.DefaultProfile+")")
	plan := fs.String("plan", "", "with --impact: the members' plan, from the database's current plans")
	asOf := fs.String("as-of", "", "with --impact: as-of date, YYYY-MM-DD (default: today)")
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
	if *withImpact != (*members != "") {
		return fmt.Errorf("%w: --impact and --members go together", errUsage)
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
	var im *adequacy.Impact
	if *withImpact {
		ef := engineFlags{asOf: *asOf}
		opts := adequacy.ImpactOptions{Profile: *profile, Plan: *plan}
		if opts.AsOf, opts.AsOfToday, err = ef.date(); err != nil {
			return err
		}
		if im, err = diffImpact(ctx, pool, rs[0], rs[1], *members, opts, stderr); err != nil {
			return err
		}
	}
	if *asJSON {
		j := toDiffJSON(&d)
		if im != nil {
			j.Impact = toImpactJSON(im)
		}
		return writeJSON(stdout, j)
	}
	if err := writeDiffText(stdout, &d, *rows); err != nil {
		return err
	}
	if im != nil {
		writeDiffImpact(stdout, im, *rows)
	}
	return nil
}

// diffImpact evaluates the members on the old version and applies the
// change to the new one.
func diffImpact(ctx context.Context, pool *pgxpool.Pool, old, new *adequacy.Roster, members string, opts adequacy.ImpactOptions, stderr io.Writer) (*adequacy.Impact, error) {
	eng, _, err := data.NewEngine(data.Setup{})
	if err != nil {
		return nil, err
	}
	if opts.Plan != "" {
		if eng.Plans, _, err = pg.CurrentPlans(ctx, pool, eng.Profiles); err != nil {
			return nil, fmt.Errorf("--plan: %w", err)
		}
	}
	n, err := eng.NewNetwork(old)
	if err != nil {
		return nil, err
	}
	b, rejected, err := makeBaseline(ctx, eng.WithNetwork(n), members, opts, stderr)
	if err != nil {
		return nil, fmt.Errorf("roster diff --impact: %w", err)
	}
	if len(rejected) > 0 {
		fmt.Fprintf(stderr, "geoaccess: %s: %d member rows not evaluated (first: line %d, %s)\n", members, len(rejected), rejected[0].Line, rejected[0].Reason)
	}
	return b.Impact(ctx, adequacy.ChangeBetween(old, new))
}

type impactJSON struct {
	Profile         string              `json:"profile"`
	ProfileVersion  string              `json:"profile_version"`
	AsOf            string              `json:"as_of"`
	Plan            string              `json:"plan,omitempty"`
	Members         int                 `json:"members_evaluated"`
	Rejected        int                 `json:"members_rejected"`
	RemovedCounting int                 `json:"rows_removed_counting"`
	AddedCounting   int                 `json:"rows_added_counting"`
	Totals          []impactTotalJSON   `json:"totals"`
	Flipped         []impactRowJSON     `json:"counties_flipped"`
	Lost            []changedMemberJSON `json:"members_lost"`
	Gained          []changedMemberJSON `json:"members_gained"`
}

type impactTotalJSON struct {
	Discipline   string `json:"discipline"`
	Members      int    `json:"members"`
	ServedBefore int    `json:"served_before"`
	ServedAfter  int    `json:"served_after"`
	Lost         int    `json:"lost"`
	Gained       int    `json:"gained"`
	ToFail       int    `json:"counties_to_fail"`
	ToPass       int    `json:"counties_to_pass"`
}

type impactRowJSON struct {
	CountyFIPS      string  `json:"county_fips"`
	Discipline      string  `json:"discipline"`
	Members         int     `json:"members"`
	ServedPctBefore float64 `json:"served_pct_before"`
	ServedPctAfter  float64 `json:"served_pct_after"`
	PassBefore      bool    `json:"pass_before"`
	PassAfter       bool    `json:"pass_after"`
}

type changedMemberJSON struct {
	MemberID           string   `json:"member_id"`
	Discipline         string   `json:"discipline"`
	CountyFIPS         string   `json:"county_fips"`
	NearestNPIBefore   string   `json:"nearest_npi_before"`
	NearestMilesBefore *float64 `json:"nearest_miles_before"`
	NearestNPIAfter    string   `json:"nearest_npi_after"`
	NearestMilesAfter  *float64 `json:"nearest_miles_after"`
}

func toImpactJSON(im *adequacy.Impact) *impactJSON {
	b := im.Baseline
	j := &impactJSON{Profile: b.Profile.Name, ProfileVersion: b.Profile.Version, AsOf: b.AsOf.String(), Members: b.Members, Rejected: len(b.Rejected),
		RemovedCounting: im.RemovedCounting, AddedCounting: im.AddedCounting, Flipped: []impactRowJSON{}}
	if b.Plan != nil {
		j.Plan = b.Plan.ID
	}
	for _, t := range im.Totals {
		j.Totals = append(j.Totals, impactTotalJSON{t.Discipline.String(), t.Members, t.ServedBefore, t.ServedAfter, t.Lost, t.Gained, t.ToFail, t.ToPass})
	}
	for _, r := range im.Rows {
		if r.Before.Pass != r.After.Pass {
			j.Flipped = append(j.Flipped, impactRowJSON{r.County.FIPS, r.Discipline.String(), r.Members, round(r.Before.ServedPct, 2), round(r.After.ServedPct, 2), r.Before.Pass, r.After.Pass})
		}
	}
	mj := func(ms []adequacy.ChangedMember) []changedMemberJSON {
		out := []changedMemberJSON{}
		mi := func(x float64) *float64 {
			if math.IsInf(x, 0) {
				return nil
			}
			v := round(x, 4)
			return &v
		}
		for _, m := range ms {
			out = append(out, changedMemberJSON{m.MemberID, m.Discipline.String(), m.CountyFIPS, m.Before.NPI, mi(m.Before.Miles), m.After.NPI, mi(m.After.Miles)})
		}
		return out
	}
	j.Lost, j.Gained = mj(im.Lost), mj(im.Gained)
	return j
}

// writeDiffImpact adds the members affected to a diff's text.
func writeDiffImpact(w io.Writer, im *adequacy.Impact, maxRows int) {
	fmt.Fprintln(w)
	b := im.Baseline
	fmt.Fprintf(w, "impact on %d members (profile %s %s, as of %s", b.Members, b.Profile.Name, b.Profile.Version, b.AsOf)
	if b.Plan != nil {
		fmt.Fprintf(w, ", plan %s", b.Plan.ID)
	}
	fmt.Fprintf(w, "; %d rejected): %d changed rows count for them\n", len(b.Rejected), im.RemovedCounting+im.AddedCounting)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DISCIPLINE\tLOST\tGAINED\tSERVED BEFORE\tAFTER\tCOUNTIES TO FAIL\tTO PASS\t")
	for _, t := range im.Totals {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.Discipline, t.Lost, t.Gained, t.ServedBefore, t.ServedAfter, t.ToFail, t.ToPass)
	}
	tw.Flush()
	limit := func(n int) int {
		if maxRows < 0 || n < maxRows {
			return n
		}
		return maxRows
	}
	for _, part := range []struct {
		title string
		ms    []adequacy.ChangedMember
	}{{"members who lose access", im.Lost}, {"members who gain access", im.Gained}} {
		if len(part.ms) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d):\n", part.title, len(part.ms))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  MEMBER\tDISC\tCOUNTY\tNEAREST BEFORE\tMILES\tNEAREST AFTER\tMILES")
		n := limit(len(part.ms))
		for _, m := range part.ms[:n] {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.MemberID, m.Discipline, m.CountyFIPS, npiOrDash(m.Before.NPI), milesText(m.Before.Miles), npiOrDash(m.After.NPI), milesText(m.After.Miles))
		}
		tw.Flush()
		if n < len(part.ms) {
			fmt.Fprintf(w, "  … and %d more (--rows -1 or --json for all)\n", len(part.ms)-n)
		}
	}
}

func npiOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func milesText(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
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
