package synth

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/geoaccess/geoaccess/adequacy"
)

// designationWeight is how common a designation is among the holders of
// its discipline's designations: rough, for synthetic data only (orthopedic
// specialists are the most common ABPTS specialists, CHTs mostly OTs, and
// so on). A code not listed weighs 1.
var designationWeight = map[string]float64{
	"OCS": 40, "SCS": 10, "NCS": 10, "PCS": 8, "GCS": 8, "WCS": 6, "CCS": 3, "ECS": 1,
	"CHT": 25, "CLT": 12, "BCP": 10, "BCG": 8, "BCPR": 6, "SCFES": 8, "SCLV": 5, "SCDCM": 5, "SCEM": 3, "BCMH": 2,
	"BCS-S": 50, "BCS-CL": 30, "BCS-F": 20,
	"CCSP": 30, "DACBSP": 15, "DABCO": 15, "DACNB": 10, "DICCP": 10, "DACRB": 10, "DACBR": 5,
}

// listMaker draws designations, declared services and networks.
type listMaker struct {
	cfg      Config
	desig    [4][]string // by discipline: the designations it can hold
	desigW   [4]sampler
	declared [4][]string // by discipline: services it may declare
	shared   map[string][]string
}

func (w *World) newListMaker(cfg Config) *listMaker {
	m := &listMaker{cfg: cfg, shared: map[string][]string{}}
	if w.Vocabulary == nil {
		m.cfg.Designations, m.cfg.Declared = 0, 0
		return m
	}
	for _, d := range adequacy.Disciplines {
		var ws []float64
		for _, sd := range w.Vocabulary.Designations() {
			if sd.Holds(d) {
				m.desig[d] = append(m.desig[d], sd.Code)
				wt, ok := designationWeight[sd.Code]
				if !ok {
					wt = 1
				}
				ws = append(ws, wt)
			}
		}
		if len(ws) > 0 {
			m.desigW[d] = newSampler(ws)
		}
		for _, sv := range w.Vocabulary.Services() {
			if sv.OfferedBy(d) {
				m.declared[d] = append(m.declared[d], sv.Code)
			}
		}
	}
	return m
}

func (m *listMaker) fill(r *rand.Rand, p *adequacy.Provider) {
	d := p.Discipline
	// Draw every number whatever the outcome, so one provider's lists
	// never shift the next provider's.
	hold, more, declare, which := r.Float64(), r.Float64(), r.Float64(), r.Float64()
	picks := [3]int{}
	if len(m.desig[d]) > 0 {
		for i := range picks {
			picks[i] = m.desigW[d].draw(r)
		}
	}
	var ds []string
	if hold < m.cfg.Designations && len(m.desig[d]) > 0 {
		n := 1
		if more < 0.2 {
			n = 2 + int(more*10)%2
		}
		for _, k := range picks[:n] {
			ds = append(ds, m.desig[d][k])
		}
	}
	var ss []string
	if declare < m.cfg.Declared && len(m.declared[d]) > 0 {
		c := m.declared[d][int(which*float64(len(m.declared[d])))]
		if d == adequacy.PT && which < 0.6 && slices.Contains(m.declared[d], "vestibular") {
			c = "vestibular"
		}
		ss = append(ss, c)
	}
	var ns []string
	for i, id := range m.cfg.Networks {
		x := r.Float64()
		if p.Participating && ((i == 0 && x < 0.8) || (i > 0 && x < 0.3)) {
			ns = append(ns, id)
		}
	}
	if p.Participating && len(ns) == 0 && len(m.cfg.Networks) > 0 {
		ns = append(ns, m.cfg.Networks[r.IntN(len(m.cfg.Networks))])
	} else if len(m.cfg.Networks) > 0 {
		r.IntN(len(m.cfg.Networks))
	}
	p.Designations, p.Services, p.Networks = m.share(ds), m.share(ss), m.share(ns)
}

// share sorts a list, drops repeats and shares equal lists, as the roster
// readers do.
func (m *listMaker) share(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	slices.Sort(l)
	l = slices.Clip(slices.Compact(l))
	k := strings.Join(l, ";")
	if s, ok := m.shared[k]; ok {
		return s
	}
	m.shared[k] = l
	return l
}
