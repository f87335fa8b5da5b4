package adequacy_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
)

// DecideBatch answers every request exactly as Decide does, errors
// included, in request order.
func TestDecideBatchEqualsDecide(t *testing.T) {
	eng := engine(t, nil)
	members := sampleGapMembers(t, 1500)
	r := rand.New(rand.NewPCG(31, 32))
	profiles := []string{"cms-ma", "tx-medicaid", "commercial-example", "qhp-ffe"}
	var reqs []adequacy.Request
	for i, m := range members {
		p := profiles[i%len(profiles)]
		prof, _ := eng.Profiles.Get(p)
		ds := prof.CoveredDisciplines()
		r.Shuffle(len(ds), func(a, b int) { ds[a], ds[b] = ds[b], ds[a] })
		pt := m.Point
		req := adequacy.Request{Member: adequacy.Member{Point: &pt}, Disciplines: ds[:1+r.IntN(len(ds))], Profile: p, AsOf: asOf, K: []int{0, 1, 3, 10}[i%4]}
		switch i % 97 {
		case 5:
			req.Member.Point = &geo.Point{Lat: 95, Lon: 0} // invalid
		case 9:
			req.Member = adequacy.Member{ZIP: m.ZIP} // ZIP only
		case 13:
			req.Member.Point = &geo.Point{Lat: 35, Lon: -50} // no county
		case 17:
			req.Profile = "nope"
		}
		reqs = append(reqs, req)
	}
	got, errs := eng.DecideBatch(reqs)
	for i, req := range reqs {
		want, err := eng.Decide(req)
		if (err == nil) != (errs[i] == nil) || (err != nil && err.Error() != errs[i].Error()) {
			t.Fatalf("request %d: batch error %v, Decide %v", i, errs[i], err)
		}
		if err == nil && !reflect.DeepEqual(got[i], want) {
			t.Fatalf("request %d: batch\n%+v\nDecide\n%+v", i, got[i], want)
		}
	}
}
