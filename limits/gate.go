package limits

import (
	"context"
	"runtime"
	"time"
)

// Gate is a semaphore bounding how many costly operations (bcrypt runs) go
// on at once, so a burst of password attempts queues briefly or is refused
// instead of starving every other connection of CPU.
//
// Its wait is a real wait, not a window, so it uses the real clock.
type Gate struct {
	slots chan struct{}
}

// NewGate returns a gate with n slots; n <= 0 means runtime.NumCPU().
func NewGate(n int) *Gate {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	return &Gate{slots: make(chan struct{}, n)}
}

// Acquire takes a slot, waiting up to wait for one to come free (not at all
// if wait <= 0) and giving up early when ctx is done. It reports whether it
// got a slot; if so the caller must Release it.
func (g *Gate) Acquire(ctx context.Context, wait time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case g.slots <- struct{}{}:
		return true
	default:
	}
	if wait <= 0 {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// Release gives back a slot taken by Acquire. Releasing a slot that was
// never taken is a bug in the caller and panics, as sync.Mutex does, rather
// than silently widening the gate.
func (g *Gate) Release() {
	select {
	case <-g.slots:
	default:
		panic("limits: Gate.Release without a matching Acquire")
	}
}

// InUse reports how many slots are taken (for metrics and tests).
func (g *Gate) InUse() int { return len(g.slots) }

// Cap reports how many slots the gate has.
func (g *Gate) Cap() int { return cap(g.slots) }
