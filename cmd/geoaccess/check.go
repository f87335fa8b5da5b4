package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/cliflag"
)

func init() {
	register("check", "decide whether geo-access standards are met for one member", runCheck)
}

// optFloat is a float flag that knows whether it was given.
type optFloat struct {
	set bool
	v   float64
}

func (o *optFloat) String() string {
	if !o.set {
		return ""
	}
	return strconv.FormatFloat(o.v, 'f', -1, 64)
}

func (o *optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	o.v, o.set = v, true
	return nil
}

// engineFlags are the flags every command that decides shares.
type engineFlags struct {
	countyTable   string
	profileFiles  cliflag.Multi
	roster        string
	db            string
	maxBadRows    int
	profileExpiry adequacy.ExpiryPolicy
	asOf          string
	servicesFile  string
	plansFile     string
	// Replays: past versions of the roster, the profile and the plans.
	rosterVersion  string
	profileVersion string
	plansVersion   string
}

// expiryEnv sets --profile-expiry's default, as for geoaccessd.
const expiryEnv = "GEOACCESS_PROFILE_EXPIRY"

func (e *engineFlags) register(fs *flag.FlagSet) {
	def := adequacy.CarryForward
	if v, ok := os.LookupEnv(expiryEnv); ok {
		if p, err := adequacy.ParseExpiryPolicy(v); err == nil {
			def = p
		}
	}
	fs.TextVar(&e.profileExpiry, "profile-expiry", def, "without --as-of, past every loaded version of the profile: carry-forward (decide with the version that ended last, flagged) or fail (env "+expiryEnv+")")
	fs.StringVar(&e.asOf, "as-of", "", "as-of date, YYYY-MM-DD (default: today; a named date is never carried past a profile's end)")
	fs.StringVar(&e.countyTable, "hsd", "", "county table: a CMS HSD reference workbook (.xlsx) or a table from 'standards import-hsd' (default: embedded CY2026)")
	fs.Var(&e.profileFiles, "profile-file", "load a standards profile from this YAML or JSON file (repeatable)")
	fs.StringVar(&e.servicesFile, "services-file", "", "extend or replace the services vocabulary with this YAML or JSON file (docs/services.md)")
	fs.StringVar(&e.plansFile, "plans-file", "", "client plans, YAML or JSON (docs/plans.md): --plan names one")
	fs.StringVar(&e.roster, "roster", "", "participating-provider roster CSV (default: the embedded sample roster)")
	fs.StringVar(&e.db, "db", "", "read the current published roster (and, without --plans-file, the current plans) from this PostgreSQL database instead (see 'geoaccess roster')")
	fs.IntVar(&e.maxBadRows, "max-bad-rows", 0, "fail when the roster has more bad rows than this (-1: no limit); bad rows are always listed")
	fs.StringVar(&e.rosterVersion, "roster-version", "", "replay: decide against this published roster version (42 or pg:42) from --db (or $DATABASE_URL) instead of the current one; needs --as-of")
	fs.StringVar(&e.plansVersion, "plans-version", "", "replay: read --plan from this published plans version (7 or pg:7) in --db (or $DATABASE_URL) instead of the current one; needs --as-of")
}

// registerProfileVersion adds --profile-version, for the commands whose
// requests take a profile version (check, gap).
func (e *engineFlags) registerProfileVersion(fs *flag.FlagSet) {
	fs.StringVar(&e.profileVersion, "profile-version", "", "replay: decide with this version of the profile (e.g. 2026.1) even when another is in effect on --as-of; it must have been in effect then (or carried forward); needs --as-of")
}

// replay reports whether a past version was named.
func (e *engineFlags) replay() bool {
	return e.rosterVersion != "" || e.profileVersion != "" || e.plansVersion != ""
}

// fromDB reports whether the roster (and plans) come from PostgreSQL.
func (e *engineFlags) fromDB() bool {
	return e.db != "" || e.rosterVersion != "" || e.plansVersion != ""
}

// date is the as-of date: --as-of, or today (and true) when not given.
func (e *engineFlags) date() (adequacy.Date, bool, error) {
	if e.asOf == "" && e.replay() {
		return adequacy.Date{}, false, fmt.Errorf("%w: --roster-version, --profile-version and --plans-version replay a past decision: give its --as-of", errUsage)
	}
	if e.asOf == "" {
		return adequacy.DateOf(time.Now()), true, nil
	}
	d, err := adequacy.ParseDate(e.asOf)
	if err != nil {
		return d, false, fmt.Errorf("%w: --as-of: %v", errUsage, err)
	}
	return d, false, nil
}

