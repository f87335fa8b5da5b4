package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// Member data the log test sends; none of it may reach a log.
var secrets = []string{"40.748817", "73.985428", "91.123456", "10016", "60.5432", "member-ref-SECRET", "MEMBER-ID-4242"}

// TestLogsCarryNoMemberData drives every RPC, good and bad, with a debug
// JSON logger and checks the log has no coordinate, ZIP or member ref.
func TestLogsCarryNoMemberData(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, addr := startServer(t, server.Config{Logger: log}, false)
	c := client(t, addr)
	ctx := ctxFor(t)
	home := &pb.LatLng{Latitude: 40.748817, Longitude: -73.985428}
	c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: home, Disciplines: allDisciplines(), AsOf: testAsOf})
	c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10016", Disciplines: []pb.Discipline{pt}, AsOf: testAsOf})
	c.CheckAccess(ctx, &pb.CheckAccessRequest{Location: &pb.LatLng{Latitude: 91.123456, Longitude: -73.985428}, Disciplines: []pb.Discipline{pt}})
	c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10016", Profile: "MEMBER-ID-4242", Disciplines: []pb.Discipline{pt}})
	c.EvaluateNegotiation(ctx, &pb.EvaluateNegotiationRequest{Location: home, Discipline: pt, AsOf: testAsOf,
		Provider: &pb.RequestedProvider{Npi: nonParticipatingNPI(t, 1), Location: &pb.LatLng{Latitude: 60.5432, Longitude: -73.985428}}})
	c.EvaluateNegotiation(ctx, &pb.EvaluateNegotiationRequest{Zip: "10016", Discipline: pt, Provider: &pb.RequestedProvider{Npi: "MEMBER-ID-4242"}})
	stream, err := c.CheckAccessBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		item := &pb.CheckAccessBatchRequest{MemberRef: fmt.Sprintf("member-ref-SECRET-%d", i), Location: home, Disciplines: []pb.Discipline{pt}, AsOf: testAsOf}
		if i%3 == 0 {
			item.Location, item.Zip = nil, "10016"
		}
		if i%4 == 0 {
			item.Location = &pb.LatLng{Latitude: 91.123456}
		}
		stream.Send(item)
	}
	stream.CloseSend()
	for {
		if _, err := stream.Recv(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	assertNoSecrets(t, out)
	assertLogsCalls(t, out)
}

func assertNoSecrets(t *testing.T, log string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log contains %q:\n%s", s, log)
		}
	}
}

// assertLogsCalls checks the log is there at all: one JSON line per call
// with method and code.
func assertLogsCalls(t *testing.T, log string) {
	t.Helper()
	calls := 0
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		if rec["msg"] == "call" && rec["method"] != nil && rec["code"] != nil {
			calls++
		}
	}
	if calls < 7 {
		t.Errorf("%d call lines logged, want ≥ 7:\n%s", calls, log)
	}
}
