package sshapp

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
	"securechat/limits"
)

// fakeClock is the injected clock of every limit: tests move it instead of
// sleeping through windows of minutes.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// newFakeClock starts at the real time, so stores that check "in the
// future" against their own clock agree with it.
func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().UTC()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// realLimits are the production defaults on an injected clock.
func realLimits(clk *fakeClock) Limits {
	return Limits{
		Auth:  limits.AuthConfig{Now: clk.Now},
		Reg:   limits.RegConfig{Now: clk.Now},
		Flood: limits.FloodConfig{Now: clk.Now},
		// Tests dial faster than any person: the rate has its own test.
		ConnRate: limits.ConnRateConfig{Burst: 1 << 20, PerSecond: 1 << 20},
	}
}

// countingAccounts is the real store, counting password checks: the number
// of bcrypt runs an attacker can make the server do.
type countingAccounts struct {
	*accounts.Store
	verifies atomic.Int64
}

func (c *countingAccounts) Verify(name, pw string) (accounts.User, error) {
	c.verifies.Add(1)
	return c.Store.Verify(name, pw)
}

func ip(last byte) net.IP { return net.IPv4(127, 0, 0, last) }

func TestDictionaryAttackBlocksTheSourceOnly(t *testing.T) {
	clk := newFakeClock()
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits = realLimits(clk); c.Limits.MinPasswordScore = -1 })
	ts.login("alice", "correct horse battery").Close()

	for i, guess := range []string{"123456", "password", "qwerty", "letmein", "dragon"} {
		if c, err := dial(ts.addr, "alice", ip(2), gossh.Password(guess)); err == nil {
			c.Close()
			t.Fatalf("guess %d logged in", i)
		}
	}
	// Blocked: even the right password is refused from 127.0.0.2...
	if c, err := dial(ts.addr, "alice", ip(2), gossh.Password("correct horse battery")); err == nil {
		c.Close()
		t.Fatal("blocked source logged in")
	}
	// ...while the real user on another address gets in once the account's
	// one-second backoff (five failures in a row) has passed.
	clk.Advance(1100 * time.Millisecond)
	c, err := dial(ts.addr, "alice", ip(3), gossh.Password("correct horse battery"))
	if err != nil {
		t.Fatalf("other source refused: %v", err)
	}
	c.Close()
	if !strings.Contains(ts.logs.String(), "source blocked after failed passwords") {
		t.Fatal("block not logged")
	}
	// The block lifts after 10 minutes.
	clk.Advance(10*time.Minute + time.Second)
	c, err = dial(ts.addr, "alice", ip(2), gossh.Password("correct horse battery"))
	if err != nil {
		t.Fatalf("block did not lift: %v", err)
	}
	c.Close()
}

func TestDistributedAttackBacksOffTheAccount(t *testing.T) {
	clk := newFakeClock()
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits = realLimits(clk); c.Limits.MinPasswordScore = -1 })
	ts.login("alice", "correct horse battery").Close()
	k := newEd25519(t, "")
	if r := run(t, ts.login("alice", "correct horse battery"), "keys add", k.line); r.code != 0 {
		t.Fatal(r)
	}
	// One guess from each of five addresses: no source is blocked.
	for i := range 5 {
		if c, err := dial(ts.addr, "alice", ip(byte(10+i)), gossh.Password("wrong guess")); err == nil {
			c.Close()
			t.Fatal("wrong password accepted")
		}
	}
	if c, err := dial(ts.addr, "alice", ip(20), gossh.Password("correct horse battery")); err == nil {
		c.Close()
		t.Fatal("password accepted during the account's backoff")
	}
	// Key logins are never affected: an attacker cannot lock the user out.
	c, err := dial(ts.addr, "alice", ip(21), gossh.PublicKeys(k.signer))
	if err != nil {
		t.Fatalf("key login refused during backoff: %v", err)
	}
	c.Close()
	clk.Advance(1100 * time.Millisecond)
	c, err = dial(ts.addr, "alice", ip(22), gossh.Password("correct horse battery"))
	if err != nil {
		t.Fatalf("backoff did not end: %v", err)
	}
	c.Close()
}

func TestThreeFailuresEndTheConnection(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits = realLimits(newFakeClock()); c.Limits.MinPasswordScore = -1 })
	ts.login("alice", "correct horse battery").Close()
	var asked atomic.Int64
	_, err := dial(ts.addr, "alice", ip(2), gossh.RetryableAuthMethod(gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
		if len(qs) > 0 {
			asked.Add(1)
		}
		return samePassword("wrong")(0, qs), nil
	}), 10))
	if err == nil {
		t.Fatal("logged in with a wrong password")
	}
	if n := asked.Load(); n > 3 {
		t.Fatalf("the connection allowed %d password attempts", n)
	}
}

