package pg

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geoaccess/geoaccess/adequacy"
)

// ListenOptions control Listen.
type ListenOptions struct {
	// OnError, if set, hears every failure of the listening connection
	// (and every unreadable payload) before Listen retries: for logs and
	// metrics. Listen itself never gives up while ctx lives.
	OnError func(error)
	// OnConnect, if set, is called each time the listener is (re)connected
	// and listening.
	OnConnect func()
	// Backoff between reconnection attempts: MinBackoff doubling up to
	// MaxBackoff; defaults 250ms and 30s.
	MinBackoff, MaxBackoff time.Duration
}

// Listen calls fn with the version id of each publish (load or rollback)
// notified on Channel, until ctx ends; it returns ctx's error.
//
// It keeps a connection of its own, taken out of the pool, and survives
// losing it: it reconnects with backoff, and because notifications sent
// while it was away are lost, after every (re)connection it calls fn with
// the current version's id, if there is one. So fn may hear an id more
// than once, or one it already serves; a server compares the id with the
// version it serves and reloads only on a difference. fn runs on Listen's
// goroutine: a slow fn delays the next notification, never loses it.
func Listen(ctx context.Context, pool *pgxpool.Pool, fn func(versionID int64), opts ListenOptions) error {
	return listen(ctx, pool, rosterChannel, fn, opts)
}

// ListenPlans is Listen for plans versions: it calls fn with the version
// id of each plans publish (load or rollback) notified on PlansChannel,
// and after every (re)connection with the current plans version's id,
// until ctx ends.
func ListenPlans(ctx context.Context, pool *pgxpool.Pool, fn func(versionID int64), opts ListenOptions) error {
	return listen(ctx, pool, plansChannel, fn, opts)
}

// channel is a notification channel and the query of its current version.
type channel struct {
	name, current string
}

var (
	rosterChannel = channel{Channel, `SELECT version_id FROM roster_current`}
	plansChannel  = channel{PlansChannel, `SELECT version_id FROM plan_current`}
)

func listen(ctx context.Context, pool *pgxpool.Pool, ch channel, fn func(int64), opts ListenOptions) error {
	minB, maxB := opts.MinBackoff, opts.MaxBackoff
	if minB <= 0 {
		minB = 250 * time.Millisecond
	}
	if maxB < minB {
		maxB = max(30*time.Second, minB)
	}
	backoff := minB
	for {
		connected, err := listenOnce(ctx, pool, ch, fn, opts)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if opts.OnError != nil {
			opts.OnError(fmt.Errorf("listen %s: %w", ch.name, err))
		}
		if connected {
			backoff = minB // it worked for a while: start over
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, maxB)
	}
}

// listenOnce listens on one connection until it fails; connected says
// whether it got as far as listening.
func listenOnce(ctx context.Context, pool *pgxpool.Pool, ch channel, fn func(int64), opts ListenOptions) (connected bool, err error) {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	// Hijacked: the pool forgets it, and never hands a listening session
	// to anyone else.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+ch.name); err != nil {
		return false, err
	}
	if opts.OnConnect != nil {
		opts.OnConnect()
	}
	// Catch up on what was published while nobody listened.
	var id int64
	switch err := conn.QueryRow(ctx, ch.current).Scan(&id); {
	case err == nil:
		fn(id)
	case errors.Is(err, pgx.ErrNoRows):
	default:
		return true, err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		id, perr := strconv.ParseInt(n.Payload, 10, 64)
		if perr != nil {
			if opts.OnError != nil {
				opts.OnError(fmt.Errorf("listen %s: payload %q is not a version id", ch.name, adequacy.Excerpt(n.Payload)))
			}
			continue
		}
		fn(id)
	}
}
