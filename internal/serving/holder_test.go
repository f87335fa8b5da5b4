package serving_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/serving"
)

// rosterOf is the sample roster changed by f, as version v.
func rosterOf(t *testing.T, v string, f func(p *adequacy.Provider)) *adequacy.Roster {
	baseEngine(t)
	r := &adequacy.Roster{Version: v, Providers: append([]adequacy.Provider(nil), fixture.roster.Providers...)}
	for i := range r.Providers {
		f(&r.Providers[i])
	}
	return r
}

// TestHolderRefusesEmptyNetwork: a roster with no participating
// in-person provider — no rows, none participating, all telehealth-only —
// is never served: a first load fails and serves nothing; a later load
// keeps the roster serving; the outcome says why and observers hear it.
func TestHolderRefusesEmptyNetwork(t *testing.T) {
	empties := map[string]*adequacy.Roster{
		"no rows":             {Version: "empty"},
		"none participating":  rosterOf(t, "nonpar", func(p *adequacy.Provider) { p.Participating = false }),
		"all telehealth-only": rosterOf(t, "tele", func(p *adequacy.Provider) { p.TelehealthOnly = true }),
	}
	ctx := context.Background()
	for name, empty := range empties {
		t.Run(name, func(t *testing.T) {
			h := serving.NewHolder(baseEngine(t), nil)
			var told []serving.RosterStatus
			h.OnChange(func(st serving.RosterStatus) { told = append(told, st) })
			load := func(r *adequacy.Roster) serving.LoadFunc {
				return func(context.Context) (*adequacy.Roster, error) { return r, nil }
			}
			err := h.Load(ctx, "file", load(empty))
			if !errors.Is(err, adequacy.ErrEmptyRoster) || !errors.Is(err, adequacy.ErrVersionNotServable) {
				t.Fatalf("first load: %v", err)
			}
			if h.Engine() != nil || h.Status().Loaded {
				t.Fatal("an empty network serves")
			}
			if err := h.Load(ctx, "file", load(fixture.roster)); err != nil {
				t.Fatal(err)
			}
			good := h.Status().Version
			err = h.Load(ctx, "file", load(empty))
			if !errors.Is(err, adequacy.ErrEmptyRoster) {
				t.Fatalf("reload: %v", err)
			}
			st := h.Status()
			if !st.Loaded || st.Version != good || h.Engine().Network.Version() != good {
				t.Fatalf("after the refused reload: serving %q, want %q", st.Version, good)
			}
			if lr := st.LastReload; lr.Success || !strings.Contains(lr.Err, "no participating providers") || lr.Version != empty.Version {
				t.Errorf("last reload %+v", lr)
			}
			if len(told) != 3 || told[2].LastReload.Success {
				t.Errorf("observers told %d times", len(told))
			}
		})
	}
}
