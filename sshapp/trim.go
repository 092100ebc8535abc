package sshapp

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// trimGap is the least time between two trims. A trim is up to four
// collections; sessions that come and go with pauses between them would
// otherwise pay for one every second, a few percent of a core on a large
// heap. After a quiet spell the first trim still comes --idle-trim after the
// last login.
const trimGap = 10 * time.Second

// memTrimmer hands the memory a wave of logins allocated and freed back to
// the operating system once sessions stop starting and ending: connecting
// (key exchange, the first screen) allocates far more than an idle session
// keeps, and by its default policy the Go runtime keeps that freed heap,
// and the stacks the connecting goroutines grew, until the heap doubles.
// It works only between waves, never per message.
type memTrimmer struct {
	quiet time.Duration // 0: never trim
	gap   time.Duration // trimGap; tests shorten it
	mu    sync.Mutex
	last  time.Time   // the last session start or end
	done  time.Time   // the last trim
	timer *time.Timer // pending, or nil
	stop  bool
	trims atomic.Int64
	free  func() // debug.FreeOSMemory; tests count calls
}

func newMemTrimmer(quiet time.Duration) *memTrimmer {
	return &memTrimmer{quiet: quiet, gap: trimGap, free: freeMemory}
}

// trimRounds bounds the collections one trim runs to shrink stacks.
const trimRounds = 4

// freeMemory collects until goroutine stacks stop shrinking, then returns
// the free heap to the operating system. A collection halves the stack of
// each goroutine that uses under a quarter of it, so a stack the key
// exchange grew to 32 KiB takes a few collections to come back down; one
// idle session has 11 goroutines parked on small stacks.
func freeMemory() {
	prev := stackBytes()
	for range trimRounds - 1 {
		runtime.GC()
		now := stackBytes()
		if now >= prev-prev/20 {
			break
		}
		prev = now
	}
	debug.FreeOSMemory() // a last collection, then the release
}

// stackBytes is the heap memory goroutine stacks occupy now.
func stackBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
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
// t.gap ago; otherwise it waits for whichever comes later.
func (t *memTrimmer) fire() {
	t.mu.Lock()
	if t.stop {
		t.mu.Unlock()
		return
	}
	now := time.Now()
	wait := max(t.quiet-now.Sub(t.last), t.gap-now.Sub(t.done))
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
