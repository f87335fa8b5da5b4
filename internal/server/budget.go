package server

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// byteBudget bounds the bytes a CheckAccessBatch stream holds: items take
// their share when received and give it back once answered and sent. A
// receiver that cannot take its share waits, so the stream stops reading
// and HTTP/2 flow control holds the caller back: memory follows bytes,
// not item counts. An item larger than the whole budget is taken alone,
// so every item is answered.
type byteBudget struct {
	limit int64
	gauge prometheus.Gauge // the server's buffered bytes, every stream together

	mu    sync.Mutex
	used  int64
	freed chan struct{} // closed (and replaced) whenever bytes are given back
}

func newByteBudget(limit int64, gauge prometheus.Gauge) *byteBudget {
	return &byteBudget{limit: limit, gauge: gauge, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting while the stream holds too many; it
// fails only when ctx ends.
func (b *byteBudget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			b.gauge.Add(float64(n))
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// adjust changes the bytes held by n without waiting: positive when an
// answer turns out larger than its estimate, negative to give bytes back.
func (b *byteBudget) adjust(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used += n
	if n < 0 {
		close(b.freed)
		b.freed = make(chan struct{})
	}
	b.mu.Unlock()
	b.gauge.Add(float64(n))
}

// close gives back whatever the stream still holds (it ended early).
func (b *byteBudget) close() {
	b.mu.Lock()
	n := b.used
	b.mu.Unlock()
	b.adjust(-n)
}

// answerEstimate is about the encoded size of an item's answer: a
// response header and, per discipline, a decision with k nearest
// providers (measured on the sample roster: 780 bytes for one discipline
// with 5 nearest, 17 KB for four with 50). The real size replaces it once
// the answer is made.
func answerEstimate(disciplines int, k int32) int64 {
	if k <= 0 {
		k = 5
	}
	return 128 + int64(min(disciplines, MaxDisciplines))*(400+80*int64(min(k, 50)))
}
