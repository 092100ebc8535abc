package sshapp

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// trimGap is the least time between two trims, so sessions arriving at
// a steady pace cost at most one collection a second.
const trimGap = time.Second

// memTrimmer hands the memory a wave of logins allocated and freed back to
// the operating system once sessions stop starting and ending: connecting
// (key exchange, the first screen) allocates far more than an idle session
// keeps, and by its default policy the Go runtime keeps that freed heap,
// and the stacks the connecting goroutines grew, until the heap doubles.
// It works only between waves, never per message.
type memTrimmer struct {
	quiet time.Duration // 0: never trim
	mu    sync.Mutex
	last  time.Time   // the last session start or end
	done  time.Time   // the last trim
	timer *time.Timer // pending, or nil
	stop  bool
	trims atomic.Int64
	free  func() // debug.FreeOSMemory; tests count calls
}

func newMemTrimmer(quiet time.Duration) *memTrimmer {
	return &memTrimmer{quiet: quiet, free: debug.FreeOSMemory}
}

// kick records a session starting or ending.
func (t *memTrimmer) kick() {
	if t.quiet <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last = time.Now()
	if t.timer == nil && !t.stop {
		t.timer = time.AfterFunc(t.quiet, t.fire)
	}
}

// fire trims if sessions have been quiet for t.quiet and the last trim is
// trimGap ago; otherwise it waits for whichever comes later.
func (t *memTrimmer) fire() {
	t.mu.Lock()
	if t.stop {
		t.mu.Unlock()
		return
	}
	now := time.Now()
	wait := max(t.quiet-now.Sub(t.last), trimGap-now.Sub(t.done))
	if wait > 0 {
		t.timer.Reset(wait)
		t.mu.Unlock()
		return
	}
	t.timer = nil
	t.done = now
	t.mu.Unlock()
	t.free()
	t.trims.Add(1)
}

// close stops any pending trim.
func (t *memTrimmer) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stop = true
	if t.timer != nil {
		t.timer.Stop()
	}
}
