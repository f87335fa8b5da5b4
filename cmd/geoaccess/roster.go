package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
)

func init() {
	register("roster", "load rosters into PostgreSQL; list, show, diff, roll back, retire versions", runRoster)
}

const rosterUsage = `usage:
  geoaccess roster load FILE.csv [--db URL] [--max-bad-rows N] [--source NAME] [--max-shrink 20%] [--force] [--keep N] [--json]
  geoaccess roster list [--db URL] [--limit N] [--json]
  geoaccess roster show V [--db URL] [--json]
  geoaccess roster diff V1 V2 [--db URL] [--move-miles MI] [--rows N] [--json]
  geoaccess roster rollback V [--db URL] [--max-shrink 20%] [--force]
  geoaccess roster retire --keep N [--db URL] [--json]

V is a version id (42 or pg:42) or "current". FILE "-" reads standard input.
--db defaults to $DATABASE_URL. The CSV format is in docs/roster-csv.md,
the database in docs/roster-db.md.`

func runRoster(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, rosterUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: roster needs a subcommand", errUsage)
		}
		return nil
	}
	sub := map[string]func([]string, io.Writer, io.Writer) error{
		"load": rosterLoad, "list": rosterList, "show": rosterShow, "diff": rosterDiff,
		"rollback": rosterRollback, "retire": rosterRetire,
	}[args[0]]
	if sub == nil {
		return fmt.Errorf("%w: unknown roster subcommand %q", errUsage, args[0])
	}
	return sub(args[1:], stdout, stderr)
}

// parseWithArgs parses flags given before, between or after the
// positional arguments (the flag package stops at the first positional
// one) and wants exactly n positional arguments.
func parseWithArgs(fs *flag.FlagSet, args []string, n int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != n {
		fs.Usage()
		return nil, fmt.Errorf("%w: want %s, got %d argument(s)", errUsage, what, len(pos))
	}
	return pos, nil
}

// shrinkFlag is a fraction given as 0.2 or 20%.
type shrinkFlag float64

func (s *shrinkFlag) String() string { return strconv.FormatFloat(100*float64(*s), 'f', -1, 64) + "%" }

