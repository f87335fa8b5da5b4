package main

// Abuse cases against a real geoaccessd process over loopback. Each case
// starts its own process, so the process's peak resident set (VmHWM in
// /proc/PID/status) measures that case alone; the limit is generous (the
// process idles at about 50 MB) and far below what these cases took
// before the server bounded them (0.9 to 2.5 GB).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// abuseRSSLimit bounds the server's peak RSS under every abuse case.
const abuseRSSLimit = 400 << 20

// peakRSS is the process's peak resident set so far (VmHWM), in bytes.
func (p *proc) peakRSS(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("peak RSS: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("peak RSS: %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatal("peak RSS: no VmHWM in /proc/PID/status")
	return 0
}

// checkRSS fails the test when the peak RSS is over abuseRSSLimit, and
// logs it (docs/operations.md quotes these figures).
func (p *proc) checkRSS(t *testing.T, what string) {
	t.Helper()
	peak := p.peakRSS(t)
	t.Logf("%s: server peak RSS %d MB", what, peak>>20)
	if peak > abuseRSSLimit {
		t.Errorf("%s: server peak RSS %d MB, want under %d MB", what, peak>>20, abuseRSSLimit>>20)
	}
}

// alive checks the server still answers.
func alive(t *testing.T, c pb.AdequacyServiceClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}}); err != nil {
		t.Fatalf("the server no longer answers: %v", err)
	}
}

func badRequest(t *testing.T, err error) (*status.Status, *errdetails.BadRequest) {
	t.Helper()
	st := status.Convert(err)
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			return st, br
		}
	}
	t.Errorf("%v: no BadRequest detail (%d bytes of status): %.200s", st.Code(), proto.Size(st.Proto()), st.Message())
	return st, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{}}}
}

// TestAbuseRepeatedFields: requests whose repeated fields hold a million
// elements (1 MB messages) are refused with one violation each, before
// any per-element work; a request with thousands of wrong elements gets
// at most MaxViolations of them and a count of the rest.
func TestAbuseRepeatedFields(t *testing.T) {
	p := start(t, "--max-gap-reports", "2") // two of the calls below are gap reports
	_, c := p.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const n = 1_000_000
	same := make([]pb.Discipline, n)
	unknown := make([]pb.Discipline, n)
	for i := range same {
		same[i], unknown[i] = pb.Discipline_DISCIPLINE_PT, pb.Discipline(99)
	}
	members := make([]*pb.GapMember, 2_000_000) // 2 bytes each on the wire
	for i := range members {
		members[i] = &pb.GapMember{}
	}
	calls := []struct {
		name  string
		call  func() error
		field string
	}{
		{"CheckAccess, the same discipline", func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", Disciplines: same})
			return err
		}, "disciplines"},
		{"CheckAccess, unknown disciplines", func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", Disciplines: unknown})
			return err
		}, "disciplines"},
		{"CheckAccessBatch item", func() error {
			s, err := c.CheckAccessBatch(ctx)
			if err != nil {
				return err
			}
			if err := s.Send(&pb.CheckAccessBatchRequest{MemberRef: "m", Zip: "10001", Disciplines: unknown}); err != nil {
				return err
			}
			s.CloseSend()
			a, err := s.Recv()
			if err != nil {
				return err
			}
			return status.ErrorProto(a.GetError())
		}, "disciplines"},
		{"GapReport disciplines", func() error {
			s, err := c.GapReport(ctx, &pb.GapReportRequest{Members: members[:1], Disciplines: unknown})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}, "disciplines"},
		{"GapReport members", func() error {
			s, err := c.GapReport(ctx, &pb.GapReportRequest{Members: members})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}, "members"},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(calls))
	for i, cl := range calls {
		wg.Go(func() { errs[i] = cl.call() })
	}
	wg.Wait()
	for i, cl := range calls {
		st, br := badRequest(t, errs[i])
		if st.Code() != codes.InvalidArgument || len(br.FieldViolations) != 1 || br.FieldViolations[0].Field != cl.field {
			t.Errorf("%s: %v with %d violations (first %v), want one on %s", cl.name, st.Code(), len(br.FieldViolations),
				br.FieldViolations[0], cl.field)
		}
		if size := proto.Size(st.Proto()); size > 2048 {
			t.Errorf("%s: status of %d bytes", cl.name, size)
		}
	}

	// Many wrong elements within the limits: the first MaxViolations and
	// a count of the rest.
	cands := make([]*pb.RecruitmentCandidate, 5000)
	for i := range cands {
		cands[i] = &pb.RecruitmentCandidate{Npi: "12"}
	}
	s, err := c.GapReport(ctx, &pb.GapReportRequest{Members: members[:1], Candidates: cands})
	if err == nil {
		_, err = s.Recv()
	}
	st, br := badRequest(t, err)
	if n := len(br.FieldViolations); n != 21 || !strings.Contains(br.FieldViolations[n-1].Description, "more") {
		t.Errorf("%d violations, last %v; want 20 and a count of the rest", n, br.FieldViolations[n-1])
	}
	if size := proto.Size(st.Proto()); size > 8192 {
		t.Errorf("capped status of %d bytes", size)
	}
	alive(t, c)
	p.checkRSS(t, "a million repeated disciplines (4 calls at once), 2 million gap members")
}

