package limits

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentUse hammers every type from many goroutines while the clock
// moves; run with -race. Afterwards the counting types must balance.
func TestConcurrentUse(t *testing.T) {
	c := newClock()
	guard := NewAuthGuard(AuthConfig{Now: c.Now, MaxSources: 50, MaxAccounts: 50})
	flood := NewFlood(FloodConfig{Now: c.Now, MaxUsers: 50})
	reg := NewRegLimiter(RegConfig{Now: c.Now, MaxSources: 50})
	conns := NewConnLimiter(ConnConfig{})
	gate := NewGate(3)

	const workers, rounds = 16, 500
	var inGate, maxInGate atomic.Int32
	var wg, closers sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				s := nthIPv4((w*rounds + i) % 97)
				name := fmt.Sprintf("user%d", (w+i)%70)
				if ok, _ := guard.CheckSource(s); ok {
					if ok, _ := guard.CheckAccount(name); ok {
						if i%7 == 0 {
							guard.Success(s, name)
						} else {
							guard.Failure(s, name)
						}
					}
				}
				flood.Allow(name)
				reg.Allow(s)
				if cn, ok := conns.Open(s); ok {
					if i%2 == 0 {
						cn.Authenticated()
					}
					if i%3 == 0 {
						closers.Go(cn.Close) // a racing second Close must be harmless
					}
					cn.Close()
				}
				if gate.Acquire(context.Background(), time.Second) {
					n := inGate.Add(1)
					for {
						m := maxInGate.Load()
						if n <= m || maxInGate.CompareAndSwap(m, n) {
							break
						}
					}
					inGate.Add(-1)
					gate.Release()
				}
				if w == 0 {
					c.Advance(time.Second)
				}
			}
		})
	}
	wg.Wait()
	if m := maxInGate.Load(); m > 3 {
		t.Errorf("%d inside a gate of 3", m)
	}
	if gate.InUse() != 0 {
		t.Errorf("gate InUse = %d after all released", gate.InUse())
	}
	closers.Wait()
	if conns.Counts() != 0 || conns.authedTotal() != 0 {
		t.Errorf("connection counts did not return to zero: %d unauth, %d authed", conns.Counts(), conns.authedTotal())
	}
	if s, a := guard.sizes(); s > 50 || a > 50 {
		t.Errorf("guard tracking %d sources, %d accounts; cap 50", s, a)
	}
	if n := flood.size(); n > 50 {
		t.Errorf("flood tracking %d users; cap 50", n)
	}
}

// authedTotal is how many authenticated connections l counts.
func (l *ConnLimiter) authedTotal() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, v := range l.authed {
		n += v
	}
	return n
}
