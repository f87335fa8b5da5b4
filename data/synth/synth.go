// Package synth makes synthetic providers and members on real geography:
// counts in proportion to each county's Medicare beneficiaries (from the
// CMS HSD reference file), locations scattered around the county's real
// ZIP points. They feed the sample files, tests and benchmarks. Nobody in
// them is real: NPIs are random numbers with a valid check digit, names are
// made up, member IDs are serial.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// World is the geography synthetic people are placed on.
type World struct {
	Counties *adequacy.Counties
	Map      *geo.CountyMap
	ZIPs     *geo.ZIPs
	// Vocabulary, if set, is where providers' designations and declared
	// services come from (Config.Designations, Config.Declared).
	Vocabulary *adequacy.Vocabulary

	zipsBy map[string][]geo.ZIP // county FIPS → its ZIPs
}

// Config says how many people to make, and where.
type Config struct {
	Seed   uint64
	States []string // USPS codes; nil = every state and territory
	Count  int
	// Provider mix (ignored for members).
	NonParticipating float64 // share of providers not participating
	TelehealthOnly   float64 // share of participating providers offering no in-person care
	NotAccepting     float64 // share not accepting new patients
	Terminated       float64 // share with a termination date in the past
	// Jitter is the standard deviation, in miles, of the scatter around a
	// ZIP point. Zero means 1.5 miles.
	Jitter float64
	// ByZIP weights counties by their number of ZIP codes instead of their
	// Medicare beneficiaries: a flatter spread, as if every ZIP had the
	// same population (rural areas get far more than their share).
	ByZIP bool
	// Designations is the share of providers holding a specialty
	// designation of their discipline (a fifth of them hold two or
	// three); Declared the share declaring a service of their discipline
	// with no designation for it (PTs mostly vestibular rehabilitation).
	// Both need World.Vocabulary.
	Designations, Declared float64
	// Networks are the network ids participating providers are in: the
	// first for most, each other for some, every one for at least one.
	Networks []string
}

// Member is a synthetic member.
type Member struct {
	ID         string
	Point      geo.Point
	ZIP        string
	CountyFIPS string
}

func (w *World) index() {
	if w.zipsBy != nil {
		return
	}
	w.zipsBy = map[string][]geo.ZIP{}
	for _, z := range w.ZIPs.All() {
		if z.CountyFIPS != "" {
			w.zipsBy[z.CountyFIPS] = append(w.zipsBy[z.CountyFIPS], z)
		}
	}
	for _, zs := range w.zipsBy {
		slices.SortFunc(zs, func(a, b geo.ZIP) int { return strings.Compare(a.Code, b.Code) })
	}
}

// weights lists counties in the chosen states with their beneficiaries.
func (w *World) weights(states []string, byZIP bool) ([]*adequacy.County, []float64, error) {
	want := map[string]bool{}
	for _, s := range states {
		want[strings.ToUpper(s)] = true
	}
	var cs []*adequacy.County
	var ws []float64
	for _, c := range w.Counties.All() {
		if len(want) > 0 && !want[c.State] {
			continue
		}
		if _, ok := w.Map.Shape(c.FIPS); !ok || c.Beneficiaries <= 0 {
			continue
		}
		wt := float64(c.Beneficiaries)
		if byZIP {
			wt = float64(len(w.zipsBy[c.FIPS]))
			if wt == 0 {
				continue
			}
		}
		cs = append(cs, c)
		ws = append(ws, wt)
	}
	if len(cs) == 0 {
		return nil, nil, fmt.Errorf("synth: no counties with beneficiaries in %v", states)
	}
	return cs, ws, nil
}

// place draws a point in county c: near one of its ZIP points when it has
// any, else uniformly in its polygon's bounds, and always inside the
// polygon (tried a bounded number of times).
func (w *World) place(r *rand.Rand, c *adequacy.County, jitter float64) (geo.Point, string) {
	zs := w.zipsBy[c.FIPS]
	shape, _ := w.Map.Shape(c.FIPS)
	b := shape.Shape.Bound()
	for try := 0; try < 50; try++ {
		var p geo.Point
		zip := ""
		if len(zs) > 0 && try < 40 {
			z := zs[r.IntN(len(zs))]
			zip = z.Code
			dLat := r.NormFloat64() * jitter / 69.0
			dLon := r.NormFloat64() * jitter / (69.17 * math.Max(0.05, math.Cos(z.Point.Lat*math.Pi/180)))
			p = geo.Point{Lat: z.Point.Lat + dLat, Lon: z.Point.Lon + dLon}
		} else {
			p = geo.Point{Lat: b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1]), Lon: b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0])}
		}
		if p.Validate() != nil {
			continue
		}
		if got, err := w.Map.Locate(p); err == nil && got.FIPS == c.FIPS {
			return round6(p), zip
		}
	}
	if len(zs) > 0 { // a ZIP point itself, even if the generalised polygon misses it
		return zs[0].Point, zs[0].Code
	}
	return round6(geo.Point{Lat: (b.Min[1] + b.Max[1]) / 2, Lon: (b.Min[0] + b.Max[0]) / 2}), ""
}

