package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/internal/cliflag"
	"github.com/geoaccess/geoaccess/internal/report"
)

// filingFlags are the flags of the commands that prepare CMS filings
// (hsd export, exceptions).
type filingFlags struct {
	ef          engineFlags
	members     string
	out         string
	profile     string
	serviceArea string
	credits     cliflag.Multi
}

func (f *filingFlags) register(fs *flag.FlagSet, membersHelp string) {
	fs.StringVar(&f.members, "members", "", membersHelp)
	fs.StringVar(&f.out, "out", "", "directory for the files (created if needed; required)")
	fs.StringVar(&f.profile, "profile", data.DefaultProfile, "standards profile")
	fs.StringVar(&f.serviceArea, "service-area", "", "the plan's service area: county codes (SSA, or FIPS for a whole county; ssa: or fips: to say which), comma-separated, or a file of them one per line (default: the member file's counties; without members, the counties where the roster has contracted providers)")
	fs.Var(&f.credits, "credit", "claim a profile credit that applies on request, e.g. new_or_expanding_applicant (repeatable)")
	f.ef.register(fs)
}

// output refuses a symlinked --out and inputs the command would overwrite,
// before anything is read or written; the files go into a fresh directory
// beside it, which Commit swaps in.
func (f *filingFlags) output(cmd string, files, dirs []string, extra ...string) (*report.Output, error) {
	if f.out == "" {
		return nil, fmt.Errorf("%w: --out is required", errUsage)
	}
	inputs := append([]string{f.members, f.ef.roster, f.ef.countyTable}, f.ef.profileFiles...)
	if st, err := os.Stat(f.serviceArea); f.serviceArea != "" && err == nil && st.Mode().IsRegular() {
		inputs = append(inputs, f.serviceArea)
	}
	dst, err := report.NewOutputFor(f.out, files, dirs, append(inputs, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("%s: --out: %w", cmd, err)
	}
	return dst, nil
}

// filing is a gap report over the plan's census, with its service area.
type filing struct {
	eng      *adequacy.Engine
	rep      *adequacy.GapReport
	area     *adequacy.ServiceArea
	census   string // "member file" or "ZIP points"
	censusN  int    // members or points evaluated
	rejected []report.Rejected
}

// prepare checks the flags, loads the engine and the members, resolves the
// service area and runs the gap report the filing rests on.
func (f *filingFlags) prepare(ctx context.Context, cmd string, stderr io.Writer) (*filing, error) {
	if f.ef.roster == "" && !f.ef.fromDB() {
		return nil, fmt.Errorf("%w: give the contracted network with --roster FILE or --db URL", errUsage)
	}
	asOf, today, err := f.ef.date()
	if err != nil {
		return nil, err
	}
	prog := newProgress(stderr)
	type read struct {
		ms  []adequacy.GapMember
		rej []report.Rejected
		err error
	}
	readDone := make(chan read, 1)
	if f.members != "" {
		go func() {
			ms, rej, err := readMembers(f.members, prog)
			readDone <- read{ms, rej, err}
		}()
	} else {
		readDone <- read{}
	}
	eng, err := f.ef.engine(stderr)
	if err != nil {
		return nil, err
	}
	rd := <-readDone
	if rd.err != nil {
		return nil, rd.err
	}
	fl := &filing{eng: eng, rejected: rd.rej}
	if f.serviceArea != "" {
		codes, err := countyCodes(f.serviceArea)
		if err != nil {
			return nil, err
		}
		if fl.area, err = adequacy.NewServiceArea(eng.Counties, codes, "given with --service-area"); err != nil {
			return nil, fmt.Errorf("%w: --service-area: %v", errUsage, err)
		}
	}
	opts := adequacy.GapOptions{Profile: f.profile, AsOf: asOf, AsOfToday: today, Credits: f.credits,
		Progress: func(done, total int) { prog.update("evaluated", done, total) }}
	census := rd.ms
	if f.members != "" {
		fl.census = "member file"
	} else {
		fl.census = "ZIP points"
		if fl.area == nil {
			p, err := eng.Profiles.Get(f.profile)
			if err != nil {
				return nil, err
			}
			fl.area = adequacy.ServiceAreaOf(adequacy.ContractedCounties(eng.Network, eng.Counties, p.CoveredDisciplines()),
				"the counties where the roster has contracted providers (no member file)")
		}
		census = eng.PopulationCensus(fl.area)
	}
	rep, err := eng.Gap(ctx, census, opts)
	prog.done()
	if errors.Is(err, adequacy.ErrNoMembers) {
		return nil, fmt.Errorf("%s: no one in the census could be evaluated (%d rejected)", cmd, len(fl.rejected)+len(rep.Rejected))
	}
	if err != nil {
		return nil, err
	}
	fl.rep, fl.censusN = rep, rep.Members
	for _, r := range rep.Rejected {
		fl.rejected = append(fl.rejected, report.Rejected{Line: r.Line, MemberID: r.MemberID, Column: report.MemberColumn(r.Field), Reason: r.Reason})
	}
	if fl.area == nil {
		var cs []*adequacy.County
		for _, r := range rep.Counties {
			if len(cs) == 0 || cs[len(cs)-1] != r.County {
				cs = append(cs, r.County)
			}
		}
		fl.area = adequacy.ServiceAreaOf(cs, "the counties of the member file")
	}
	return fl, nil
}

// countyCodes reads --service-area: a file of codes, or a list.
func countyCodes(v string) ([]string, error) {
	if st, err := os.Stat(v); err == nil && st.Mode().IsRegular() {
		fh, err := os.Open(v)
		if err != nil {
			return nil, fmt.Errorf("--service-area: %w", err)
		}
		defer fh.Close()
		codes, err := data.ReadCountyCodes(fh)
		if err != nil {
			return nil, fmt.Errorf("%w: --service-area %s: %v", errUsage, v, err)
		}
		return codes, nil
	}
	codes := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	if len(codes) == 0 {
		return nil, fmt.Errorf("%w: --service-area: no county codes in %q", errUsage, v)
	}
	return codes, nil
}

// censusLine says in words who stood for the beneficiaries.
func (fl *filing) censusLine() string {
	if fl.census == "ZIP points" {
		return fmt.Sprintf("census: no member file, so one point per ZIP code of the service area's counties stands for the beneficiaries (%d Census ZCTA points, unweighted)", fl.censusN)
	}
	return fmt.Sprintf("census: the member file (%d members evaluated, %d rejected: rejected.csv)", fl.censusN, len(fl.rejected))
}

func (fl *filing) areaLine() string {
	return fmt.Sprintf("service area: %s; %d counties, %d SSA county codes", fl.area.Basis, len(fl.area.Counties()), fl.area.SSACodes())
}