func TestGuessFloodCostsFewBcryptRuns(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	var counter *countingAccounts
	ts := startServerWith(t, dir, func(c *Config, d *Deps) {
		c.Limits = realLimits(clk)
		c.Limits.MinPasswordScore = -1
		counter = &countingAccounts{Store: d.Accounts.(*accounts.Store)}
		d.Accounts = counter
	})
	ts.login("alice", "correct horse battery").Close()
	counter.verifies.Store(0)
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("nobody%d", i) // unknown names, registration would need two prompts
			if c, err := dial(ts.addr, user, ip(2), gossh.Password("guess")); err == nil {
				c.Close()
			}
		}()
	}
	// A real user on another address logs in during the flood.
	c, err := dial(ts.addr, "alice", ip(3), gossh.Password("correct horse battery"))
	if err != nil {
		t.Fatalf("real user refused during the flood: %v", err)
	}
	c.Close()
	wg.Wait()
	// alice's own login is one run; the flood may cost about ten.
	if n := counter.verifies.Load(); n > 12 {
		t.Fatalf("a guess flood from one source cost %d bcrypt runs", n)
	}
}

func TestUnknownUserCostsABcryptRun(t *testing.T) {
	var counter *countingAccounts
	ts := startServerWith(t, t.TempDir(), func(c *Config, d *Deps) {
		c.AllowRegister = false
		counter = &countingAccounts{Store: d.Accounts.(*accounts.Store)}
		d.Accounts = counter
	})
	if c, err := dial(ts.addr, "ghost", nil, gossh.Password("anything at all")); err == nil {
		c.Close()
		t.Fatal("logged in")
	}
	if counter.verifies.Load() == 0 {
		t.Fatal("an unknown user was refused without a password check: timing tells names apart")
	}
}

func TestRegistrationLimits(t *testing.T) {
	clk := newFakeClock()
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits = realLimits(clk); c.Limits.MinPasswordScore = -1 })
	for i := range 3 {
		c, err := dial(ts.addr, fmt.Sprintf("new%d", i), ip(2), kiAnswer(nil, samePassword("a long enough pass")))
		if err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
		c.Close()
	}
	tr := &kiTranscript{}
	if c, err := dial(ts.addr, "new3", ip(2), kiAnswer(tr, samePassword("a long enough pass"))); err == nil {
		c.Close()
		t.Fatal("a fourth account from one address within the hour")
	}
	if said := strings.Join(tr.instructions, "|"); !strings.Contains(said, "too many new accounts") {
		t.Fatalf("refusal not explained: %q", said)
	}
	c, err := dial(ts.addr, "other", ip(3), kiAnswer(nil, samePassword("a long enough pass")))
	if err != nil {
		t.Fatalf("another address refused: %v", err)
	}
	c.Close()
	clk.Advance(time.Hour + time.Minute)
	c, err = dial(ts.addr, "new3", ip(2), kiAnswer(nil, samePassword("a long enough pass")))
	if err != nil {
		t.Fatalf("limit did not lift after an hour: %v", err)
	}
	c.Close()
}

func TestWeakPasswordsRefused(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits = realLimits(newFakeClock()) })
	for _, tc := range []struct{ user, pw, want string }{
		{"carol", "password123", "too easy to guess"},
		{"carol", "qwertyuiop", "too easy to guess"},
		{"carol", "carol2024!", "username"},
		{"carol", "iloveyou1", "too easy to guess"},
	} {
		tr := &kiTranscript{}
		if c, err := dial(ts.addr, tc.user, ip(5), kiAnswer(tr, samePassword(tc.pw))); err == nil {
			c.Close()
			t.Fatalf("%q accepted", tc.pw)
		}
		if said := strings.Join(tr.instructions, "|"); !strings.Contains(said, tc.want) {
			t.Fatalf("%q: server said %q, want %q", tc.pw, said, tc.want)
		}
	}
	c, err := dial(ts.addr, "carol", ip(6), kiAnswer(nil, samePassword("violet stapler orbit canyon")))
	if err != nil {
		t.Fatalf("strong password refused: %v", err)
	}
	c.Close()
}

func TestPreAuthConnectionLimits(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits = realLimits(newFakeClock()); c.Limits.MinPasswordScore = -1 })
	ts.login("alice", "correct horse battery").Close()
	// 200 half-open connections from one address: only 10 are kept.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip(2)}}
	for range 200 {
		c, err := d.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ts.srv.guards.conns.Counts() != 10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d unauthenticated connections held, want 10", ts.srv.guards.conns.Counts())
		}
		time.Sleep(10 * time.Millisecond)
	}
	c, err := dial(ts.addr, "alice", ip(3), gossh.Password("correct horse battery"))
	if err != nil {
		t.Fatalf("real login refused during a pre-auth flood: %v", err)
	}
	c.Close()
}

func TestSessionsPerSource(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) {
		c.Limits = realLimits(newFakeClock())
		c.Limits.MinPasswordScore = -1
		c.Limits.Conns.MaxSessionsPerSource = 3
	})
	ts.login("alice", "correct horse battery").Close()
	var clients []*gossh.Client
	for range 3 {
		c, err := dial(ts.addr, "alice", ip(2), gossh.Password("correct horse battery"))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		if r := run(t, c, "who", ""); r.code != 0 {
			t.Fatal(r)
		}
	}
	c, err := dial(ts.addr, "alice", ip(2), gossh.Password("correct horse battery"))
	if err != nil {
		t.Fatal(err)
	}
	if r := run(t, c, "who", ""); r.code == 0 || !strings.Contains(r.stderr, "too many sessions") {
		t.Fatalf("fourth connection from one address: %+v", r)
	}
	for _, c := range clients {
		c.Close()
	}
}

