package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
)

func init() {
	register("sample", "make a synthetic roster or member file on real geography", runSample)
}

func runSample(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "roster" && args[0] != "members") {
		fmt.Fprintln(stderr, "usage: geoaccess sample roster|members [--states NY,TX] [--count N] [--seed S] [--out FILE]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return fmt.Errorf("%w: sample needs roster or members", errUsage)
	}
	kind := args[0]
	fs := newFlags("sample "+kind, "sample "+kind+" [flags]", stderr)
	states := fs.String("states", "", "comma-separated USPS state codes (default: everywhere)")
	count := fs.Int("count", 1000, "how many rows")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same file")
	nonPar := fs.Float64("non-participating", 0.12, "roster: share of providers not participating")
	tele := fs.Float64("telehealth-only", 0.03, "roster: share of participating providers that are telehealth-only")
	notAcc := fs.Float64("not-accepting", 0.08, "roster: share not accepting new patients")
	term := fs.Float64("terminated", 0.02, "roster: share terminated in the past")
	desig := fs.Float64("designations", 0.06, "roster: share holding a specialty designation of their discipline (a fifth of them several)")
	declared := fs.Float64("declared", 0.04, "roster: share declaring a service with no designation for it (PTs mostly vestibular)")
	networks := fs.String("networks", "ACME-MA,ACME-COMM,ACME-MCD", "roster: comma-separated network ids participating providers are in (\"\" for none)")
	out := fs.String("out", "", "write here instead of standard output")
	if err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	if *count < 0 {
		return fmt.Errorf("%w: --count must be ≥ 0", errUsage)
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	world, err := sampleWorld()
	if err != nil {
		return err
	}
	cfg := synth.Config{Seed: *seed, Count: *count, NonParticipating: *nonPar, TelehealthOnly: *tele, NotAccepting: *notAcc, Terminated: *term,
		Designations: *desig, Declared: *declared}
	if *networks != "" {
		cfg.Networks = strings.Split(*networks, ",")
	}
	if *states != "" {
		cfg.States = strings.Split(*states, ",")
	}
	if kind == "roster" {
		ps, err := world.Providers(cfg)
		if err != nil {
			return err
		}
		return data.WriteRoster(w, ps)
	}
	ms, err := world.Members(cfg)
	if err != nil {
		return err
	}
	gms := make([]adequacy.GapMember, len(ms))
	for i, m := range ms {
		gms[i] = adequacy.GapMember{ID: m.ID, Point: m.Point, HasPoint: true, ZIP: m.ZIP, CountyFIPS: m.CountyFIPS}
	}
	return data.WriteMembers(w, gms)
}

func sampleWorld() (*synth.World, error) {
	g, err := data.EmbeddedGeography()
	if err != nil {
		return nil, err
	}
	ct, err := data.EmbeddedCounties()
	if err != nil {
		return nil, err
	}
	v, err := data.Vocabulary()
	if err != nil {
		return nil, err
	}
	return &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs, Vocabulary: v}, nil
}
