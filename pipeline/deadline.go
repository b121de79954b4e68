package pipeline

import (
	"context"
	"sync"
	"time"
)

// deadlineTick is the precision of a request's deadline.
const deadlineTick = 10 * time.Millisecond

// deadlines hands out the contexts that bound a request's trip through the
// stages. A deadline is rounded up to the next tick, and every request that
// gets the same rounded deadline shares one context and one timer: a timer
// and a cancel registration per request was a measurable share of a
// plugin call's cost. A request gets at most one tick more than its timeout.
//
// The contexts end at their deadline or when base ends (Close), never
// sooner, so they carry no request's cancellation: the request's own
// goroutine watches its context besides (see run).
type deadlines struct {
	base  context.Context
	start time.Time // ticks count from here, on the monotonic clock

	mu     sync.Mutex
	end    time.Time
	ctx    context.Context
	cancel context.CancelFunc // the newest context's; older ones ended by their timers
}

func (d *deadlines) after(timeout time.Duration) context.Context {
	// Round on the monotonic clock: time.Truncate would drop it, and a
	// wall-clock step would then move every deadline.
	ticks := (time.Since(d.start) + timeout + deadlineTick - 1) / deadlineTick
	end := d.start.Add(ticks * deadlineTick)
	d.mu.Lock()
	defer d.mu.Unlock()
	if !end.Equal(d.end) {
		d.end = end
		d.ctx, d.cancel = context.WithDeadline(d.base, end)
	}
	return d.ctx
}

// stop releases the newest context's timer; call it after base has ended.
func (d *deadlines) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cancel != nil {
		d.cancel()
	}
}
