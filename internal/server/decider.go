package server

import (
	"context"
	"runtime"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/internal/par"
)

// ChunkDecider decides one chunk of batch requests: for each i it sets
// out[i] to the decisions or errs[i] to why not, exactly as
// eng.Decide(reqs[i]) would. It may work in parallel and in any order.
// When ctx ends it should return early; the chunk is then discarded. The
// pipeline calls it from one goroutine per stream, one chunk at a time,
// with every request already converted (protocol faults are answered
// without it).
type ChunkDecider func(ctx context.Context, eng *adequacy.Engine, reqs []adequacy.Request, out [][]adequacy.Decision, errs []error)

// BatchConfig tunes CheckAccessBatch. Memory per stream is bounded by
// about four chunks of items and answers, whatever the caller sends: the
// pipeline stops reading while it cannot answer (gRPC flow control then
// holds the caller back).
type BatchConfig struct {
	ChunkSize int           // items decided together; 0 = 256
	ChunkWait time.Duration // how long a partial chunk waits for more items; 0 = 2ms
	Workers   int           // parallel workers per chunk; 0 = GOMAXPROCS
	Decider   ChunkDecider  // nil = ParallelDecider(Workers)
}

func (c BatchConfig) withDefaults() BatchConfig {
	if c.ChunkSize <= 0 {
		c.ChunkSize = 256
	}
	if c.ChunkWait <= 0 {
		c.ChunkWait = 2 * time.Millisecond
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Decider == nil {
		c.Decider = ParallelDecider(c.Workers)
	}
	return c
}

// ParallelDecider decides each request on its own with eng.Decide, on up
// to workers goroutines.
func ParallelDecider(workers int) ChunkDecider {
	return func(ctx context.Context, eng *adequacy.Engine, reqs []adequacy.Request, out [][]adequacy.Decision, errs []error) {
		par.ForContext(ctx, len(reqs), workers, func(_, i int) { out[i], errs[i] = eng.Decide(reqs[i]) })
	}
}

// SpatialDecider decides a chunk with eng.DecideBatch: the same answers as
// Decide, with members of a chunk that live near each other sharing one
// index search. It pays off with large chunks of clustered members (a
// plan's file sorted by place); scattered members are searched one by one
// on every processor, as ParallelDecider does.
func SpatialDecider() ChunkDecider {
	return func(ctx context.Context, eng *adequacy.Engine, reqs []adequacy.Request, out [][]adequacy.Decision, errs []error) {
		if ctx.Err() != nil {
			return
		}
		o, e := eng.DecideBatch(reqs)
		copy(out, o)
		copy(errs, e)
	}
}
