package sshapp

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
)

// banners records the SSH banners a client was shown.
type banners struct {
	mu  sync.Mutex
	got []string
}

func (b *banners) callback(msg string) error {
	b.mu.Lock()
	b.got = append(b.got, msg)
	b.mu.Unlock()
	return nil
}

func (b *banners) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.got, "|")
}

// dialShown connects and returns the login error and the banners shown.
func dialShown(t *testing.T, addr, user string, local net.IP, methods ...gossh.AuthMethod) (error, string) {
	t.Helper()
	b := &banners{}
	c, err := dialWith(addr, local, func(cfg *gossh.ClientConfig) {
		cfg.User = user
		cfg.Auth = methods
		cfg.BannerCallback = b.callback
	})
	if err == nil {
		c.Close()
	}
	return err, b.String()
}

// Issue 16 item 2: a person registering (two prompts, maybe refusals and
// another try) used to be cut off by the 30 s login timeout meant for
// connections that do nothing. A registration in progress gets the register
// timeout instead.
func TestRegistrationGetsAPersonsTime(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) {
		c.AuthTimeout = time.Second
		c.RegisterTimeout = time.Minute
	})
	start := time.Now()
	c, err := dial(ts.addr, "carol", ip(2), kiAnswer(nil, func(_ int, qs []string) []string {
		// A person reads the rules and types: past the idle timeout.
		<-time.After(time.Until(start.Add(1500 * time.Millisecond)))
		return samePassword("violet stapler orbit canyon")(0, qs)
	}))
	if err != nil {
		t.Fatalf("registration cut off: %v", err)
	}
	c.Close()
	// A connection that does nothing still goes after the idle timeout.
	raw, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for {
		if _, err := raw.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("an idle connection was kept past the login timeout")
			}
			break
		}
	}
}

// (When the time does run out the client is told: x/crypto's client cannot
// read a banner while its prompt callback runs, so the real OpenSSH client
// shows it in cmd/securechat's TestRegistrationTimeWithOpenSSH.)

// Issue 16 item 10: a banned user who knows the password (or holds the key)
// is told they are banned, until when and why; nobody else learns anything.
func TestBannedUserIsToldWhy(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	k := newEd25519(t, "")
	if r := run(t, ts.login("bob", "correct horse battery"), "keys add", k.line); r.code != 0 {
		t.Fatal(r)
	}
	until := time.Now().Add(48 * time.Hour).UTC()
	if err := ts.acc.SetBan("bob", accounts.Ban{Until: until, Reason: "spamming the lobby", By: "admin", At: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	want := "the account bob is banned until " + until.Format("2006-01-02 15:04 UTC") + ". Reason: spamming the lobby"
	for _, tc := range []struct {
		name   string
		method gossh.AuthMethod
		told   bool
	}{
		{"right password", gossh.Password("correct horse battery"), true},
		{"keyboard-interactive", kiAnswer(nil, samePassword("correct horse battery")), true},
		{"key", gossh.PublicKeys(k.signer), true},
		{"wrong password", gossh.Password("wrong guess"), false},
		{"public key only", gossh.PublicKeys(queryOnly{k.signer.PublicKey()}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, shown := dialShown(t, ts.addr, "bob", ip(2), tc.method)
			if err == nil {
				t.Fatal("a banned user logged in")
			}
			if told := strings.Contains(shown, want); told != tc.told {
				t.Fatalf("told %v (banners %q), want %v", told, shown, tc.told)
			}
			if !tc.told && strings.Contains(shown, "banned") {
				t.Fatalf("the ban was revealed: %q", shown)
			}
		})
	}
}

// Issue 16 item 11: the third wrong password on one connection reads as a
// refusal with a reason, not as a dropped connection; an address blocked
// after 5 failures is told why and until when, on that connection and on
// the next.
func TestRefusalsAndBlocksAreExplained(t *testing.T) {
	clk := newFakeClock()
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits = realLimits(clk); c.Limits.MinPasswordScore = -1 })
	ts.login("alice", "correct horse battery").Close()

	err, shown := dialShown(t, ts.addr, "alice", ip(2), gossh.RetryableAuthMethod(gossh.Password("wrong"), 3))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("three wrong passwords ended as %v", err)
	}
	if !strings.Contains(shown, "3 failed tries on this connection") {
		t.Fatalf("no reason shown: %q", shown)
	}
	// Two more failures (five in all) block the address.
	err, _ = dialShown(t, ts.addr, "alice", ip(2), gossh.Password("wrong"))
	if err == nil {
		t.Fatal("logged in")
	}
	err, shown = dialShown(t, ts.addr, "alice", ip(2), gossh.Password("wrong"))
	if err == nil || !strings.Contains(shown, "too many failed logins from your address. It is blocked until") {
		t.Fatalf("the blocking failure: %v, shown %q", err, shown)
	}
	// The next connection is told as well, and refused even the right password.
	err, shown = dialShown(t, ts.addr, "alice", ip(2), gossh.Password("correct horse battery"))
	if err == nil {
		t.Fatal("a blocked address logged in")
	}
	if !strings.Contains(shown, "It is blocked until") || !strings.Contains(shown, "(10m0s from now)") {
		t.Fatalf("a blocked address was not told why: %q (%v)", shown, err)
	}
	if !strings.Contains(ts.logs.String(), "connection from a blocked address") {
		t.Fatal("not logged")
	}
}

// Issue 16 item 12: the third refused registration attempt says why.
func TestThirdRefusedRegistrationExplained(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits.MinPasswordScore = 3 })
	tr := &kiTranscript{}
	if c, err := dial(ts.addr, "carol", ip(2), kiAnswer(tr, samePassword("password123"))); err == nil {
		c.Close()
		t.Fatal("a weak password registered")
	}
	last := tr.instructions[len(tr.instructions)-1]
	if !strings.Contains(last, "too easy to guess") || !strings.Contains(last, "third try") {
		t.Fatalf("the last thing said was %q", last)
	}
}
