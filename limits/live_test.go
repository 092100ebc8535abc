package limits

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// A reload's new limits apply from the next decision, to users and sources
// the limiter already tracks as well as new ones.
func TestSetConfig(t *testing.T) {
	c := newClock()
	src := netip.MustParsePrefix("192.0.2.1/32")

	f := NewFlood(FloodConfig{Now: c.Now})
	for range 5 {
		if v, _ := f.Allow("alice"); v != Allowed {
			t.Fatal("burst refused")
		}
	}
	if v, _ := f.Allow("alice"); v != Refused {
		t.Fatal("sixth message allowed at burst 5")
	}
	f.SetConfig(FloodConfig{Burst: 20, PerSecond: 100})
	c.Advance(time.Second) // refills alice's bucket at the new rate, to the new burst
	for i := range 20 {
		if v, _ := f.Allow("alice"); v != Allowed {
			t.Fatalf("message %d refused after raising the burst to 20", i+1)
		}
	}

	g := NewAuthGuard(AuthConfig{Now: c.Now})
	g.Failure(src, "")
	g.Failure(src, "")
	g.SetConfig(AuthConfig{SourceFailures: 3})
	if g.Failure(src, "") != true {
		t.Fatal("third failure did not block after lowering source-failures to 3")
	}

	l := NewConnLimiter(ConnConfig{MaxUnauthPerSource: 1})
	if _, ok := l.Open(src); !ok {
		t.Fatal("first connection refused")
	}
	if _, ok := l.Open(src); ok {
		t.Fatal("second connection allowed at 1 per source")
	}
	l.SetConfig(ConnConfig{MaxUnauthPerSource: 2})
	if _, ok := l.Open(src); !ok {
		t.Fatal("second connection refused after raising the limit to 2")
	}

	r := NewRegLimiter(RegConfig{Now: c.Now, PerSource: 1})
	if ok, _ := r.Allow(src); !ok {
		t.Fatal("first registration refused")
	}
	if ok, _ := r.Allow(src); ok {
		t.Fatal("second registration allowed at 1")
	}
	r.SetConfig(RegConfig{PerSource: 2})
	if ok, _ := r.Allow(src); !ok {
		t.Fatal("second registration refused after raising the limit to 2")
	}
}

// SetConfig races with decisions safely (run with -race).
func TestSetConfigConcurrent(t *testing.T) {
	f := NewFlood(FloodConfig{})
	g := NewAuthGuard(AuthConfig{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 200 {
			f.SetConfig(FloodConfig{Burst: 1 + i%7})
			g.SetConfig(AuthConfig{SourceFailures: 1 + i%5})
		}
	}()
	go func() {
		defer wg.Done()
		src := netip.MustParsePrefix("192.0.2.9/32")
		for range 200 {
			f.Allow("bob")
			g.CheckSource(src)
			g.Failure(src, "bob")
		}
	}()
	wg.Wait()
}
