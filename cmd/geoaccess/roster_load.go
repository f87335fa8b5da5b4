package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/cliflag"
)

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
	// Codes of the designations and services columns that were ignored:
	// all counted, the first data.MaxRosterWarnings listed.
	WarningCount int            `json:"warning_count"`
	Warnings     []rowErrorJSON `json:"warnings"`
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
	maxShrink := cliflag.Fraction(adequacy.DefaultMaxShrink)
	fs.Var(&maxShrink, "max-shrink", "refuse a roster that cuts any discipline's participating providers by more than this vs the current version (0.2 or 20%)")
	force := fs.Bool("force", false, "publish even past --max-shrink")
	keep := fs.Int("keep", 0, "after publishing, retire all but the current and the newest published versions, keeping this many (0: keep all)")
	asJSON := fs.Bool("json", false, "print JSON")
	servicesFile := fs.String("services-file", "", "services vocabulary (YAML or JSON) that extends or replaces the embedded one, for the designations and services columns (docs/services.md)")
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
	vocab, err := data.LoadVocabulary(*servicesFile)
	if err != nil {
		return err
	}
	ctx, pool, done, err := db.open()
	if err != nil {
		return err
	}
	defer done()

	opts := pg.LoadOptions{Source: *source, Counties: g.Counties, Vocabulary: vocab, MaxBadRows: *maxBad, MaxShrink: adequacy.MaxShrink(float64(maxShrink)), Force: *force}
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
			Errors: []rowErrorJSON{}, WarningCount: res.Report.WarningCount, Warnings: []rowErrorJSON{},
			Unplaced: res.Report.Unplaced, UnplacedLines: res.Report.UnplacedLines, Retired: retired, Error: errText(errors.Join(lerr, rerr))}
		for _, e := range res.Report.Errors {
			out.Errors = append(out.Errors, rowErrorJSON(e))
		}
		for _, e := range res.Report.Warnings {
			out.Warnings = append(out.Warnings, rowErrorJSON(e))
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
	writeWarnings(w, rep)
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

// writeWarnings lists the designation and service codes a roster read
// ignored, and how many in all.
func writeWarnings(w io.Writer, rep *data.RosterReport) {
	if rep.WarningCount == 0 {
		return
	}
	for _, e := range rep.Warnings {
		fmt.Fprintf(w, "warning: %v\n", e)
	}
	if more := rep.WarningCount - len(rep.Warnings); more > 0 {
		fmt.Fprintf(w, "warning: and %d more\n", more)
	}
	fmt.Fprintf(w, "%d designation or service codes ignored (unknown, or not of the row's discipline)\n", rep.WarningCount)
}
