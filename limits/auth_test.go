package limits

import (
	"fmt"
	"testing"
	"time"
)

func newGuard(c *clock, cfg AuthConfig) *AuthGuard {
	cfg.Now = c.Now
	return NewAuthGuard(cfg)
}

// fail records n failures from addr with no account and returns whether the
// last one started a block.
func fail(t *testing.T, g *AuthGuard, addr string, n int) (blocked bool) {
	t.Helper()
	for i := range n {
		blocked = g.Failure(src(t, addr), "")
		if blocked && i != n-1 {
			t.Fatalf("failure %d of %d from %s already started a block", i+1, n, addr)
		}
	}
	return blocked
}

func TestAuthSourceBlocksOnlyThatSource(t *testing.T) {
	tests := []struct {
		name       string
		guilty     string // the 5 failures come from here
		probe      string // then this source is checked
		wantShared bool   // whether probe is blocked too
	}{
		{"same ipv4", "127.0.0.2", "127.0.0.2", true},
		{"other ipv4", "127.0.0.2", "127.0.0.3", false},
		{"ipv6 same /64", "2001:db8:0:1::1", "2001:db8:0:1:ffff:ffff:ffff:ffff", true},
		{"ipv6 other /64", "2001:db8:0:1::1", "2001:db8:0:2::1", false},
		{"ipv4-mapped then ipv4", "::ffff:127.0.0.2", "127.0.0.2", true},
		{"ipv4 then ipv4-mapped", "127.0.0.2", "::ffff:127.0.0.2", true},
		{"ipv4-mapped other", "::ffff:127.0.0.2", "127.0.0.3", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			g := newGuard(c, AuthConfig{})
			if !fail(t, g, tt.guilty, 5) {
				t.Fatal("fifth failure did not start a block")
			}
			if ok, _ := g.CheckSource(src(t, tt.guilty)); ok {
				t.Fatal("guilty source still allowed")
			}
			ok, until := g.CheckSource(src(t, tt.probe))
			if ok == tt.wantShared {
				t.Fatalf("probe %s allowed = %v, want %v", tt.probe, ok, !tt.wantShared)
			}
			if tt.wantShared && !until.Equal(c.Now().Add(10*time.Minute)) {
				t.Errorf("until = %v, want now+10m", until)
			}
		})
	}
}

func TestAuthSourceBlockDoublesAndCaps(t *testing.T) {
	c := newClock()
	g := newGuard(c, AuthConfig{})
	a, b := src(t, "127.0.0.2"), src(t, "127.0.0.3")
	wants := []time.Duration{
		10 * time.Minute, 20 * time.Minute, 40 * time.Minute, 80 * time.Minute,
		160 * time.Minute, 320 * time.Minute, 640 * time.Minute, 1280 * time.Minute,
		24 * time.Hour, 24 * time.Hour, 24 * time.Hour,
	}
	for i, want := range wants {
		t.Run(fmt.Sprintf("block %d", i+1), func(t *testing.T) {
			start := c.Now()
			if !fail(t, g, "127.0.0.2", 5) {
				t.Fatal("no block")
			}
			ok, until := g.CheckSource(a)
			if ok || !until.Equal(start.Add(want)) {
				t.Fatalf("CheckSource = %v, until +%v; want blocked for %v", ok, until.Sub(start), want)
			}
			if ok, _ := g.CheckSource(b); !ok {
				t.Fatal("other source blocked")
			}
			c.Set(until.Add(-time.Nanosecond))
			if ok, _ := g.CheckSource(a); ok {
				t.Fatal("block lifted early")
			}
			c.Set(until)
			if ok, _ := g.CheckSource(a); !ok {
				t.Fatal("block did not lift at its end")
			}
		})
	}
}

