package server_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/geo"
	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// batchItem makes the i-th item of a test batch: mostly good members,
// with every kind of bad item interleaved.
func batchItem(m member, i int) (*pb.CheckAccessBatchRequest, string) {
	req := &pb.CheckAccessBatchRequest{MemberRef: fmt.Sprintf("ref-%05d", i), AsOf: testAsOf, K: 2,
		Location: &pb.LatLng{Latitude: m.lat, Longitude: m.lon}, Disciplines: []pb.Discipline{pt, ot}}
	switch i % 11 {
	case 3:
		req.Location.Latitude = 95
		return req, "location.latitude"
	case 5:
		req.Disciplines = []pb.Discipline{pb.Discipline_DISCIPLINE_UNSPECIFIED}
		return req, "disciplines[0]"
	case 7:
		req.AsOf = "2026-02-31"
		return req, "as_of"
	case 9:
		req.Location, req.Zip = nil, "00000"
		return req, "zip"
	case 10:
		req.Profile = "nope"
		return req, "profile"
	}
	return req, ""
}

// TestBatchAnswersEveryItem: good and bad items interleaved, all answered
// once with their member_ref; bad ones with their field violation, good
// ones as the core decides; the stream ends OK.
func TestBatchAnswersEveryItem(t *testing.T) {
	t.Run("parallel decider", func(t *testing.T) { batchAnswersEveryItem(t, server.BatchConfig{ChunkSize: 64}) })
	t.Run("spatial decider", func(t *testing.T) {
		batchAnswersEveryItem(t, server.BatchConfig{ChunkSize: 512, Decider: server.SpatialDecider()})
	})
}

func batchAnswersEveryItem(t *testing.T, bc server.BatchConfig) {
	_, addr := startServer(t, server.Config{Batch: bc}, false)
	c := client(t, addr)
	ref := sampleEngine(t)
	members := sampleMembers(t)
	n := 1500
	if testing.Short() {
		n = 300
	}
	stream, err := c.CheckAccessBatch(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	wantField := map[string]string{}
	wantReq := map[string]*pb.CheckAccessBatchRequest{}
	go func() {
		for i := range n {
			req, field := batchItem(members[i%len(members)], i)
			wantField[req.MemberRef], wantReq[req.MemberRef] = field, req // written before CloseSend, read after EOF
			if err := stream.Send(req); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
		}
		stream.CloseSend()
	}()
	var answers []*pb.CheckAccessBatchResponse
	for {
		a, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d answers: %v", len(answers), err)
		}
		answers = append(answers, a)
	}
	if len(answers) != n {
		t.Fatalf("%d answers, want %d", len(answers), n)
	}
	seen := map[string]bool{}
	for _, a := range answers {
		if seen[a.MemberRef] {
			t.Fatalf("%s answered twice", a.MemberRef)
		}
		seen[a.MemberRef] = true
		checkBatchAnswer(t, ref, a, wantReq[a.MemberRef], wantField[a.MemberRef])
	}
}

func checkBatchAnswer(t *testing.T, ref *adequacy.Engine, a *pb.CheckAccessBatchResponse, req *pb.CheckAccessBatchRequest, field string) {
	t.Helper()
	if field != "" {
		st := status.FromProto(a.GetError())
		wantCode := codes.InvalidArgument
		if field == "profile" {
			wantCode = codes.NotFound
		}
		if a.GetError() == nil || st.Code() != wantCode || len(fields(st.Err())) != 1 || fields(st.Err())[0] != field {
			t.Fatalf("%s: %v, want %v on %s", a.MemberRef, a, wantCode, field)
		}
		return
	}
	if a.GetResult() == nil {
		t.Fatalf("%s: error %v", a.MemberRef, a.GetError())
	}
	asOf, _ := adequacy.ParseDate(req.AsOf)
	want, err := ref.Decide(adequacy.Request{Member: adequacy.Member{Point: &geo.Point{Lat: req.Location.Latitude, Lon: req.Location.Longitude}},
		Disciplines: []adequacy.Discipline{adequacy.PT, adequacy.OT}, AsOf: asOf, K: 2})
	if err != nil {
		t.Fatal(err)
	}
	compareResponse(t, a.GetResult(), want)
}