// base builds the decision engine without a network: the county table,
// profiles, services vocabulary and plans.
func (e *engineFlags) base() (*adequacy.Engine, error) {
	if v, ok := os.LookupEnv(expiryEnv); ok {
		if _, err := adequacy.ParseExpiryPolicy(v); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errUsage, expiryEnv, err)
		}
	}
	eng, _, err := data.NewEngine(data.Setup{CountyTable: e.countyTable, ProfileFiles: e.profileFiles, ServicesFile: e.servicesFile, PlansFile: e.plansFile})
	if err != nil {
		return nil, err
	}
	eng.Expiry = e.profileExpiry
	return eng, nil
}

// engine builds the decision engine with its network.
func (e *engineFlags) engine(stderr io.Writer) (*adequacy.Engine, error) {
	eng, err := e.base()
	if err != nil {
		return nil, err
	}
	var roster *adequacy.Roster
	switch {
	case e.roster != "" && e.fromDB():
		return nil, fmt.Errorf("%w: give --roster or --db (--roster-version, --plans-version), not both", errUsage)
	case e.plansVersion != "" && e.plansFile != "":
		return nil, fmt.Errorf("%w: --plans-version reads the plans from the database: not with --plans-file", errUsage)
	case e.fromDB():
		var plans *adequacy.Plans
		roster, plans, err = e.readDB(eng.Profiles)
		if plans != nil {
			eng.Plans = plans
		}
	case e.roster == "":
		roster, err = data.SampleRoster()
	default:
		var rep *data.RosterReport
		roster, rep, err = data.ReadRosterFile(e.roster, e.maxBadRows, eng.Vocabulary)
		if rep != nil && err == nil {
			for _, re := range rep.Errors {
				fmt.Fprintf(stderr, "geoaccess: roster %s: skipped %v\n", e.roster, re)
			}
			for _, re := range rep.Warnings {
				fmt.Fprintf(stderr, "geoaccess: roster %s: %v\n", e.roster, re)
			}
			if more := rep.WarningCount - len(rep.Warnings); more > 0 {
				fmt.Fprintf(stderr, "geoaccess: roster %s: and %d more codes ignored\n", e.roster, more)
			}
			if note := rep.UnplacedNote(); note != "" {
				fmt.Fprintf(stderr, "geoaccess: roster %s: %s\n", e.roster, note)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	n, err := eng.NewNetwork(roster)
	if err != nil {
		return nil, err
	}
	return eng.WithNetwork(n), nil
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", "check (--lat LAT --lon LON | --zip ZIP) --discipline PT [--db URL --roster-version V] [--profile-version P] [--as-of D] [flags]", stderr)
	var lat, lon optFloat
	var ef engineFlags
	fs.Var(&lat, "lat", "member latitude, WGS84 degrees")
	fs.Var(&lon, "lon", "member longitude, WGS84 degrees")
	zip := fs.String("zip", "", "member ZIP code (the location when no --lat/--lon; approximate)")
	county := fs.String("county", "", "member county FIPS code (trusted over the polygons)")
	disc := fs.String("discipline", "", "DC, PT, OT, ST, a comma list, or all (optional with --service)")
	profile := fs.String("profile", "", "standards profile (default: the plan's, or "+data.DefaultProfile+")")
	k := fs.Int("k", adequacy.DefaultK, "nearest providers to report")
	service := fs.String("service", "", "a service the member needs (e.g. lymphedema; 'geoaccess services list'): only providers offering it (or a similar one) count; without --discipline, across the service's disciplines")
	plan := fs.String("plan", "", "the member's plan (with --plans-file, or the current plans in --db): its networks and contracted profile")
	asJSON := fs.Bool("json", false, "print JSON: one object per discipline")
	ef.register(fs)
	ef.registerProfileVersion(fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	req, err := checkRequest(lat, lon, *zip, *county, *disc, *profile, *k, *service != "")
	if err != nil {
		return err
	}
	req.Service, req.Plan, req.ProfileVersion = *service, *plan, ef.profileVersion
	if req.AsOf, req.AsOfToday, err = ef.date(); err != nil {
		return err
	}
	eng, err := ef.engine(stderr)
	if err != nil {
		return err
	}
	ds, err := eng.Decide(req)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeDecisionsJSON(stdout, ds)
	}
	return writeDecisionsText(stdout, ds)
}

func checkRequest(lat, lon optFloat, zip, county, disc, profile string, k int, service bool) (adequacy.Request, error) {
	req := adequacy.Request{Profile: profile, K: k, Member: adequacy.Member{ZIP: zip, CountyFIPS: county}}
	switch {
	case lat.set && lon.set:
		req.Member.Point = &geo.Point{Lat: lat.v, Lon: lon.v}
	case lat.set || lon.set:
		return req, fmt.Errorf("%w: give both --lat and --lon", errUsage)
	case zip == "":
		return req, fmt.Errorf("%w: give --lat and --lon, or --zip", errUsage)
	}
	if disc == "" && service {
		return req, nil // the service's disciplines
	}
	ds, err := parseDisciplines(disc)
	if err != nil {
		return req, err
	}
	req.Disciplines = ds
	return req, nil
}

func parseDisciplines(s string) ([]adequacy.Discipline, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: --discipline is required (DC, PT, OT, ST or all)", errUsage)
	}
	if strings.EqualFold(s, "all") {
		return adequacy.Disciplines, nil
	}
	var out []adequacy.Discipline
	for _, part := range strings.Split(s, ",") {
		d, err := adequacy.ParseDiscipline(part)
		if err != nil {
			return nil, fmt.Errorf("%w: --discipline: %v", errUsage, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// decisionJSON is the CLI's JSON for one decision.
type decisionJSON struct {
	Discipline         string        `json:"discipline"`
	Served             bool          `json:"served"`
	Status             string        `json:"status"`
	Reason             string        `json:"reason"`
	CountyFIPS         string        `json:"county_fips"`
	CountyName         string        `json:"county_name,omitempty"`
	CountyState        string        `json:"county_state,omitempty"`
	CountyType         string        `json:"county_type,omitempty"`
	CountyTypeSource   string        `json:"county_type_source,omitempty"`
	CountyTypeBasis    string        `json:"county_type_basis,omitempty"`
	CountySource       string        `json:"county_source,omitempty"`
	MaxMiles           float64       `json:"max_miles"`
	MaxMinutes         float64       `json:"max_minutes"`
	ProvidersRequired  int           `json:"providers_required"`
	RuleSource         string        `json:"rule_source,omitempty"`
	ProvidersWithin    int           `json:"providers_within"`
	Nearest            []nearestJSON `json:"nearest"`
	TimeModel          string        `json:"time_model"`
	TimeEstimated      bool          `json:"time_estimated"`
	LocationSource     string        `json:"location_source"`
	LocationApproximte bool          `json:"location_approximate"`
	Profile            string        `json:"profile"`
	ProfileVersion     string        `json:"profile_version"`
	Service            string        `json:"service,omitempty"`
	Components         []compJSON    `json:"components,omitempty"`
	Plan               string        `json:"plan,omitempty"`
	Networks           []string      `json:"networks,omitempty"`
	PlansVersion       string        `json:"plans_version,omitempty"`
	ProfileExpired     bool          `json:"profile_expired"`
	ProfileEnd         string        `json:"profile_end,omitempty"`
	RosterVersion      string        `json:"roster_version"`
	AsOf               string        `json:"as_of"`
}

// compJSON is one discipline's part of a service across disciplines.
type compJSON struct {
	Discipline        string  `json:"discipline"`
	MaxMiles          float64 `json:"max_miles"`
	MaxMinutes        float64 `json:"max_minutes"`
	ProvidersRequired int     `json:"providers_required"`
	RuleSource        string  `json:"rule_source"`
	ProvidersWithin   int     `json:"providers_within"`
}

type nearestJSON struct {
	NPI            string   `json:"npi"`
	Name           string   `json:"name"`
	Discipline     string   `json:"discipline"`
	Designations   []string `json:"designations"`
	Services       []string `json:"services"`
	Miles          float64  `json:"miles"`
	Minutes        float64  `json:"minutes"`
	CountyFIPS     string   `json:"county_fips"`
	WithinStandard bool     `json:"within_standard"`
}

func typeSource(c adequacy.CountyEvidence) string {
	if c.FIPS == "" {
		return ""
	}
	if c.TypeOfficial {
		return "official"
	}
	return "derived"
}

func round(x float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

func writeDecisionsJSON(w io.Writer, ds []adequacy.Decision) error {
	out := make([]decisionJSON, len(ds))
	for i, d := range ds {
		j := decisionJSON{Discipline: d.Discipline.String(), Served: d.Served(), Status: d.Status.String(), Reason: d.Explain(),
			CountyFIPS: d.County.FIPS, CountyName: d.County.Name, CountyState: d.County.State, CountySource: d.County.Source.String(),
			CountyTypeSource: typeSource(d.County), CountyTypeBasis: d.County.TypeBasis,
			MaxMiles: d.Rule.MaxMiles, MaxMinutes: d.Rule.MaxMinutes, ProvidersRequired: d.Rule.ProvidersRequired, RuleSource: d.Rule.Source.String(),
			ProvidersWithin: d.ProvidersWithin, Nearest: []nearestJSON{}, TimeModel: d.TimeModel, TimeEstimated: d.TimeEstimated,
			LocationSource: d.Location.Source.String(), LocationApproximte: d.Location.Approximate,
			Profile: d.Profile, ProfileVersion: d.ProfileVersion, ProfileExpired: d.ProfileExpired, ProfileEnd: d.ProfileEnd.String(),
			Service: d.Service, Plan: d.Plan, Networks: d.Networks, PlansVersion: d.PlansVersion,
			RosterVersion: d.RosterVersion, AsOf: d.AsOf.String()}
		if d.County.FIPS != "" {
			j.CountyType = d.County.Type.String()
		}
		for _, n := range d.Nearest {
			j.Nearest = append(j.Nearest, nearestJSON{NPI: n.NPI, Name: n.Name, Discipline: n.Discipline.String(), Designations: orEmpty(n.Designations),
				Services: orEmpty(n.Services), Miles: round(n.Miles, 3), Minutes: round(n.Minutes, 1), CountyFIPS: n.CountyFIPS, WithinStandard: n.WithinStandard})
		}
		for _, c := range d.Components {
			j.Components = append(j.Components, compJSON{Discipline: c.Discipline.String(), MaxMiles: c.Rule.MaxMiles, MaxMinutes: c.Rule.MaxMinutes,
				ProvidersRequired: c.Rule.ProvidersRequired, RuleSource: c.Rule.Source.String(), ProvidersWithin: c.ProvidersWithin})
		}
		out[i] = j
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeDecisionsText(w io.Writer, ds []adequacy.Decision) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, d := range ds {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		title := d.Discipline.String()
		if d.Service != "" {
			title = d.ServiceName + " (" + d.Service + ")"
			if d.Discipline != adequacy.AnyDiscipline {
				title = d.Discipline.String() + " " + title
			}
		}
		// No tab: the title is no cell of the columns below, so a service's
		// long name does not push them right.
		fmt.Fprintf(tw, "%s  %s\n", title, strings.ToUpper(strings.ReplaceAll(d.Status.String(), "_", " ")))
		fmt.Fprintf(tw, "  why\t%s\n", d.Explain())
		if d.County.FIPS != "" {
			fmt.Fprintf(tw, "  county\t%s %s, %s: %s (%s; %s)\n", d.County.FIPS, d.County.Name, d.County.State, d.County.Type, typeSource(d.County), d.County.TypeBasis)
			for _, c := range d.Components {
				fmt.Fprintf(tw, "  standard\t%s: %s, %d within (%s)\n", c.Discipline, c.Rule.Limits(), c.ProvidersWithin, c.Rule.Source)
			}
			if len(d.Components) == 0 && d.Status != adequacy.OutOfServiceArea {
				fmt.Fprintf(tw, "  standard\t%s, %d provider(s) required (%s)\n", d.Rule.Limits(), d.Rule.ProvidersRequired, d.Rule.Source)
			}
			fmt.Fprintf(tw, "  time\t%s\n", d.TimeModel)
		}
		for j, n := range d.Nearest {
			mark := ""
			if n.WithinStandard {
				mark = "within standard"
			}
			label := ""
			if j == 0 {
				label = "  nearest"
			}
			if len(n.Services) > 0 {
				mark = strings.TrimSpace(mark + " [" + strings.Join(n.Services, ", ") + "]")
			}
			fmt.Fprintf(tw, "%s\t%d. %s %s %s\t%.2f mi\t%.0f min\t%s\t%s\n", label, j+1, n.Discipline, n.NPI, n.Name, n.Miles, n.Minutes, n.CountyFIPS, mark)
		}
		src := d.Location.Source.String()
		if d.Location.Approximate {
			src += " (approximate)"
		}
		plan := ""
		if d.Plan != "" {
			plan = fmt.Sprintf("plan %s (networks %s; plans %s), ", d.Plan, strings.Join(d.Networks, ", "), d.PlansVersion)
		}
		fmt.Fprintf(tw, "  evidence\t%sprofile %s %s, roster %s, as of %s, located by %s\n", plan, d.Profile, d.ProfileVersion, d.RosterVersion, d.AsOf, src)
	}
	return tw.Flush()
}