func TestAuthRepeatCountForgotten(t *testing.T) {
	tests := []struct {
		name      string
		gap       time.Duration // from the end of the first block to the next failures
		wantBlock time.Duration
	}{
		{"just after", 0, 20 * time.Minute},
		{"within a day", 24*time.Hour - time.Second, 20 * time.Minute},
		{"a day later", 24 * time.Hour, 10 * time.Minute},
		{"a week later", 7 * 24 * time.Hour, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			g := newGuard(c, AuthConfig{})
			fail(t, g, "127.0.0.2", 5)
			_, until := g.CheckSource(src(t, "127.0.0.2"))
			c.Set(until.Add(tt.gap))
			start := c.Now()
			if !fail(t, g, "127.0.0.2", 5) {
				t.Fatal("no second block")
			}
			if _, until := g.CheckSource(src(t, "127.0.0.2")); until.Sub(start) != tt.wantBlock {
				t.Errorf("second block %v, want %v", until.Sub(start), tt.wantBlock)
			}
		})
	}
}

func TestAuthSourceWindowSlides(t *testing.T) {
	tests := []struct {
		name   string
		gaps   []time.Duration // wait before each failure
		wantBl bool            // whether the last failure starts a block
	}{
		{"five at once", []time.Duration{0, 0, 0, 0, 0}, true},
		{"five within 10m", []time.Duration{0, 2 * time.Minute, 2 * time.Minute, 2 * time.Minute, 2*time.Minute - time.Second}, true},
		{"first slid out", []time.Duration{0, 2 * time.Minute, 2 * time.Minute, 2 * time.Minute, 4 * time.Minute}, false},
		{"four then a pause", []time.Duration{0, 0, 0, 0, 10 * time.Minute}, false},
		{"steady drip", []time.Duration{0, 3 * time.Minute, 3 * time.Minute, 3 * time.Minute, 3 * time.Minute, 3 * time.Minute, 3 * time.Minute, 3 * time.Minute}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			g := newGuard(c, AuthConfig{})
			var blocked bool
			for i, gap := range tt.gaps {
				c.Advance(gap)
				blocked = g.Failure(src(t, "127.0.0.2"), "")
				if blocked && i != len(tt.gaps)-1 {
					t.Fatalf("failure %d blocked early", i+1)
				}
			}
			if blocked != tt.wantBl {
				t.Fatalf("blocked = %v, want %v", blocked, tt.wantBl)
			}
			if ok, _ := g.CheckSource(src(t, "127.0.0.2")); ok == tt.wantBl {
				t.Fatalf("CheckSource ok = %v, want %v", ok, !tt.wantBl)
			}
		})
	}
}

func TestAuthCountResetsWhenBlockStarts(t *testing.T) {
	c := newClock()
	g := newGuard(c, AuthConfig{})
	fail(t, g, "127.0.0.2", 5)
	// Failures during the block are not counted (the caller refuses them).
	if fail(t, g, "127.0.0.2", 20) {
		t.Fatal("failure during a block started another")
	}
	_, until := g.CheckSource(src(t, "127.0.0.2"))
	c.Set(until)
	// The window started afresh: four failures right after do not block.
	if fail(t, g, "127.0.0.2", 4) {
		t.Fatal("blocked on four failures after a block")
	}
	if !fail(t, g, "127.0.0.2", 1) {
		t.Fatal("fifth failure after the block did not block")
	}
}

func TestAccountBackoff(t *testing.T) {
	c := newClock()
	g := newGuard(c, AuthConfig{})
	// Spread over many sources so source blocks stay out of the way.
	n := 0
	failAcct := func(name string) {
		n++
		g.Failure(nthIPv4(n), name)
	}
	for i := range 4 {
		failAcct("alice")
		if ok, _ := g.CheckAccount("alice"); !ok {
			t.Fatalf("refused after %d failures", i+1)
		}
	}
	wants := []time.Duration{
		1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 512 * time.Second,
		10 * time.Minute, 10 * time.Minute, 10 * time.Minute,
	}
	for i, want := range wants {
		t.Run(fmt.Sprintf("failure %d", i+5), func(t *testing.T) {
			start := c.Now()
			failAcct("alice")
			ok, until := g.CheckAccount("alice")
			if ok || until.Sub(start) != want {
				t.Fatalf("CheckAccount = %v, wait %v; want refused for %v", ok, until.Sub(start), want)
			}
			if ok, _ := g.CheckAccount("bob"); !ok {
				t.Fatal("other account refused")
			}
			c.Set(until.Add(-time.Nanosecond))
			if ok, _ := g.CheckAccount("alice"); ok {
				t.Fatal("backoff ended early")
			}
			c.Set(until)
			if ok, _ := g.CheckAccount("alice"); !ok {
				t.Fatal("backoff did not end (it must never be permanent)")
			}
		})
	}
}

