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
// BufferBytes of items and answers (and by about four chunks of them),
// whatever the caller sends: the pipeline stops reading while it holds
// that much (gRPC flow control then holds the caller back).
type BatchConfig struct {
	ChunkSize int           // items decided together; 0 = 256
	ChunkWait time.Duration // how long a partial chunk waits for more items; 0 = 2ms
	Workers   int           // parallel workers per chunk; 0 = GOMAXPROCS
	Decider   ChunkDecider  // nil = ParallelDecider(Workers)
	// BufferBytes bounds the encoded bytes of items and answers one
	// stream holds (received and not yet answered, answered and not yet
	// sent); 0 = DefaultBatchBufferBytes. An item larger than this is
	// taken alone.
	BufferBytes int64
}

// DefaultBatchBufferBytes is the default BatchConfig.BufferBytes: about
// three chunks of 1,024 ordinary answers (one discipline, five nearest:
// 800 bytes each), enough for the pipeline to decide one chunk while it
// sends another at full speed (docs/benchmarks.md).
const DefaultBatchBufferBytes = 2 << 20

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
	if c.BufferBytes <= 0 {
		c.BufferBytes = DefaultBatchBufferBytes
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