// TestAbuseEchoedValues: a 4 MB value in a field the server quotes in
// its error comes back cut to a short excerpt: the status and its
// details stay under a few KB (before, they carried it two or three
// times and clients failed on the header size).
func TestAbuseEchoedValues(t *testing.T) {
	p := start(t)
	_, c := p.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	big := strings.Repeat("z", 4_000_000)
	pt := []pb.Discipline{pb.Discipline_DISCIPLINE_PT}
	calls := map[string]func() error{
		"CheckAccess profile": func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", Profile: big, Disciplines: pt})
			return err
		},
		"CheckAccess zip": func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: big, Disciplines: pt})
			return err
		},
		"CheckAccess county_fips": func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", CountyFips: big, Disciplines: pt})
			return err
		},
		"CheckAccess as_of": func() error {
			_, err := c.CheckAccess(ctx, &pb.CheckAccessRequest{Zip: "10001", AsOf: big, Disciplines: pt})
			return err
		},
		"EvaluateNegotiation provider.npi": func() error {
			_, err := c.EvaluateNegotiation(ctx, &pb.EvaluateNegotiationRequest{Zip: "10001", Discipline: pb.Discipline_DISCIPLINE_PT,
				Provider: &pb.RequestedProvider{Npi: big}})
			return err
		},
		"GetProfile name": func() error {
			_, err := c.GetProfile(ctx, &pb.GetProfileRequest{Name: big})
			return err
		},
		"GetProfile version": func() error {
			_, err := c.GetProfile(ctx, &pb.GetProfileRequest{Version: big})
			return err
		},
		"GapReport credits": func() error {
			s, err := c.GapReport(ctx, &pb.GapReportRequest{Members: []*pb.GapMember{{MemberRef: "m", Zip: "10001"}}, Credits: []string{big}})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		},
		"CheckAccessBatch item zip": func() error {
			s, err := c.CheckAccessBatch(ctx)
			if err != nil {
				return err
			}
			if err := s.Send(&pb.CheckAccessBatchRequest{MemberRef: "m", Zip: big, Disciplines: pt}); err != nil {
				return err
			}
			s.CloseSend()
			a, err := s.Recv()
			if err != nil {
				return err
			}
			if size := proto.Size(a); size > 4096 {
				t.Errorf("batch answer of %d bytes", size)
			}
			return status.ErrorProto(a.GetError())
		},
	}
	for name, call := range calls {
		err := call()
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument && st.Code() != codes.NotFound {
			t.Errorf("%s: %v: %.200s", name, st.Code(), st.Message())
			continue
		}
		if m, size := len(st.Message()), proto.Size(st.Proto()); m > 1024 || size > 4096 {
			t.Errorf("%s: message %d bytes, status with details %d bytes", name, m, size)
		} else if !strings.Contains(st.Message(), "zzz") && name != "GapReport credits" {
			t.Logf("%s: %s", name, st.Message())
		}
	}
	alive(t, c)
	p.checkRSS(t, "4 MB echoed values")
}