func TestAccountSuccessAndIndependence(t *testing.T) {
	tests := []struct {
		name    string
		steps   func(g *AuthGuard)
		account string
		wantOK  bool
	}{
		{"five failures", func(g *AuthGuard) { failN(g, "alice", 5) }, "alice", false},
		{"success resets", func(g *AuthGuard) {
			failN(g, "alice", 5)
			g.Success(src(t, "127.0.0.9"), "alice")
		}, "alice", true},
		{"success then four", func(g *AuthGuard) {
			failN(g, "alice", 4)
			g.Success(src(t, "127.0.0.9"), "alice")
			failN(g, "alice", 4)
		}, "alice", true},
		{"other account", func(g *AuthGuard) { failN(g, "alice", 5) }, "bob", true},
		{"success of other", func(g *AuthGuard) {
			failN(g, "alice", 5)
			g.Success(src(t, "127.0.0.9"), "bob")
		}, "alice", false},
		{"no name is not an account", func(g *AuthGuard) { failN(g, "", 50) }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuard(newClock(), AuthConfig{})
			tt.steps(g)
			if ok, _ := g.CheckAccount(tt.account); ok != tt.wantOK {
				t.Errorf("CheckAccount(%q) = %v, want %v", tt.account, ok, tt.wantOK)
			}
		})
	}
}

// failN records n failures on account, each from a fresh source.
func failN(g *AuthGuard, account string, n int) {
	for i := range n {
		g.Failure(nthIPv4(1000+i), account)
	}
}

func TestAuthSuccessKeepsSourceWindow(t *testing.T) {
	g := newGuard(newClock(), AuthConfig{})
	a := src(t, "127.0.0.2")
	for range 4 {
		g.Failure(a, "alice")
	}
	g.Success(a, "alice")
	if !g.Failure(a, "mallory") {
		t.Fatal("a success hid the source's earlier failures")
	}
}

func TestAuthMemoryBound(t *testing.T) {
	const limit, flood = 1000, 200000
	c := newClock()
	g := newGuard(c, AuthConfig{MaxSources: limit, MaxAccounts: limit})
	// A source blocked before the flood expires last, so it is the last to
	// be forgotten.
	bad := src(t, "198.51.100.7")
	for range 5 {
		g.Failure(bad, "")
	}
	for i := range flood {
		g.Failure(nthIPv4(i+1), fmt.Sprintf("user%d", i))
		if i%1000 == 0 {
			c.Advance(time.Second) // time passes, but not enough for much to expire
		}
		if s, a := g.sizes(); s > limit || a > limit {
			t.Fatalf("after %d sources: tracking %d sources and %d accounts, cap %d", i+1, s, a, limit)
		}
	}
	if ok, _ := g.CheckSource(bad); ok {
		t.Error("a flood of fresh sources evicted a blocked one before them")
	}
	// A source that fails again is still counted correctly after eviction.
	last := nthIPv4(flood)
	for range 4 {
		g.Failure(last, "")
	}
	if ok, _ := g.CheckSource(last); ok {
		t.Error("the most recent source was forgotten before older ones")
	}
}

func TestAuthExpiredEntriesDropped(t *testing.T) {
	c := newClock()
	g := newGuard(c, AuthConfig{MaxSources: 100})
	for i := range 100 {
		g.Failure(nthIPv4(i), "")
	}
	c.Advance(10 * time.Minute)
	// Every old entry has expired: one new source sweeps them all.
	g.Failure(nthIPv4(1000), "")
	if s, _ := g.sizes(); s != 1 {
		t.Fatalf("tracking %d sources, want 1 after the sweep", s)
	}
}
