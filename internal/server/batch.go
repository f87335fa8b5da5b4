package server

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/par"
	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

// batchItem is one received item, converted, with the bytes it holds of
// the stream's budget.
type batchItem struct {
	ref  string
	dr   domainRequest
	cost int64
}

// answered is a decided chunk on its way to the sender: the answers and
// the bytes each holds of the budget.
type answered struct {
	msgs  []*pb.CheckAccessBatchResponse
	costs []int64
}

// batchRun is one CheckAccessBatch stream: a receiver goroutine feeds
// items to the chunker (the handler's goroutine), which decides whole
// chunks and hands their answers to a sender goroutine. The flow control
// is the stream's byte budget, which every item holds from its receipt
// until its answer is sent (its encoded size and an estimate of its
// answer's, then its answer's), and channels of bounded capacity between
// the three.
type batchRun struct {
	s      *service
	cfg    BatchConfig
	stream pb.AdequacyService_CheckAccessBatchServer
	ctx    context.Context
	cancel context.CancelFunc

	budget  *byteBudget
	items   chan batchItem
	answers chan answered
	sent    chan struct{} // closed when the sender is done

	errMu            sync.Mutex
	recvErr, sendErr error

	ok, bad int // answered items, counted by the chunker
}

// CheckAccessBatch implements AdequacyService.
func (s *service) CheckAccessBatch(stream pb.AdequacyService_CheckAccessBatchServer) error {
	if _, err := s.engine(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	cfg := s.batch
	r := &batchRun{s: s, cfg: cfg, stream: stream, ctx: ctx, cancel: cancel,
		budget:  newByteBudget(cfg.BufferBytes, s.metrics.batchBuffered),
		items:   make(chan batchItem, cfg.ChunkSize),
		answers: make(chan answered, 2),
		sent:    make(chan struct{})}
	defer r.budget.close()
	go r.receive()
	go r.send()
	r.chunkLoop()
	close(r.answers)
	<-r.sent
	ci := infoOf(stream.Context())
	ci.items = r.ok + r.bad
	s.metrics.batchItems.WithLabelValues("ok").Add(float64(r.ok))
	s.metrics.batchItems.WithLabelValues("error").Add(float64(r.bad))
	return r.result(stream.Context())
}

// result is the stream's status: a transport failure, the end of the
// caller's context, or OK.
func (r *batchRun) result(ctx context.Context) error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	switch {
	case r.sendErr != nil:
		return r.sendErr
	case r.recvErr != nil:
		return r.recvErr
	case ctx.Err() != nil:
		return status.FromContextError(ctx.Err()).Err()
	}
	return nil
}

func (r *batchRun) setErr(dst *error, err error) {
	r.errMu.Lock()
	if *dst == nil {
		*dst = err
	}
	r.errMu.Unlock()
	r.cancel()
}

func (r *batchRun) receive() {
	defer close(r.items)
	for {
		m, err := r.stream.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			r.setErr(&r.recvErr, err)
			return
		}
		// The item's bytes are taken before it is queued: while the
		// stream holds its budget's worth, it reads nothing more.
		cost := int64(proto.Size(m)) + answerEstimate(len(m.GetDisciplines()), m.GetK())
		if err := r.budget.acquire(r.ctx, cost); err != nil {
			return
		}
		it := batchItem{ref: m.GetMemberRef(), dr: checkRequest(m, r.s.today()), cost: cost}
		select {
		case r.items <- it:
		case <-r.ctx.Done():
			return
		}
	}
}

func (r *batchRun) send() {
	defer close(r.sent)
	failed := false
	for chunk := range r.answers {
		for i, a := range chunk.msgs {
			if failed {
				break // drain: the chunker must never block on a dead stream
			}
			if err := r.stream.Send(a); err != nil {
				r.setErr(&r.sendErr, err)
				failed = true
			}
			r.budget.adjust(-chunk.costs[i])
		}
	}
}

