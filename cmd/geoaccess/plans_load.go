package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
)

type plansLoadJSON struct {
	Published bool            `json:"published"`
	Version   *pg.PlanVersion `json:"version"`
	Previous  *pg.PlanVersion `json:"previous,omitempty"`
	Error     string          `json:"error,omitempty"`
	// Where the file is wrong, when it was refused.
	Line int    `json:"line,omitempty"`
	Path string `json:"path,omitempty"`
}

func plansLoad(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("plans load", "plans load FILE [--db URL] [--source NAME] [--profile-file F]... [--json]", stderr)
	var pf plansFlags
	pf.db.register(fs)
	pf.registerProfiles(fs)
	source := fs.String("source", "", "name the version's source (default: the file name)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseWithArgs(fs, args, 1, "the plans file")
	if err != nil {
		return err
	}
	b, name, err := readInput(pos[0])
	if err != nil {
		return fmt.Errorf("plans load: %w", err)
	}
	profiles, err := pf.profiles()
	if err != nil {
		return err
	}
	ctx, pool, done, err := pf.db.open()
	if err != nil {
		return err
	}
	defer done()
	res, lerr := pg.LoadPlans(ctx, pool, name, b, pg.PlansLoadOptions{Source: *source, Profiles: profiles})
	if *asJSON {
		out := plansLoadJSON{Published: lerr == nil, Version: res.Version, Previous: res.Previous, Error: errText(lerr)}
		if pe, ok := errors.AsType[*data.PlansError](lerr); ok {
			out.Line, out.Path = pe.Line, pe.Path
		}
		if err := writeJSON(stdout, out); err != nil {
			return err
		}
		return lerr
	}
	v := res.Version
	switch {
	case lerr == nil:
		fmt.Fprintf(stdout, "%s validated; published version %d (%s) at %s", plans(v.Plans), v.ID, v.Label, utc(v.PublishedAt))
		if res.Previous != nil {
			fmt.Fprintf(stdout, ", replacing version %d", res.Previous.ID)
		}
		fmt.Fprintln(stdout, "; listeners notified")
		fmt.Fprintf(stdout, "sha256 %s\n", v.SHA256)
	case v != nil:
		fmt.Fprintf(stdout, "version %d %s: nothing published", v.ID, v.Status)
		if res.Previous != nil {
			fmt.Fprintf(stdout, "; version %d stays current", res.Previous.ID)
		}
		fmt.Fprintln(stdout)
	default:
		fmt.Fprintln(stdout, "nothing published")
	}
	return lerr
}