func round6(p geo.Point) geo.Point {
	return geo.Point{Lat: math.Round(p.Lat*1e6) / 1e6, Lon: math.Round(p.Lon*1e6) / 1e6}
}

// sampler draws counties in proportion to weight.
type sampler struct{ cum []float64 }

func newSampler(ws []float64) sampler {
	cum := make([]float64, len(ws))
	t := 0.0
	for i, w := range ws {
		t += w
		cum[i] = t
	}
	return sampler{cum}
}

func (s sampler) draw(r *rand.Rand) int {
	x := r.Float64() * s.cum[len(s.cum)-1]
	i, _ := slices.BinarySearch(s.cum, x)
	return min(i, len(s.cum)-1)
}

// Members makes cfg.Count members.
func (w *World) Members(cfg Config) ([]Member, error) {
	w.index()
	cs, ws, err := w.weights(cfg.States, cfg.ByZIP)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x6d656d62))
	s := newSampler(ws)
	jitter := orDefault(cfg.Jitter, 1.5)
	out := make([]Member, cfg.Count)
	for i := range out {
		c := cs[s.draw(r)]
		p, zip := w.place(r, c, jitter)
		out[i] = Member{ID: fmt.Sprintf("M%09d", i+1), Point: p, ZIP: zip, CountyFIPS: c.FIPS}
	}
	return out, nil
}

func orDefault(x, d float64) float64 {
	if x == 0 {
		return d
	}
	return x
}

// disciplineMix is the share of providers in each discipline.
var disciplineMix = [...]float64{adequacy.DC: 0.20, adequacy.PT: 0.40, adequacy.OT: 0.20, adequacy.ST: 0.20}

var practiceWords = []string{"Riverside", "Summit", "Cedar", "Harbor", "Meadow", "Pioneer", "Valley", "Lakeside", "Northgate",
	"Oak", "Prairie", "Coastal", "Granite", "Willow", "Maple", "Sunrise", "Heritage", "Pinecrest", "Bayview", "Highland"}

var disciplineWords = [...]string{adequacy.DC: "Chiropractic", adequacy.PT: "Physical Therapy", adequacy.OT: "Occupational Therapy", adequacy.ST: "Speech Therapy"}

// Providers makes cfg.Count providers with unique, valid NPIs.
func (w *World) Providers(cfg Config) ([]adequacy.Provider, error) {
	w.index()
	cs, ws, err := w.weights(cfg.States, cfg.ByZIP)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x70726f76))
	// Lists draw from their own stream, so adding them changes nothing
	// else a seed gives.
	lr := rand.New(rand.NewPCG(cfg.Seed, 0x6c697374))
	lists := w.newListMaker(cfg)
	s := newSampler(ws)
	mix := newSampler(disciplineMix[:])
	jitter := orDefault(cfg.Jitter, 1.5)
	used := map[string]bool{}
	effective, _ := adequacy.ParseDate("2020-01-01")
	terminated, _ := adequacy.ParseDate("2025-06-30")
	out := make([]adequacy.Provider, cfg.Count)
	for i := range out {
		c := cs[s.draw(r)]
		d := adequacy.Discipline(mix.draw(r))
		p, zip := w.place(r, c, jitter)
		npi := NPI(r)
		for used[npi] {
			npi = NPI(r)
		}
		used[npi] = true
		pr := adequacy.Provider{
			NPI: npi, Discipline: d, Location: p, CountyFIPS: c.FIPS,
			Name:          fmt.Sprintf("%s %s of %s", practiceWords[r.IntN(len(practiceWords))], disciplineWords[d], c.Name),
			Address:       adequacy.Address{State: c.State, ZIP: zip},
			Participating: r.Float64() >= cfg.NonParticipating,
			Effective:     effective,
		}
		pr.AcceptingNewPatients = r.Float64() >= cfg.NotAccepting
		if pr.Participating && r.Float64() < cfg.TelehealthOnly {
			pr.TelehealthOnly = true
		}
		if r.Float64() < cfg.Terminated {
			pr.Termination = terminated
		}
		lists.fill(lr, &pr)
		out[i] = pr
	}
	return out, nil
}

// NPI draws a random NPI (starting with 1) with a valid check digit.
func NPI(r *rand.Rand) string {
	base := fmt.Sprintf("1%08d", r.IntN(100_000_000))
	sum := 24
	for i := 0; i < 9; i++ {
		d := int(base[i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return base + string(rune('0'+(10-sum%10)%10))
}