func TestMessageFlood(t *testing.T) {
	clk := newFakeClock()
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits = realLimits(clk); c.Limits.MinPasswordScore = -1 })
	alice := ts.login("alice", "correct horse battery")
	for i := range 5 {
		if r := run(t, alice, fmt.Sprintf("send burst %d", i), ""); r.code != 0 {
			t.Fatalf("message %d of the burst refused: %+v", i, r)
		}
	}
	r := run(t, alice, "send one too many", "")
	if r.code == 0 || !strings.Contains(r.stderr, "too fast") {
		t.Fatalf("over the rate: %+v", r)
	}
	clk.Advance(500 * time.Millisecond)
	if r := run(t, alice, "send refilled", ""); r.code != 0 {
		t.Fatalf("after half a second: %+v", r)
	}
	// Keep flooding: muted, with a notice.
	var last cmdResult
	for range 12 {
		last = run(t, alice, "send flood", "")
	}
	if !strings.Contains(last.stderr, "muted") {
		t.Fatalf("flooder not muted: %+v", last)
	}
	clk.Advance(61 * time.Second)
	if r := run(t, alice, "send back again", ""); r.code != 0 {
		t.Fatalf("mute did not end: %+v", r)
	}
	h := run(t, alice, "history", "")
	if strings.Contains(h.stdout, "one too many") || strings.Contains(h.stdout, "flood") {
		t.Fatalf("refused messages were stored:\n%s", h.stdout)
	}
}

func TestHostileTextNeverReachesATerminal(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	bob := openWelcomed(t, ts.login("bob", "secret-obo"), 100, 30)
	alice := ts.login("alice", "secret-nyvpr")
	evil := "title\x1b]0;pwned\x07 clear\x1b[2J bell\x07 c1\u009b31m bidi\u202eesrever del\x7f end"
	if r := run(t, alice, "send", evil); r.code != 0 {
		t.Fatal(r)
	}
	bob.waitFor("alice: title")
	raw := bob.rawString()
	for _, bad := range []string{"\x1b]0;pwned", "pwned\x07", "\x1b[2J bell", "\u009b", "\u202e", "\x7f"} {
		if strings.Contains(raw, bad) {
			t.Fatalf("bob's terminal received %q", bad)
		}
	}
	h := run(t, alice, "history --json", "")
	if strings.ContainsAny(h.stdout, "\x1b\x07\u202e") {
		t.Fatalf("history carries control characters: %q", h.stdout)
	}
}

func TestUsernameCannotForgeALogLine(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	for _, name := range []string{"x\nINFO login user=admin", "y\r\x1b[2KINFO forged", "z\u2028INFO forged"} {
		if c, err := dial(ts.addr, name, nil, gossh.Password("whatever it is")); err == nil {
			c.Close()
			t.Fatalf("%q logged in", name)
		}
	}
	for _, l := range strings.Split(ts.logs.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "INFO login user=admin") || strings.Contains(l, "\x1b") || strings.HasPrefix(strings.TrimSpace(l), "INFO forged") {
			t.Fatalf("forged log line: %q", l)
		}
	}
}

// Item 8 of issue 14: new connections from one address are rate limited
// before the key exchange (a burst, then a rate); others are not affected,
// and a flood is logged once.
func TestNewConnectionRatePerSource(t *testing.T) {
	clk := newFakeClock()
	ts := startServer(t, t.TempDir(), func(c *Config) {
		c.Limits.ConnRate = limits.ConnRateConfig{Burst: 5, PerSecond: 1, Now: clk.Now}
	})
	ts.login("alice", "correct horse battery").Close()
	pw := gossh.Password("correct horse battery")
	for i := range 5 {
		c, err := dial(ts.addr, "alice", ip(2), pw)
		if err != nil {
			t.Fatalf("connection %d of the burst: %v", i+1, err)
		}
		c.Close()
	}
	for range 20 {
		if c, err := dial(ts.addr, "alice", ip(2), pw); err == nil {
			c.Close()
			t.Fatal("a connection over the rate got through")
		}
	}
	if c, err := dial(ts.addr, "alice", ip(3), pw); err != nil {
		t.Fatalf("another address refused: %v", err)
	} else {
		c.Close()
	}
	clk.Advance(time.Second)
	c, err := dial(ts.addr, "alice", ip(2), pw)
	if err != nil {
		t.Fatalf("the rate did not refill: %v", err)
	}
	c.Close()
	if n := strings.Count(ts.logs.String(), "too many new connections from one address"); n != 1 {
		t.Fatalf("the flood was logged %d times, want once", n)
	}
}
