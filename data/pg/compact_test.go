package pg

import (
	"context"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/internal/pgtest"
)

// A compact read is the same roster as the read of values, on the binary
// and the text protocol, with the same version, source and refusals.
func TestReadRosterCompact(t *testing.T) {
	ctx := context.Background()
	u := pgtest.URL(t)
	binPool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer binPool.Close()
	if _, err := Migrate(ctx, binPool); err != nil {
		t.Fatal(err)
	}
	textPool, err := pgxpool.New(ctx, pgtest.WithParam(u, "default_query_exec_mode", "simple_protocol"))
	if err != nil {
		t.Fatal(err)
	}
	defer textPool.Close()
	id := load(t, binPool, sampleCSV(t), LoadOptions{Source: "roster.csv"}).Version.ID
	want, err := ReadRoster(ctx, binPool, id)
	if err != nil {
		t.Fatal(err)
	}
	for name, pool := range map[string]*pgxpool.Pool{"binary": binPool, "text": textPool} {
		got, err := ReadRosterCompact(ctx, pool, id)
		if err != nil {
			t.Fatal(name, err)
		}
		if !got.IsCompact() || got.Version != want.Version || got.Source != want.Source || got.LoadedAt.IsZero() {
			t.Errorf("%s: compact %v version %q source %q", name, got.IsCompact(), got.Version, got.Source)
		}
		if !reflect.DeepEqual(got.Expand().Providers, want.Providers) {
			t.Errorf("%s: the compact read differs", name)
		}
	}
	if _, err := ReadRosterCompact(ctx, binPool, id+100); err == nil {
		t.Error("a version that does not exist reads")
	}
}