func (r *batchRun) chunkLoop() {
	buf := make([]batchItem, 0, r.cfg.ChunkSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		chunk, more := r.collect(buf, timer)
		if len(chunk) > 0 && !r.decide(chunk) {
			return
		}
		if !more {
			return
		}
	}
}

// collect waits for a first item, then gathers more until the chunk is
// full, ChunkWait has passed, or the items end (more = false).
func (r *batchRun) collect(buf []batchItem, timer *time.Timer) (chunk []batchItem, more bool) {
	chunk = buf[:0]
	select {
	case it, ok := <-r.items:
		if !ok {
			return chunk, false
		}
		chunk = append(chunk, it)
	case <-r.ctx.Done():
		return chunk, false
	}
	timer.Reset(r.cfg.ChunkWait)
	defer timer.Stop()
	for len(chunk) < r.cfg.ChunkSize {
		select {
		case it, ok := <-r.items:
			if !ok {
				return chunk, false
			}
			chunk = append(chunk, it)
		case <-timer.C:
			return chunk, true
		case <-r.ctx.Done():
			return chunk, false
		}
	}
	return chunk, true
}

// decide answers a chunk: well-formed items go to the chunk decider,
// items with protocol faults are answered with their violations. It
// reports false when the stream is ending.
func (r *batchRun) decide(chunk []batchItem) bool {
	eng := r.s.roster.Engine() // per chunk: a reload applies from the next chunk on
	reqs := make([]adequacy.Request, 0, len(chunk))
	at := make([]int, len(chunk)) // chunk index → reqs index, -1 for faulted items
	for i := range chunk {
		at[i] = -1
		if len(chunk[i].dr.faults) == 0 {
			at[i] = len(reqs)
			reqs = append(reqs, chunk[i].dr.req)
		}
	}
	out := make([][]adequacy.Decision, len(reqs))
	errs := make([]error, len(reqs))
	r.cfg.Decider(r.ctx, eng, reqs, out, errs)
	if r.ctx.Err() != nil {
		return false
	}
	answers := make([]*pb.CheckAccessBatchResponse, len(chunk))
	par.ForContext(r.ctx, len(chunk), r.cfg.Workers, func(_, i int) {
		it := &chunk[i]
		if j := at[i]; j >= 0 {
			answers[i] = batchAnswer(it.ref, out[j], errs[j], nil)
		} else {
			_, err := eng.Decide(it.dr.req) // for the domain's view of the other fields
			answers[i] = batchAnswer(it.ref, nil, err, it.dr.faults)
		}
	})
	r.count(answers, out)
	// Each item now holds its answer's encoded size instead of its own
	// and the estimate.
	costs := make([]int64, len(answers))
	var delta int64
	for i, a := range answers {
		costs[i] = int64(proto.Size(a))
		delta += costs[i] - chunk[i].cost
	}
	r.budget.adjust(delta)
	select {
	case r.answers <- answered{answers, costs}:
		return true
	case <-r.ctx.Done():
		return false
	}
}

func (r *batchRun) count(answers []*pb.CheckAccessBatchResponse, out [][]adequacy.Decision) {
	ci := infoOf(r.stream.Context())
	for _, a := range answers {
		if a.GetError() != nil {
			r.bad++
		} else {
			r.ok++
		}
	}
	for _, ds := range out {
		ci.addDecisions(ds)
	}
}

// batchAnswer is one item's answer: its decisions, or its error status.
func batchAnswer(ref string, ds []adequacy.Decision, err error, faults []adequacy.FieldViolation) *pb.CheckAccessBatchResponse {
	if err != nil || len(faults) > 0 {
		st := errorStatus(err, faults, nil)
		return &pb.CheckAccessBatchResponse{MemberRef: ref, Outcome: &pb.CheckAccessBatchResponse_Error{Error: st.Proto()}}
	}
	return &pb.CheckAccessBatchResponse{MemberRef: ref, Outcome: &pb.CheckAccessBatchResponse_Result{Result: checkResponse(ds)}}
}
