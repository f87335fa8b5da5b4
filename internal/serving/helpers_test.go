package serving_test

import (
	"sync"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
)

var fixture struct {
	once   sync.Once
	engine *adequacy.Engine
	roster *adequacy.Roster
	err    error
}

// baseEngine is the embedded engine without a network, built once, and
// fixture.roster the embedded sample roster.
func baseEngine(t testing.TB) *adequacy.Engine {
	t.Helper()
	fixture.once.Do(func() {
		fixture.engine, _, fixture.err = data.NewEngine(data.Setup{})
		if fixture.err == nil {
			fixture.roster, fixture.err = data.SampleRoster()
		}
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return fixture.engine
}