// TestAbuseBatchStreamNeverReads: a stream that sends 2 MB items and
// never reads its answers is held to its byte budget: the server stops
// reading (flow control) instead of buffering the items and answers.
func TestAbuseBatchStreamNeverReads(t *testing.T) {
	p := start(t)
	_, c := p.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := c.CheckAccessBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.Repeat("r", 2<<20) // echoed in every answer
	const most = 400
	var sent atomic.Int64
	done := make(chan error, 1)
	go func() {
		for i := range most {
			it := &pb.CheckAccessBatchRequest{MemberRef: ref + strconv.Itoa(i), Zip: "10001", Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}}
			if err := s.Send(it); err != nil {
				done <- err
				return
			}
			sent.Add(1)
		}
		done <- nil
	}()
	stalled := waitStall(&sent, done, 2*time.Second, 60*time.Second)
	t.Logf("the server took %d items of 2 MB before flow control stopped the sender (stalled %v)", sent.Load(), stalled)
	if !stalled {
		t.Errorf("all %d items of 2 MB were taken without reading an answer", most)
	}
	p.checkRSS(t, "one stream of 2 MB items that never reads")
	cancel()
	alive(t, p.newClient(t))
}

// waitStall waits until the counter stops moving for quiet (true), the
// sender finishes (false), or limit passes (false).
func waitStall(n *atomic.Int64, done <-chan error, quiet, limit time.Duration) bool {
	end := time.Now().Add(limit)
	last, since := n.Load(), time.Now()
	for time.Now().Before(end) {
		select {
		case <-done:
			return false
		case <-time.After(50 * time.Millisecond):
		}
		if v := n.Load(); v != last {
			last, since = v, time.Now()
		} else if time.Since(since) > quiet {
			return true
		}
	}
	return false
}

// newClient dials a fresh connection.
func (p *proc) newClient(t *testing.T) pb.AdequacyServiceClient {
	_, c := p.client(t)
	return c
}

