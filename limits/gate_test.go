package limits

import (
	"context"
	"runtime"
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want int
	}{
		{"explicit", 3, 3},
		{"one", 1, 1},
		{"default", 0, runtime.NumCPU()},
		{"negative", -1, runtime.NumCPU()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewGate(tt.n)
			if g.Cap() != tt.want {
				t.Fatalf("Cap = %d, want %d", g.Cap(), tt.want)
			}
			ctx := context.Background()
			// N acquire at once, concurrently.
			got := make(chan bool, tt.want)
			for range tt.want {
				go func() { got <- g.Acquire(ctx, time.Second) }()
			}
			for range tt.want {
				if !<-got {
					t.Fatal("one of the first N Acquires failed")
				}
			}
			if g.InUse() != tt.want {
				t.Fatalf("InUse = %d, want %d", g.InUse(), tt.want)
			}
			// The N+1th waits, then times out.
			start := time.Now()
			if g.Acquire(ctx, 30*time.Millisecond) {
				t.Fatal("N+1th Acquire succeeded")
			}
			if waited := time.Since(start); waited < 30*time.Millisecond {
				t.Fatalf("N+1th Acquire gave up after %v, before its wait", waited)
			}
			if g.Acquire(ctx, 0) {
				t.Fatal("Acquire with no wait succeeded on a full gate")
			}
			// A release lets exactly one waiter in.
			waiter := make(chan bool)
			go func() { waiter <- g.Acquire(ctx, time.Minute) }()
			g.Release()
			select {
			case ok := <-waiter:
				if !ok {
					t.Fatal("waiter did not get the released slot")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("waiter still waiting 5s after a release")
			}
			if g.Acquire(ctx, 0) {
				t.Fatal("a second Acquire got in on one release")
			}
			for range tt.want {
				g.Release()
			}
			if g.InUse() != 0 {
				t.Fatalf("InUse = %d after releasing all", g.InUse())
			}
		})
	}
}

func TestGateContext(t *testing.T) {
	g := NewGate(1)
	if !g.Acquire(context.Background(), 0) {
		t.Fatal("first Acquire failed")
	}
	defer g.Release()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- g.Acquire(ctx, time.Hour) }()
	cancel()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("Acquire succeeded on a full gate after cancel")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Acquire ignored the cancelled context")
	}

	// A done context is refused even when a slot is free.
	g2 := NewGate(1)
	if g2.Acquire(ctx, time.Hour) {
		t.Fatal("Acquire with a cancelled context succeeded")
	}
}

func TestGateReleaseWithoutAcquirePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Release on an empty gate did not panic")
		}
	}()
	NewGate(2).Release()
}
