package serving_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/server"
	"github.com/geoaccess/geoaccess/internal/serving"
)

// TestOldRosterCollectable: after a reload, nothing of the server keeps
// the old network: once its last user lets go, the garbage collector
// frees it (runtime.AddCleanup runs).
func TestOldRosterCollectable(t *testing.T) {
	srv, err := server.New(server.Config{Engine: baseEngine(t)})
	if err != nil {
		t.Fatal(err)
	}
	src := &memSource{versions: map[string]*adequacy.Roster{"v1": fixture.roster, "v2": fixture.roster}, current: "v1"}
	rl := serving.NewReloader(srv.Roster(), src, serving.ReloadConfig{})
	if err := srv.SetReloader(rl); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := rl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	freed := make(chan struct{})
	runtime.AddCleanup(srv.Roster().Engine().Network, func(struct{}) { close(freed) }, struct{}{})
	src.setCurrent("v2")
	if _, err := rl.Reload(ctx, "current", false); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		runtime.GC()
		select {
		case <-freed:
			return
		case <-time.After(10 * time.Millisecond):
		}
		if i == 500 {
			t.Fatal("the old network is still reachable after the reload")
		}
	}
}