func (s *shrinkFlag) Set(v string) error {
	pct := strings.HasSuffix(v, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil || math.IsNaN(f) {
		return fmt.Errorf("%q is not a fraction (0.2) or a percentage (20%%)", v)
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 {
		return fmt.Errorf("%q is not between 0 and 100%%", v)
	}
	*s = shrinkFlag(f)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// rowErrorJSON is a bad row in JSON.
type rowErrorJSON struct {
	Line   int    `json:"line"`
	Key    string `json:"npi,omitempty"`
	Column string `json:"column,omitempty"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

type shrinkJSON struct {
	Discipline string  `json:"discipline"`
	Old        int     `json:"old_participating"`
	New        int     `json:"new_participating"`
	Shrink     float64 `json:"shrink"` // fraction lost; negative when it grew
}

type loadJSON struct {
	Published bool           `json:"published"`
	Version   *pg.Version    `json:"version"`
	Previous  *pg.Version    `json:"previous,omitempty"`
	Rows      int            `json:"rows"`
	Accepted  int            `json:"accepted"`
	Bad       int            `json:"bad"`
	MaxBad    int            `json:"max_bad_rows"`
	SHA256    string         `json:"sha256,omitempty"`
	Errors    []rowErrorJSON `json:"errors"`
	// Unplaced providers are in no county: loaded, and listed (the first
	// lines) so their coordinates get checked.
	Unplaced      int          `json:"unplaced"`
	UnplacedLines []int        `json:"unplaced_lines,omitempty"`
	Shrinks       []shrinkJSON `json:"shrinks,omitempty"`
	Retired       []int64      `json:"retired,omitempty"`
	Error         string       `json:"error,omitempty"`
}

func rosterLoad(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("roster load", "roster load FILE.csv [flags]", stderr)
	var db dbFlag
	db.register(fs)
	maxBad := fs.Int("max-bad-rows", 0, "fail (publish nothing) when more rows than this are bad; -1: no limit. Bad rows are never loaded and always listed")
	source := fs.String("source", "", "name the version's source (default: the file name)")
	maxShrink := shrinkFlag(adequacy.DefaultMaxShrink)
	fs.Var(&maxShrink, "max-shrink", "refuse a roster that cuts any discipline's participating providers by more than this vs the current version (0.2 or 20%)")
	force := fs.Bool("force", false, "publish even past --max-shrink")
	keep := fs.Int("keep", 0, "after publishing, retire all but the current and the newest published versions, keeping this many (0: keep all)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseWithArgs(fs, args, 1, "the roster CSV file")
	if err != nil {
		return err
	}
	if *keep < 0 {
		return fmt.Errorf("%w: --keep must be ≥ 0", errUsage)
	}
	file := pos[0]
	var in io.Reader = os.Stdin
	name := "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("roster load: %w", err)
		}
		defer f.Close()
		in, name = f, filepath.Base(file)
	}
	if *source == "" {
		*source = name
	}
	g, err := data.EmbeddedGeography()
	if err != nil {
		return err
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()

	opts := pg.LoadOptions{Source: *source, Counties: g.Counties, MaxBadRows: *maxBad, MaxShrink: float64(maxShrink), Force: *force}
	if !*asJSON {
		// Bad rows as they are found: a long file shows its problems early.
		opts.OnBadRow = func(es []data.RowError) {
			for _, e := range es {
				fmt.Fprintf(stdout, "bad row: %v\n", e)
			}
		}
	}
	res, lerr := pg.Load(ctx, pool, in, opts)
	var retired []int64
	var rerr error
	if lerr == nil && *keep > 0 {
		retired, rerr = pg.Retire(ctx, pool, *keep)
	}
	if *asJSON {
		out := loadJSON{Published: lerr == nil, Version: res.Version, Previous: res.Previous, Rows: res.Report.Rows,
			Accepted: res.Report.Accepted, Bad: res.Report.Bad, MaxBad: *maxBad, SHA256: res.Report.SHA256,
			Errors: []rowErrorJSON{}, Unplaced: res.Report.Unplaced, UnplacedLines: res.Report.UnplacedLines,
			Retired: retired, Error: errText(errors.Join(lerr, rerr))}
		for _, e := range res.Report.Errors {
			out.Errors = append(out.Errors, rowErrorJSON(e))
		}
		for _, s := range res.Shrinks {
			out.Shrinks = append(out.Shrinks, shrinkJSON{s.Discipline.String(), s.Old, s.New, round(s.Fraction(), 4)})
		}
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
	} else {
		writeLoadText(stdout, res, *maxBad, lerr)
		if len(retired) > 0 {
			fmt.Fprintf(stdout, "retired versions %s (kept the newest %d)\n", joinIDs(retired), *keep)
		}
	}
	if lerr != nil {
		return lerr
	}
	if rerr != nil {
		return fmt.Errorf("published, but retention failed: %w", rerr)
	}
	return nil
}

func writeLoadText(w io.Writer, res *pg.LoadResult, maxBad int, lerr error) {
	rep := &res.Report
	limit := strconv.Itoa(maxBad)
	if maxBad < 0 {
		limit = "none"
	}
	fmt.Fprintf(w, "%d rows read, %d accepted, %d bad (limit %s)\n", rep.Rows, rep.Accepted, rep.Bad, limit)
	if note := rep.UnplacedNote(); note != "" {
		fmt.Fprintln(w, note)
	}
	if rep.SHA256 != "" {
		fmt.Fprintf(w, "sha256 %s\n", rep.SHA256)
	}
	v := res.Version
	switch {
	case lerr == nil && v != nil:
		fmt.Fprintf(w, "published version %d (%s) at %s", v.ID, v.Label, utc(v.PublishedAt))
		if res.Previous != nil {
			fmt.Fprintf(w, ", replacing version %d", res.Previous.ID)
		}
		if v.Forced {
			fmt.Fprint(w, ", forced past the shrink guard")
		}
		fmt.Fprintln(w)
	case v != nil:
		fmt.Fprintf(w, "version %d %s: nothing published", v.ID, v.Status)
		if res.Previous != nil {
			fmt.Fprintf(w, "; version %d stays current", res.Previous.ID)
		}
		fmt.Fprintln(w)
	default:
		fmt.Fprintln(w, "nothing published")
	}
	if v == nil || len(v.Counts) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(res.Shrinks) > 0 {
		fmt.Fprintln(tw, "DISCIPLINE\tPROVIDERS\tPARTICIPATING\tBEFORE\tCHANGE\t")
		for i, c := range v.Counts {
			s := res.Shrinks[i]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%+.1f%%\t\n", c.Discipline, c.Providers, c.Participating, s.Old, -100*s.Fraction())
		}
	} else {
		fmt.Fprintln(tw, "DISCIPLINE\tPROVIDERS\tPARTICIPATING\t")
		for _, c := range v.Counts {
			fmt.Fprintf(tw, "%s\t%d\t%d\t\n", c.Discipline, c.Providers, c.Participating)
		}
	}
	tw.Flush()
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

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

func utc(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime) + " UTC"
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	if s == "" {
		return "-"
	}
	return s
}

// resolveVersion resolves V: an id, pg:ID or "current".
func resolveVersion(ctx context.Context, pool *pgxpool.Pool, s string) (int64, error) {
	if strings.EqualFold(s, "current") {
		v, err := pg.CurrentVersion(ctx, pool)
		if err != nil {
			return 0, err
		}
		return v.ID, nil
	}
	id, err := pg.ParseVersion(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %v (or current)", errUsage, err)
	}
	return id, nil
}

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

func rosterRollback(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("roster rollback", "roster rollback V [--db URL] [--max-shrink 20%] [--force]", stderr)
	var db dbFlag
	db.register(fs)
	maxShrink := shrinkFlag(adequacy.DefaultMaxShrink)
	fs.Var(&maxShrink, "max-shrink", "refuse if any discipline's participating providers fall by more than this vs the current version")
	force := fs.Bool("force", false, "roll back even past --max-shrink")
	pos, err := parseWithArgs(fs, args, 1, "the version to make current")
	if err != nil {
		return err
	}
	id, err := pg.ParseVersion(pos[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	prev, err := pg.CurrentVersion(ctx, pool)
	if err != nil && !errors.Is(err, pg.ErrNoPublishedRoster) {
		return err
	}
	v, err := pg.SetCurrent(ctx, pool, id, pg.PublishOptions{MaxShrink: float64(maxShrink), Force: *force})
	if err != nil {
		return err
	}
	if prev != nil && prev.ID == v.ID {
		fmt.Fprintf(stdout, "version %d is already current\n", v.ID)
		return nil
	}
	fmt.Fprintf(stdout, "version %d (%s) is current", v.ID, v.Label)
	if prev != nil {
		fmt.Fprintf(stdout, ", replacing version %d", prev.ID)
	}
	fmt.Fprintln(stdout, "; listeners notified")
	return nil
}

func rosterRetire(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("roster retire", "roster retire --keep N [--db URL] [--json]", stderr)
	var db dbFlag
	db.register(fs)
	keep := fs.Int("keep", 0, "keep the current version and the newest published others, this many in all (≥ 1)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseWithArgs(fs, args, 0, "no arguments"); err != nil {
		return err
	}
	if *keep < 1 {
		return fmt.Errorf("%w: --keep N (at least 1) is required", errUsage)
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()
	ids, err := pg.Retire(ctx, pool, *keep)
	if err != nil {
		return err
	}
	if *asJSON {
		if ids == nil {
			ids = []int64{}
		}
		return writeJSON(stdout, struct {
			Retired []int64 `json:"retired"`
		}{ids})
	}
	if len(ids) == 0 {
		fmt.Fprintln(stdout, "nothing to retire")
		return nil
	}
	fmt.Fprintf(stdout, "retired versions %s: providers deleted, records kept\n", joinIDs(ids))
	return nil
}

type diffCountsJSON struct {
	Added     int `json:"added"`
	Removed   int `json:"removed"`
	Moved     int `json:"moved"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
}

type providerJSON struct {
	NPI                  string  `json:"npi"`
	Discipline           string  `json:"discipline"`
	Name                 string  `json:"name"`
	Lat                  float64 `json:"lat"`
	Lon                  float64 `json:"lon"`
	Address1             string  `json:"address1,omitempty"`
	Address2             string  `json:"address2,omitempty"`
	City                 string  `json:"city,omitempty"`
	State                string  `json:"state,omitempty"`
	ZIP                  string  `json:"zip,omitempty"`
	CountyFIPS           string  `json:"county_fips"`
	Network              string  `json:"network,omitempty"`
	Participating        bool    `json:"participating"`
	TelehealthOnly       bool    `json:"telehealth_only"`
	AcceptingNewPatients bool    `json:"accepting_new_patients"`
	EffectiveDate        string  `json:"effective_date,omitempty"`
	TerminationDate      string  `json:"termination_date,omitempty"`
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
		CountyFIPS: p.CountyFIPS, Network: p.Network, Participating: p.Participating, TelehealthOnly: p.TelehealthOnly,
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
	case "network":
		return orNone(p.Network)
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