// countingDecider wraps the default decider and counts the items it has
// been given.
func countingDecider(n *atomic.Int64) server.ChunkDecider {
	inner := server.ParallelDecider(2)
	return func(ctx context.Context, eng *adequacy.Engine, reqs []adequacy.Request, out [][]adequacy.Decision, errs []error) {
		n.Add(int64(len(reqs)))
		inner(ctx, eng, reqs, out, errs)
	}
}

// TestBatchSlowReader: a client that sends much and reads nothing holds
// the server back (flow control) instead of making it buffer; once it
// reads, every item is answered.
func TestBatchSlowReader(t *testing.T) {
	var decided atomic.Int64
	_, addr := startServer(t, server.Config{Batch: server.BatchConfig{ChunkSize: 32, Decider: countingDecider(&decided)}}, false)
	c := client(t, addr)
	stream, err := c.CheckAccessBatch(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 2500
	var sent atomic.Int64
	sendDone := make(chan error, 1)
	go func() {
		for i := range n {
			req := &pb.CheckAccessBatchRequest{MemberRef: fmt.Sprint(i), Location: nyc(), AsOf: testAsOf, K: 50,
				Disciplines: allDisciplines()} // large answers fill the flow-control window fast
			if err := stream.Send(req); err != nil {
				sendDone <- err
				return
			}
			sent.Add(1)
		}
		sendDone <- stream.CloseSend()
	}()
	// Not reading: the server must stall after a bounded number of items.
	var last int64 = -1
	for last != decided.Load() {
		last = decided.Load()
		time.Sleep(300 * time.Millisecond)
	}
	if d := decided.Load(); d > 1000 {
		t.Fatalf("decided %d of %d items while the client read nothing: the server is buffering", d, n)
	}
	t.Logf("stalled after deciding %d items, %d sent", decided.Load(), sent.Load())
	got := 0
	for {
		_, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got++
	}
	if err := <-sendDone; err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("%d answers, want %d", got, n)
	}
}

// TestBatchCancel: when the caller cancels, the decider sees its context
// end, the handler returns and its goroutines are gone.
func TestBatchCancel(t *testing.T) {
	started := make(chan struct{})
	var once sync.Once
	stopped := make(chan struct{})
	blocking := func(ctx context.Context, _ *adequacy.Engine, _ []adequacy.Request, _ [][]adequacy.Decision, _ []error) {
		once.Do(func() { close(started) })
		<-ctx.Done() // a long chunk that honours cancellation
		close(stopped)
	}
	_, addr := startServer(t, server.Config{Batch: server.BatchConfig{ChunkSize: 4, Decider: blocking}}, false)
	c := client(t, addr)
	if _, err := c.ListProfiles(ctxFor(t), &pb.ListProfilesRequest{}); err != nil { // connect first: count only the stream's goroutines
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.CheckAccessBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := stream.Send(&pb.CheckAccessBatchRequest{MemberRef: fmt.Sprint(i), Location: nyc(), Disciplines: []pb.Discipline{pt}}); err != nil {
			t.Fatal(err)
		}
	}
	<-started
	cancel()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the decider never saw the cancellation")
	}
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("Recv after cancel: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("%d goroutines after cancel, %d before", g, before)
	}
}

// TestBatchDeadline: a stream past its deadline ends DEADLINE_EXCEEDED.
func TestBatchDeadline(t *testing.T) {
	_, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	stream, err := c.CheckAccessBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&pb.CheckAccessBatchRequest{MemberRef: "a", Location: nyc(), Disciplines: []pb.Discipline{pt}, AsOf: testAsOf}); err != nil {
		t.Fatal(err)
	}
	if a, err := stream.Recv(); err != nil || a.GetResult() == nil {
		t.Fatalf("first answer: %v %v", a, err)
	}
	_, err = stream.Recv() // the stream stays open until the deadline
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
}
