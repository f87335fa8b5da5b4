package data_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/geoaccess/geoaccess/data"
	"github.com/geoaccess/geoaccess/data/synth"
)

// benchRoster is 100,000 providers as "geoaccess sample roster" writes
// them (designations, declared services and networks included), with
// lists or without.
var benchRoster = sync.OnceValues(func() ([2][]byte, error) {
	var out [2][]byte
	g, err := data.EmbeddedGeography()
	if err != nil {
		return out, err
	}
	ct, err := data.EmbeddedCounties()
	if err != nil {
		return out, err
	}
	v, err := data.Vocabulary()
	if err != nil {
		return out, err
	}
	for i, lists := range []bool{false, true} {
		w := &synth.World{Counties: ct.Counties, Map: g.Counties, ZIPs: g.ZIPs}
		cfg := synth.Config{Seed: 1000, Count: 100_000, NonParticipating: 0.12, TelehealthOnly: 0.03, NotAccepting: 0.08, Terminated: 0.02}
		if lists {
			w.Vocabulary = v
			cfg.Designations, cfg.Declared, cfg.Networks = 0.06, 0.04, []string{"ACME-MA", "ACME-COMM", "ACME-MCD"}
		}
		ps, err := w.Providers(cfg)
		if err != nil {
			return out, err
		}
		var buf bytes.Buffer
		if err := data.WriteRoster(&buf, ps); err != nil {
			return out, err
		}
		out[i] = buf.Bytes()
	}
	return out, nil
})

// The roster reader on 100,000 rows (county FIPS given, so no point in
// polygon), without and with the networks, designations and services
// columns filled.
func BenchmarkReadRoster100k(b *testing.B) {
	files, err := benchRoster()
	if err != nil {
		b.Fatal(err)
	}
	for i, name := range []string{"plain", "lists"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(files[i])))
			for b.Loop() {
				r, _, err := data.ReadRoster(bytes.NewReader(files[i]), data.RosterOptions{})
				if err != nil || len(r.Providers) != 100_000 {
					b.Fatal(err)
				}
			}
		})
	}
}
