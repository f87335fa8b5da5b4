package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/geoaccess/geoaccess/internal/server"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// TestStreamLimit: the server serves MaxStreams batch and gap streams at
// once and refuses one more with RESOURCE_EXHAUSTED, a QuotaFailure and
// an ErrorInfo; once one ends, another is served. Unary calls are not
// counted.
func TestStreamLimit(t *testing.T) {
	srv, addr := startServer(t, server.Config{MaxStreams: 2}, false)
	c := client(t, addr)
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	var open []pb.AdequacyService_CheckAccessBatchClient
	for range 2 {
		s, err := c.CheckAccessBatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(&pb.CheckAccessBatchRequest{MemberRef: "a", Zip: "10001", AsOf: testAsOf, Disciplines: []pb.Discipline{pt}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil { // served: it holds its slot until it ends
			t.Fatal(err)
		}
		open = append(open, s)
	}
	refused := func(err error) {
		t.Helper()
		st := status.Convert(err)
		if st.Code() != codes.ResourceExhausted {
			t.Fatalf("%v, want RESOURCE_EXHAUSTED", err)
		}
		var quota, info bool
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.QuotaFailure:
				quota = len(d.Violations) == 1 && d.Violations[0].Subject == "server"
			case *errdetails.ErrorInfo:
				info = d.Reason == "STREAM_LIMIT" && d.Metadata["limit"] == "2"
			}
		}
		if !quota || !info {
			t.Errorf("details %v", st.Details())
		}
	}
	s3, err := c.CheckAccessBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s3.Recv()
	refused(err)
	refused(gapErr(c, ctx, &pb.GapReportRequest{Members: []*pb.GapMember{{MemberRef: "m", Zip: "10001"}}}))
	if _, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", AsOf: testAsOf, Disciplines: []pb.Discipline{pt}}); err != nil {
		t.Fatalf("unary call: %v", err)
	}

	open[0].CloseSend()
	if _, err := open[0].Recv(); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := gapErr(c, ctx, &pb.GapReportRequest{Members: []*pb.GapMember{{MemberRef: "m", Zip: "10001"}}})
		if err == nil {
			break
		}
		if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
			t.Fatalf("after a stream ended: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the slot is given back as the handler returns
	}
	if m := metricsBody(t, srv); !strings.Contains(m, `geoaccess_streams_refused_total{method="/geoaccess.v1.AdequacyService/GapReport"} 1`) {
		t.Errorf("refusals not counted:\n%s", grepLines(m, "geoaccess_streams"))
	}
}

// TestBatchByteBudget: a stream that sends large items and reads no
// answer is held to its byte budget: the server stops reading, and
// what it holds stays near BufferBytes.
func TestBatchByteBudget(t *testing.T) {
	const budget = 256 << 10
	srv, addr := startServer(t, server.Config{Batch: server.BatchConfig{BufferBytes: budget}}, false)
	c := client(t, addr)
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	s, err := c.CheckAccessBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.Repeat("r", 32<<10) // echoed in each answer
	sent := make(chan int, 1)
	go func() {
		n := 0
		defer func() { sent <- n }()
		for range 2000 {
			if s.Send(&pb.CheckAccessBatchRequest{MemberRef: ref, Zip: "10001", AsOf: testAsOf, Disciplines: []pb.Discipline{pt}}) != nil {
				return
			}
			n++
		}
	}()
	time.Sleep(time.Second)
	buffered := metricValue(t, metricsBody(t, srv), "geoaccess_batch_buffered_bytes")
	if buffered <= 0 || buffered > 2*budget {
		t.Errorf("the stream holds %v bytes, want up to about %d", buffered, budget)
	}
	cancel()
	if n := <-sent; n > 200 {
		t.Errorf("%d items of 32 KB taken without an answer read", n)
	}
}

// TestCanceledStreamCounted: a caller's cancellation is counted as
// CANCELLED, its deadline as DEADLINE_EXCEEDED.
func TestCanceledStreamCounted(t *testing.T) {
	srv, addr := startServer(t, server.Config{}, false)
	c := client(t, addr)
	for _, timeout := range []time.Duration{0, 300 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		if timeout > 0 {
			ctx, cancel = context.WithTimeout(context.Background(), timeout)
		}
		s, err := c.CheckAccessBatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Send(&pb.CheckAccessBatchRequest{MemberRef: "a", Zip: "10001", AsOf: testAsOf, Disciplines: []pb.Discipline{pt}})
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		if timeout == 0 {
			cancel()
		}
		s.Recv() // ends with the cancellation or the deadline
		cancel()
	}
	m := pb.AdequacyService_CheckAccessBatch_FullMethodName
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := metricsBody(t, srv)
		if strings.Contains(body, `code="Canceled",method="`+m+`"} 1`) && strings.Contains(body, `code="DeadlineExceeded",method="`+m+`"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not counted as Canceled and DeadlineExceeded:\n%s", grepLines(body, "geoaccess_grpc_requests_total"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGapReportLimit: GapReport streams have their own, smaller limit:
// while one report is being sent to a caller that does not read, a
// second is refused (ErrorInfo names --max-gap-reports), a batch stream
// is still served, and once the first ends another report runs.
func TestGapReportLimit(t *testing.T) {
	_, addr := startServer(t, server.Config{MaxGapReports: 1}, false)
	slow := pb.NewAdequacyServiceClient(dial(t, addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10)))
	c := client(t, addr)
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	ref := strings.Repeat("m", 1000) // echoed in every unserved row
	var ms []*pb.GapMember
	for i := range 2000 {
		ms = append(ms, &pb.GapMember{MemberRef: fmt.Sprint(ref, i), Location: &pb.LatLng{Latitude: 70.2, Longitude: -150.5}})
	}
	first, err := slow.GapReport(ctx, &pb.GapReportRequest{Members: ms, AsOf: testAsOf})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Recv(); err != nil { // under way, and blocked sending the rest
		t.Fatal(err)
	}
	err = gapErr(c, ctx, &pb.GapReportRequest{Members: []*pb.GapMember{{MemberRef: "m", Zip: "10001"}}})
	st := status.Convert(err)
	var flag string
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			flag = ei.Metadata["flag"]
		}
	}
	if st.Code() != codes.ResourceExhausted || flag != "--max-gap-reports" {
		t.Fatalf("second report: %v (flag %q)", err, flag)
	}
	b, err := c.CheckAccessBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.Send(&pb.CheckAccessBatchRequest{MemberRef: "a", Zip: "10001", AsOf: testAsOf, Disciplines: []pb.Discipline{pt}})
	if _, err := b.Recv(); err != nil {
		t.Fatalf("a batch stream beside the report: %v", err)
	}
	for { // the first report ends: read it to the end
		if _, err := first.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := gapErr(c, ctx, &pb.GapReportRequest{Members: []*pb.GapMember{{MemberRef: "m", Zip: "10001"}}})
		if err == nil {
			break
		}
		if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
			t.Fatalf("after the first report: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
