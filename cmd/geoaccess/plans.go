package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/pg"
	"github.com/geoaccess/geoaccess/internal/cliflag"
)

func init() {
	register("plans", "the client plans: list, show; load plans files into PostgreSQL, list versions, roll back", runPlans)
}

const plansUsage = `usage:
  geoaccess plans list (--plans-file F | --db URL [--version V]) [--profile-file F]... [--json]
  geoaccess plans show ID (--plans-file F | --db URL [--version V]) [--profile-file F]... [--json]
  geoaccess plans load FILE [--db URL] [--source NAME] [--profile-file F]... [--json]
  geoaccess plans versions [--db URL] [--limit N] [--json]
  geoaccess plans rollback V [--db URL] [--profile-file F]...

A plans file is YAML or JSON (docs/plans.md); its plans are validated
against the built-in profiles and those given with --profile-file.
V is a plans version id (7 or pg:7) or "current". FILE "-" reads standard
input. --db defaults to $DATABASE_URL; list and show read the database's
current plans unless given --plans-file.`

// runPlans runs a plans subcommand; each is in its own file,
// plans_<subcommand>.go, and this one keeps what they share.
func runPlans(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, plansUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: plans needs a subcommand", errUsage)
		}
		return nil
	}
	sub := map[string]func([]string, io.Writer, io.Writer) error{
		"list": plansList, "show": plansShow, "load": plansLoad, "versions": plansVersions, "rollback": plansRollback,
	}[args[0]]
	if sub == nil {
		return fmt.Errorf("%w: unknown plans subcommand %q", errUsage, args[0])
	}
	return sub(args[1:], stdout, stderr)
}

// plansFlags say where plans come from: a file, or a version in the
// database; and which profiles validate them.
type plansFlags struct {
	file         string
	db           dbFlag
	version      string
	profileFiles cliflag.Multi
}

func (f *plansFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.file, "plans-file", "", "read the plans from this YAML or JSON file")
	f.db.register(fs)
	fs.StringVar(&f.version, "version", "current", "with --db: the plans version to read (7, pg:7 or current)")
	f.registerProfiles(fs)
}

func (f *plansFlags) registerProfiles(fs *flag.FlagSet) {
	fs.Var(&f.profileFiles, "profile-file", "also load this standards profile file, which plans may name (repeatable)")
}

// profiles are the built-in profiles and those of --profile-file.
func (f *plansFlags) profiles() (*adequacy.Profiles, error) {
	return data.LoadProfiles(f.profileFiles...)
}

// loadedPlans is a registry and where it came from.
type loadedPlans struct {
	*adequacy.Plans
	version *pg.PlanVersion // from the database; nil from a file
}

// describe says where the plans came from, in a line.
func (l *loadedPlans) describe() string {
	if l.version == nil {
		return fmt.Sprintf("plans %s from %s", l.Version, l.Source)
	}
	cur := ""
	if l.version.Current {
		cur = ", current"
	}
	return fmt.Sprintf("plans %s (%s%s, published %s) from %s", l.Version, l.version.Status, cur, utc(l.version.PublishedAt), l.Source)
}

// load reads the plans: --plans-file, or else the database.
func (f *plansFlags) load() (*loadedPlans, error) {
	dbGiven := f.db.url != ""
	switch {
	case f.file != "" && dbGiven:
		return nil, fmt.Errorf("%w: give --plans-file or --db, not both", errUsage)
	case f.file == "" && !dbGiven && os.Getenv("DATABASE_URL") == "":
		return nil, fmt.Errorf("%w: give --plans-file FILE, or --db URL (or set DATABASE_URL) to read the database's plans", errUsage)
	case f.file != "" && f.version != "current":
		return nil, fmt.Errorf("%w: --version reads the database: not with --plans-file", errUsage)
	}
	profiles, err := f.profiles()
	if err != nil {
		return nil, err
	}
	if f.file != "" {
		reg, err := data.LoadPlans(f.file, profiles, nil)
		if err != nil {
			return nil, err
		}
		return &loadedPlans{Plans: reg}, nil
	}
	ctx, pool, done, err := f.db.open()
	if err != nil {
		return nil, err
	}
	defer done()
	id, err := resolvePlansVersion(ctx, pool, f.version)
	if err != nil {
		return nil, err
	}
	reg, v, err := pg.PlansVersion(ctx, pool, id, profiles)
	if err != nil {
		if adequacy.VersionCodeOf(err) == adequacy.VersionInvalidRows {
			err = fmt.Errorf("%w (a profile the plans name may need --profile-file)", err)
		}
		return nil, err
	}
	return &loadedPlans{Plans: reg, version: v}, nil
}

// resolvePlansVersion resolves V: an id, pg:ID or "current".
func resolvePlansVersion(ctx context.Context, pool *pgxpool.Pool, s string) (int64, error) {
	if strings.EqualFold(s, "current") {
		v, err := pg.CurrentPlanVersion(ctx, pool)
		if errors.Is(err, pg.ErrNoPublishedPlans) {
			return 0, fmt.Errorf("%w: load a plans file first: geoaccess plans load FILE", err)
		}
		if err != nil {
			return 0, err
		}
		return v.ID, nil
	}
	id, err := pg.ParsePlansVersion(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %v (or current)", errUsage, err)
	}
	return id, nil
}

