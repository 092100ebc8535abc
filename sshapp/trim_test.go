package sshapp

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitTrims polls until the trimmer has trimmed want times.
func waitTrims(t *testing.T, tr *memTrimmer, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for tr.trims.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("trims = %d, want %d", tr.trims.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A session starting and ending, then quiet, returns the freed memory;
// sessions arriving meanwhile postpone it, and a closed server's pending
// trim never runs.
func TestIdleTrimAfterSessionsGoQuiet(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.IdleTrim = 50 * time.Millisecond })
	var freed atomic.Int64
	ts.srv.trim.free = func() { freed.Add(1) }
	ts.srv.trim.mu.Lock()
	ts.srv.trim.gap = 100 * time.Millisecond // not 10 s between the two waves
	ts.srv.trim.mu.Unlock()
	u := openWelcomed(t, ts.login("alice", "correct horse battery"), 80, 24)
	waitTrims(t, ts.srv.trim, 1)
	u.send("\x03") // ctrl-c ends the session: a second wave, a second trim
	u.waitEnded()
	waitTrims(t, ts.srv.trim, 2)
	if got := freed.Load(); got != 2 {
		t.Errorf("freed %d times, want 2", got)
	}
}

// Kicks closer together than quiet hold the trim off until they stop.
func TestIdleTrimWaitsForQuiet(t *testing.T) {
	tr := newMemTrimmer(100 * time.Millisecond)
	var freed atomic.Int64
	tr.free = func() { freed.Add(1) }
	defer tr.close()
	stopAt := time.Now().Add(400 * time.Millisecond)
	for time.Now().Before(stopAt) {
		tr.kick()
		if freed.Load() != 0 {
			t.Fatal("trimmed while sessions were still arriving")
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitTrims(t, tr, 1)
}

// With IdleTrim 0 nothing is ever trimmed.
func TestIdleTrimOff(t *testing.T) {
	tr := newMemTrimmer(0)
	tr.free = func() { t.Error("trimmed with IdleTrim 0") }
	tr.kick()
	if tr.timer != nil {
		t.Error("a trim was scheduled with IdleTrim 0")
	}
}

// deep uses about n KiB of stack.
//
//go:noinline
func deep(n int) byte {
	var pad [1024]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[n%len(pad)]
}

// A trim brings back down the stacks that goroutines grew while busy and
// kept while parked, which one collection only halves: the goroutines
// that did an idle session's key exchange.
func TestIdleTrimShrinksGrownStacks(t *testing.T) {
	const n = 200
	park := make(chan struct{})
	var ready sync.WaitGroup
	var exited sync.WaitGroup
	for range n {
		ready.Add(1)
		exited.Add(1)
		go func() {
			defer exited.Done()
			deep(100) // a stack of 128 KiB
			ready.Done()
			<-park
		}()
	}
	ready.Wait()
	defer func() { close(park); exited.Wait() }()
	runtime.GC() // the 128 KiB stacks halve once
	before := stackBytes()
	freeMemory()
	after := stackBytes()
	// One more collection would halve them again (32 KiB saved each);
	// the trim keeps going while stacks shrink.
	if saved := int64(before) - int64(after); saved < n*48<<10 {
		t.Errorf("stacks %d -> %d bytes: saved %d KiB per parked goroutine, want at least 48", before, after, saved/n>>10)
	}
}