// TestAbuseManySlowStreams: 300 batch streams of ordinary items, none
// reading its answers, over several connections. The server serves at
// most --max-streams of them at once and refuses the rest with
// RESOURCE_EXHAUSTED and a QuotaFailure; those it serves are each held
// to their byte budget.
func TestAbuseManySlowStreams(t *testing.T) {
	p := start(t, "--log-level", "info")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const conns, perConn, items = 6, 50, 4000
	type open struct {
		s    grpc.BidiStreamingClient[pb.CheckAccessBatchRequest, pb.CheckAccessBatchResponse]
		sent atomic.Int64
		done chan error
	}
	var streams []*open
	var total atomic.Int64
	for range conns {
		// Small fixed windows: the client's transport takes no more than
		// 64 KiB of answers per stream that it does not read.
		cc, err := grpc.NewClient(p.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		c := pb.NewAdequacyServiceClient(cc)
		for range perConn {
			s, err := c.CheckAccessBatch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			o := &open{s: s, done: make(chan error, 1)}
			streams = append(streams, o)
			go func() {
				for i := range items {
					it := &pb.CheckAccessBatchRequest{MemberRef: strconv.Itoa(i), Location: &pb.LatLng{Latitude: 40.7 + float64(i%100)/1000, Longitude: -73.99},
						Disciplines: []pb.Discipline{pb.Discipline_DISCIPLINE_PT}, AsOf: "2026-06-01"}
					if err := s.Send(it); err != nil {
						o.done <- err
						return
					}
					o.sent.Add(1)
					total.Add(1)
				}
				o.done <- nil
			}()
		}
	}
	waitStall(&total, nil, 3*time.Second, 90*time.Second)
	t.Logf("%d streams sent %d items before the server stopped reading", len(streams), total.Load())
	p.checkRSS(t, fmt.Sprintf("%d batch streams that never read", len(streams)))
	for _, l := range strings.Split(metricsText(t, p), "\n") {
		if strings.HasPrefix(l, "geoaccess_batch_buffered_bytes") || strings.HasPrefix(l, "geoaccess_streams_in_flight") {
			t.Log(l)
		}
	}

	// Every stream either was refused or is being served.
	refused := 0
	for _, o := range streams {
		select {
		case <-o.done:
		default:
			continue // still sending: served, and held by flow control
		}
		_, err := o.s.Recv()
		if err == nil || errors.Is(err, io.EOF) {
			continue
		}
		st := status.Convert(err)
		if st.Code() != codes.ResourceExhausted {
			t.Errorf("a stream ended with %v: %s", st.Code(), st.Message())
			continue
		}
		quota := false
		for _, d := range st.Details() {
			if _, ok := d.(*errdetails.QuotaFailure); ok {
				quota = true
			}
		}
		if !quota {
			t.Errorf("RESOURCE_EXHAUSTED without a QuotaFailure: %s", st.Message())
		}
		refused++
	}
	t.Logf("%d of %d streams refused with RESOURCE_EXHAUSTED", refused, len(streams))
	if refused == 0 {
		t.Error("no stream was refused")
	}
	cancel()
	alive(t, p.newClient(t))
}

// TestAbuseManyGapReports: eight gap reports of 100,000 members (the
// most a request may hold, 3.2 MB each) at once. Each holds about 200 MB
// while it runs; the server runs --max-gap-reports of them (one by default)
// and refuses the rest with RESOURCE_EXHAUSTED.
func TestAbuseManyGapReports(t *testing.T) {
	p := start(t, "--log-level", "info")
	var ms []*pb.GapMember
	for i := range 100_000 {
		ms = append(ms, &pb.GapMember{MemberRef: fmt.Sprintf("m%07d", i), Location: &pb.LatLng{Latitude: 25 + float64(i%2400)/100, Longitude: -120 + float64(i/2400)*1.5}})
	}
	req := &pb.GapReportRequest{Members: ms, AsOf: "2026-06-01"}
	const reports = 8
	var wg sync.WaitGroup
	errs := make([]error, reports)
	rows := make([]int, reports)
	for i := range reports {
		c := p.newClient(t)
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s, err := c.GapReport(ctx, req)
			for err == nil {
				if _, err = s.Recv(); err == nil {
					rows[i]++
				}
			}
			if !errors.Is(err, io.EOF) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	served, refused := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			served++
		case status.Code(err) == codes.ResourceExhausted:
			refused++
		default:
			t.Errorf("report %d: %v after %d rows", i, err, rows[i])
		}
	}
	t.Logf("%d reports served, %d refused with RESOURCE_EXHAUSTED", served, refused)
	if refused == 0 {
		t.Error("no report was refused")
	}
	p.checkRSS(t, fmt.Sprintf("%d gap reports of 100,000 members at once", reports))
}

// TestCanceledCallsAreNotUnavailable: a caller that cancels its call, or
// whose deadline passes, is counted and logged as CANCELLED or
// DEADLINE_EXCEEDED at info, not as UNAVAILABLE (a server fault alerts
// watch).
func TestCanceledCallsAreNotUnavailable(t *testing.T) {
	p := start(t, "--log-level", "info")
	_, c := p.client(t)
	for _, tc := range []struct {
		name string
		code string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"canceled", "Canceled", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
		{"deadline", "DeadlineExceeded", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 500*time.Millisecond)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			s, err := c.CheckAccessBatch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(item(1)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Recv(); err != nil {
				t.Fatal(err)
			}
			if tc.code == "Canceled" {
				cancel()
			}
			rec := p.await(t, "call")
			if rec["method"] != pb.AdequacyService_CheckAccessBatch_FullMethodName || rec["code"] != tc.code || rec["level"] != "INFO" {
				t.Errorf("logged %v %v at %v, want %s at INFO", rec["method"], rec["code"], rec["level"], tc.code)
			}
		})
	}
	body := metricsText(t, p)
	for _, w := range []string{`code="Canceled",method="/geoaccess.v1.AdequacyService/CheckAccessBatch"} 1`,
		`code="DeadlineExceeded",method="/geoaccess.v1.AdequacyService/CheckAccessBatch"} 1`} {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	if strings.Contains(body, `code="Unavailable"`) {
		t.Error("a caller's cancellation was counted as Unavailable")
	}
}

func metricsText(t *testing.T, p *proc) string {
	t.Helper()
	resp, err := http.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