// readInput reads FILE, or standard input for "-", at most what a plans
// file may hold; name is what to call it.
func readInput(file string) (b []byte, name string, err error) {
	var r io.Reader = os.Stdin
	name = "stdin"
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, "", err
		}
		defer fh.Close()
		r, name = fh, filepath.Base(file)
	}
	b, err = io.ReadAll(io.LimitReader(r, data.MaxPlansFileBytes+1))
	return b, name, err
}

// planJSON is a plan in the CLI's JSON.
type planJSON struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	ProductLine    string         `json:"product_line"`
	Profile        string         `json:"profile"`
	ProfileVersion string         `json:"profile_version,omitempty"` // pinned; absent: the version in effect on the as-of date
	Networks       []string       `json:"networks"`
	ServiceArea    *serviceArea   `json:"service_area"` // null: no restriction
	Effective      *effectiveJSON `json:"effective"`    // null: always
}

type effectiveJSON struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// serviceArea summarises a plan's counties by state.
type serviceArea struct {
	Counties int          `json:"counties"`
	States   []stateArea  `json:"states"`
	List     []countyJSON `json:"county_list,omitempty"` // show only
}

type stateArea struct {
	State    string   `json:"state"`
	Counties int      `json:"counties"` // in the service area
	Of       int      `json:"of"`       // in the state
	Names    []string `json:"-"`
}

type countyJSON struct {
	FIPS  string `json:"fips"`
	Name  string `json:"name"`
	State string `json:"state"`
}

func toPlanJSON(p *adequacy.Plan, counties *adequacy.Counties, withList bool) planJSON {
	j := planJSON{ID: p.ID, Name: p.Name, ProductLine: string(p.ProductLine), Profile: p.Profile, ProfileVersion: p.ProfileVersion,
		Networks: p.Networks, ServiceArea: summarise(p.ServiceArea, counties, withList)}
	if p.Effective != (adequacy.DateRange{}) {
		j.Effective = &effectiveJSON{From: p.Effective.From.String(), To: p.Effective.To.String()}
	}
	return j
}

// summarise groups a service area's counties by state, in state order.
func summarise(fips []string, counties *adequacy.Counties, withList bool) *serviceArea {
	if len(fips) == 0 {
		return nil
	}
	perState := map[string]int{}
	for _, c := range counties.All() {
		perState[c.State]++
	}
	a := &serviceArea{Counties: len(fips)}
	byState := map[string]*stateArea{}
	for _, f := range fips {
		c, err := counties.Lookup(f)
		cj := countyJSON{FIPS: f, Name: "(not in the county table)"}
		if err == nil {
			cj = countyJSON{FIPS: f, Name: c.Name, State: c.State}
		}
		s := byState[cj.State]
		if s == nil {
			s = &stateArea{State: cj.State, Of: perState[cj.State]}
			byState[cj.State] = s
		}
		s.Counties++
		s.Names = append(s.Names, cj.Name)
		if withList {
			a.List = append(a.List, cj)
		}
	}
	for _, s := range byState {
		a.States = append(a.States, *s)
	}
	slices.SortFunc(a.States, func(x, y stateArea) int { return strings.Compare(x.State, y.State) })
	if withList {
		slices.SortFunc(a.List, func(x, y countyJSON) int {
			return strings.Compare(x.State+"\x00"+x.Name+"\x00"+x.FIPS, y.State+"\x00"+y.Name+"\x00"+y.FIPS)
		})
	}
	return a
}

// brief is a service area in a few words: "316 counties (NY, TX)".
func (a *serviceArea) brief() string {
	if a == nil {
		return "everywhere"
	}
	states := make([]string, len(a.States))
	for i, s := range a.States {
		states[i] = s.State
		if s.Counties < s.Of {
			states[i] += " part"
		}
	}
	n := "counties"
	if a.Counties == 1 {
		n = "county"
	}
	return fmt.Sprintf("%d %s (%s)", a.Counties, n, strings.Join(states, ", "))
}

// profileText is a plan's profile as list and show print it.
func profileText(p *adequacy.Plan) string {
	if p.ProfileVersion != "" {
		return p.Profile + " " + p.ProfileVersion
	}
	return p.Profile
}

func effectiveText(r adequacy.DateRange) string {
	switch {
	case r == (adequacy.DateRange{}):
		return "always"
	case r.From.IsZero():
		return "until " + r.To.String()
	case r.To.IsZero():
		return "from " + r.From.String()
	}
	return r.String()
}

// plans is "1 plan" or "n plans".
func plans(n int) string {
	if n == 1 {
		return "1 plan"
	}
	return fmt.Sprintf("%d plans", n)
}

// countiesTable is the county table that names service-area counties.
func countiesTable() (*adequacy.Counties, error) {
	ct, err := data.EmbeddedCounties()
	if err != nil {
		return nil, err
	}
	return ct.Counties, nil
}
