package sshapp

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

func TestRegisterThenLogin(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	tr := &kiTranscript{}
	c, err := dial(ts.addr, "Alice", nil, kiAnswer(tr, samePassword("correct horse battery")))
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	c.Close()
	if !strings.Contains(strings.Join(tr.instructions, "|"), `"alice" is a new name`) {
		t.Fatalf("newcomer was not told the name is new: %q", tr.instructions)
	}
	if len(tr.questions) != 2 || !strings.Contains(tr.questions[1], "Repeat") {
		t.Fatalf("questions %q, want the password asked twice", tr.questions)
	}
	if !ts.acc.Exists("alice") {
		t.Fatal("alice not in the store")
	}

	t.Run("keyboard-interactive login asks once", func(t *testing.T) {
		tr := &kiTranscript{}
		c, err := dial(ts.addr, "alice", nil, kiAnswer(tr, samePassword("correct horse battery")))
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if len(tr.questions) != 1 {
			t.Fatalf("questions %q, want one password prompt", tr.questions)
		}
	})
	t.Run("password method", func(t *testing.T) {
		c, err := dial(ts.addr, "ALICE", nil, gossh.Password("correct horse battery"))
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
	for _, tc := range []struct{ name, pw string }{
		{"wrong password", "wrong horse battery"},
		{"empty password", ""},
		{"password plus suffix past 72 bytes", strings.Repeat("p", 72) + "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := dial(ts.addr, "alice", nil, gossh.Password(tc.pw)); err == nil {
				c.Close()
				t.Fatal("logged in with a wrong password")
			}
			if c, err := dial(ts.addr, "alice", nil, kiAnswer(nil, samePassword(tc.pw))); err == nil {
				c.Close()
				t.Fatal("logged in with a wrong password (keyboard-interactive)")
			}
		})
	}
	// users.json holds a bcrypt hash, never the password.
	b, err := os.ReadFile(filepath.Join(ts.dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "correct horse battery") || !strings.Contains(string(b), `"$2`) {
		t.Fatalf("users.json does not look like hashes only:\n%s", b)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	for _, tc := range []struct {
		name    string
		user    string
		answers func(int, []string) []string
		explain string
	}{
		{"too short", "bob", samePassword("short"), "at least 8"},
		{"equal to the name", "bobbybobby", samePassword("bobbybobby"), "username"},
		{"over 72 bytes", "bob", samePassword(strings.Repeat("x", 73)), "72"},
		{"mismatch", "bob", func(_ int, qs []string) []string { return []string{"secret-svefg", "secret-frpbaq"} }, "not the same"},
		{"bad username", "bad name!", samePassword("good password 1"), "only"},
		{"username starting with a dot", ".hidden", samePassword("good password 1"), "start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &kiTranscript{}
			c, err := dial(ts.addr, tc.user, nil, kiAnswer(tr, tc.answers))
			if err == nil {
				c.Close()
				t.Fatal("registration accepted")
			}
			said := strings.Join(tr.instructions, "|")
			if !strings.Contains(said, tc.explain) {
				t.Fatalf("server said %q, want an explanation containing %q", said, tc.explain)
			}
			if ts.acc.Count() != 0 {
				t.Fatal("an account was created")
			}
		})
	}
	// A second try in the same connection can fix a mismatch.
	c, err := dial(ts.addr, "carol", nil, kiAnswer(nil, func(round int, qs []string) []string {
		if round == 0 {
			return []string{"secret-svefg", "secret-bgure"}
		}
		return []string{"secret-pnebyf", "secret-pnebyf"}
	}))
	if err != nil {
		t.Fatalf("retry after mismatch: %v", err)
	}
	c.Close()
}

func TestNoRegister(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.AllowRegister = false })
	if c, err := dial(ts.addr, "newbie", nil, kiAnswer(nil, samePassword("a fine password"))); err == nil {
		c.Close()
		t.Fatal("registered with registration off")
	}
	if c, err := dial(ts.addr, "newbie", nil, gossh.Password("a fine password")); err == nil {
		c.Close()
		t.Fatal("registered through the password method with registration off")
	}
	if ts.acc.Count() != 0 {
		t.Fatal("account created")
	}
}

func TestConcurrentRegistrations(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(ts.addr, fmt.Sprintf("user%02d", i), nil, kiAnswer(nil, samePassword("password number "+fmt.Sprint(i))))
			if err != nil {
				errs <- err
				return
			}
			c.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var file struct {
		Users []struct{ Name string } `json:"users"`
	}
	b, err := os.ReadFile(filepath.Join(ts.dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Users) != n {
		t.Fatalf("users.json has %d users, want %d", len(file.Users), n)
	}
}

func TestExecCommands(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	bob := ts.login("bob", "secret-obo")

	if r := run(t, alice, "send hello from a script", ""); r.code != 0 {
		t.Fatalf("send: %+v", r)
	}
	if r := run(t, bob, "send", "piped message\n"); r.code != 0 {
		t.Fatalf("send from stdin: %+v", r)
	}
	r := run(t, alice, "history -n 5", "")
	if r.code != 0 {
		t.Fatalf("history: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " alice: hello from a script") || !strings.HasSuffix(lines[1], " bob: piped message") {
		t.Fatalf("history lines:\n%s", r.stdout)
	}
	r = run(t, alice, "history --json -n 1", "")
	var m struct {
		ID         uint64
		Kind, From string
		Text       string
		Time       time.Time
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &m); err != nil {
		t.Fatalf("history --json: %v: %q", err, r.stdout)
	}
	if m.From != "bob" || m.Text != "piped message" || m.Kind != "msg" || m.ID == 0 || m.Time.IsZero() {
		t.Fatalf("json %+v", m)
	}
	// who lists the users with a live UI session.
	u := openUI(t, bob, 80, 24)
	u.waitFor("Welcome")
	if r := run(t, alice, "who", ""); r.stdout != "bob\n" {
		t.Fatalf("who = %q", r.stdout)
	}
	for _, bad := range []string{"frobnicate", "history -n nope", "history extra", "who extra", "send"} {
		r := run(t, alice, bad, "")
		if r.code == 0 {
			t.Fatalf("%q exited 0", bad)
		}
		if r.stderr == "" {
			t.Fatalf("%q printed no reason", bad)
		}
	}
	if r := run(t, alice, "frobnicate", ""); !strings.Contains(r.stderr, "usage:") {
		t.Fatalf("unknown command without usage: %q", r.stderr)
	}
	// A bad flag gets what was wrong and the usage, not the flag package's
	// listing of "Usage of ...".
	for cmd, want := range map[string]string{
		"history -n nope":  "securechat: history: invalid value \"nope\" for flag -n",
		"inbox --since -1": "securechat: inbox: invalid value \"-1\" for flag -since",
		"history --bogus":  "securechat: history: flag provided but not defined: -bogus",
	} {
		r := run(t, alice, cmd, "")
		if r.code != 2 || !strings.HasPrefix(r.stderr, want) || !strings.Contains(r.stderr, "\nusage: "+strings.Fields(cmd)[0]+" [") || strings.Contains(r.stderr, "Usage of") {
			t.Errorf("%q: exit %d, stderr %q", cmd, r.code, r.stderr)
		}
	}
	if r := run(t, alice, "history -h", ""); r.code != 0 || r.stderr != "usage: history [-n N] [--json] [--room ROOM]\n" {
		t.Errorf("history -h: exit %d, stderr %q", r.code, r.stderr)
	}
	long := strings.Repeat("x", 2001)
	if r := run(t, alice, "send", long); r.code == 0 || !strings.Contains(r.stderr, "too long") {
		t.Fatalf("over-long message: %+v", r)
	}
}

func TestNoTerminalNoCommand(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	c := ts.login("alice", "secret-nyvpr")
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var errOut strings.Builder
	sess.Stderr = &errOut
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	err = sess.Wait()
	if err == nil {
		t.Fatal("shell without a terminal exited 0")
	}
	if !strings.Contains(errOut.String(), "ssh -t") {
		t.Fatalf("stderr %q does not mention ssh -t", errOut.String())
	}
}

func TestChatBetweenTwoSessions(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	a := openUI(t, ts.login("alice", "secret-nyvpr"), 100, 30)
	a.waitFor("Welcome to #lobby, alice")
	b := openUI(t, ts.login("bob", "secret-obo"), 100, 30)
	scr := b.waitFor("Welcome to #lobby, bob")
	if !strings.Contains(scr, "alice, bob") {
		t.Fatalf("welcome does not list who is online:\n%s", scr)
	}
	a.waitFor("bob joined")
	a.waitFor("#lobby · 2 here")

	a.send("hello bob\r")
	b.waitFor("alice: hello bob")
	a.waitFor("alice: hello bob")
	b.send("hi alice, 你好 👋\r")
	a.waitFor("bob: hi alice, 你好")

	b.send("/who\r")
	b.waitFor("Online (2): alice, bob")
	b.send("/help\r")
	b.waitFor("/quit")
	b.send("/nonsense\r")
	b.waitFor("unknown command /nonsense")

	b.send("/quit\r")
	b.waitEnded()
	a.waitFor("bob left")
	a.waitFor("#lobby · 1 here")
}

func TestSendButtonClick(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	a := openUI(t, ts.login("alice", "secret-nyvpr"), 80, 24)
	a.waitFor("[ Send ]")
	a.send("clicked")
	a.waitFor("> clicked")
	// SGR mouse press and release at column 76, row 24 (1-based): the button.
	a.send("\x1b[<0;76;24M\x1b[<0;76;24m")
	a.waitFor("alice: clicked")
}

func TestHistoryAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir, nil)
	alice := ts.login("alice", "secret-nyvpr")
	for i := range 3 {
		if r := run(t, alice, fmt.Sprintf("send message %d", i), ""); r.code != 0 {
			t.Fatalf("send: %+v", r)
		}
	}
	alice.Close()
	ts.stop()

	ts2 := startServer(t, dir, nil)
	alice = ts2.login("alice", "secret-nyvpr")
	r := run(t, alice, "history", "")
	for i := range 3 {
		if !strings.Contains(r.stdout, fmt.Sprintf("alice: message %d", i)) {
			t.Fatalf("history after restart:\n%s", r.stdout)
		}
	}
	u := openUI(t, alice, 100, 30)
	u.waitFor("alice: message 2")
	u.waitFor("earlier messages above")
	// New messages continue the numbering.
	if r := run(t, alice, "send after restart", ""); r.code != 0 {
		t.Fatal(r)
	}
	r = run(t, alice, "history --json -n 2", "")
	var ids []uint64
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var m struct{ ID uint64 }
		_ = json.Unmarshal([]byte(l), &m)
		ids = append(ids, m.ID)
	}
	if len(ids) != 2 || ids[1] <= ids[0] {
		t.Fatalf("ids not increasing across restart: %v", ids)
	}
}

func TestBacklogLimit(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Backlog = 3 })
	alice := ts.login("alice", "secret-nyvpr")
	for i := range 6 {
		run(t, alice, fmt.Sprintf("send m%d", i), "")
	}
	u := openUI(t, alice, 100, 30)
	scr := u.waitFor("alice: m5")
	if strings.Contains(scr, "alice: m2") || !strings.Contains(scr, "alice: m3") {
		t.Fatalf("backlog of 3 shows:\n%s", scr)
	}
}

// A client that stops reading its screen must not delay anyone else: its
// queue fills, it is dropped, and the others keep getting every message.
func TestStalledClientDoesNotDelayOthers(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.QueueSize = 128 })
	stalledClient := ts.login("stalled", "secret-fgnyyrq")
	sess, err := stalledClient.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	// A huge terminal and long messages make every frame large, so the SSH
	// window fills fast.
	if err := sess.RequestPty("xterm", 400, 1000, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	// Never read stdout: the SSH window fills and the server's writes block.
	if _, err := sess.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	live := openUI(t, ts.login("live", "secret-yvir"), 80, 24)
	live.waitFor("Welcome")
	sender := ts.login("sender", "secret-fraqre")
	big := strings.Repeat("z", 1900)
	// Keep talking until the stalled session is dropped (bounded in count
	// and time); the live session must keep up all along.
	deadline := time.Now().Add(30 * time.Second)
	i := 0
	for ; ts.srv.Room().Online("stalled"); i++ {
		if i >= 20000 || time.Now().After(deadline) {
			t.Fatalf("stalled session still in the room after %d messages", i)
		}
		if r := run(t, sender, fmt.Sprintf("send %d %s", i, big), ""); r.code != 0 {
			t.Fatalf("send %d: %+v", i, r)
		}
	}
	if r := run(t, sender, "send the last word", ""); r.code != 0 {
		t.Fatal(r)
	}
	live.waitFor("sender: the last word")
	if live.sess == nil || !ts.srv.Room().Online("live") {
		t.Fatal("the live session was dropped too")
	}
	t.Logf("stalled session dropped after %d messages", i)
}

// A connection that never authenticates is closed at the deadline, however
// slowly it trickles bytes.
func TestAuthTimeout(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.AuthTimeout = 500 * time.Millisecond })
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("SSH-2.0-slowloris\r\n")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		buf := make([]byte, 4096)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	trickle := time.NewTicker(100 * time.Millisecond)
	defer trickle.Stop()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-closed:
			return
		case <-trickle.C:
			_, _ = conn.Write([]byte{0})
		case <-deadline:
			t.Fatal("unauthenticated connection still open after 10s")
		}
	}
}

// The CVE-2024-45337 lesson, for usernames: charmbracelet/ssh remembers the
// username of the first auth attempt, while a client may change it between
// attempts. Fail once as mallory, then authenticate as bob with mallory's
// password: no session may be granted, as anyone.
func TestUsernameSwitchBetweenAttempts(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	ts.login("mallory", "secret-znyybel").Close()
	ts.login("bob", "secret-obo").Close()

	ctx := newFakeContext("mallory") // the first attempt's name, as charmbracelet/ssh keeps it
	if ts.srv.passwordHandler(ctx, "wrong guess") {
		t.Fatal("wrong password accepted")
	}
	// Second attempt: the client now says "bob", but the handler sees the
	// first username and mallory's password matches it.
	ok := ts.srv.passwordHandler(ctx, "secret-znyybel")
	if !ok {
		t.Fatal("setup: mallory's own password should verify")
	}
	if user, err := verifiedUser(ctx, "bob"); err == nil {
		t.Fatalf("session granted as %q to a connection that ended as bob", user)
	}
	// The honest case still works.
	if user, err := verifiedUser(ctx, "mallory"); err != nil || user != "mallory" {
		t.Fatalf("honest session refused: %q %v", user, err)
	}
	// And a context with nothing verified gets nothing.
	if _, err := verifiedUser(newFakeContext("bob"), "bob"); err == nil {
		t.Fatal("unverified session granted")
	}
}

// The keyboard-interactive path records the same way.
func TestUsernameSwitchKeyboardInteractive(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	ts.login("mallory", "secret-znyybel").Close()
	ctx := newFakeContext("mallory")
	ok := ts.srv.keyboardInteractiveHandler(ctx, func(_, _ string, qs []string, _ []bool) ([]string, error) {
		return samePassword("secret-znyybel")(0, qs), nil
	})
	if !ok {
		t.Fatal("setup: mallory should verify")
	}
	if _, err := verifiedUser(ctx, "bob"); err == nil {
		t.Fatal("session granted to a connection that ended as bob")
	}
}

var _ ssh.Context = (*fakeContext)(nil)

// pausableProxy forwards TCP between a client and the server until paused,
// then swallows everything: a laptop lid closing mid-session.
type pausableProxy struct {
	l      net.Listener
	mu     sync.Mutex
	paused bool
}

func newPausableProxy(t *testing.T, target string) *pausableProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pausableProxy{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				return
			}
			t.Cleanup(func() { c.Close(); s.Close() })
			go p.pipe(c, s)
			go p.pipe(s, c)
		}
	}()
	return p
}

func (p *pausableProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		if paused {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *pausableProxy) pause() {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

func TestDeadPeerIsReaped(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) {
		c.KeepAlive = 100 * time.Millisecond
		c.KeepAliveTimeout = 300 * time.Millisecond
	})
	ts.login("lid", "secret-yvq").Close()
	proxy := newPausableProxy(t, ts.addr)
	c, err := dial(proxy.l.Addr().String(), "lid", nil, gossh.Password("secret-yvq"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u := openUI(t, c, 80, 24)
	u.waitFor("Welcome")
	if !ts.srv.Room().Online("lid") {
		t.Fatal("not online")
	}
	proxy.pause()
	deadline := time.Now().Add(10 * time.Second)
	for ts.srv.Room().Online("lid") {
		if time.Now().After(deadline) {
			t.Fatal("dead peer still in the room after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(ts.logs.String(), "peer stopped answering") {
		t.Fatalf("no log line for the reaped peer:\n%s", ts.logs.String())
	}
}

func TestShutdownWithManyClients(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	const n = 50
	uis := make([]*ui, n)
	for i := range n {
		uis[i] = openUI(t, ts.login(fmt.Sprintf("user%02d", i), "a fine password"), 80, 24)
	}
	for _, u := range uis {
		u.waitFor("[ Send ]")
	}
	start := time.Now()
	ts.stop()
	for _, u := range uis {
		u.waitEnded()
		if !strings.Contains(u.rawString(), "shutting down") {
			t.Fatalf("a client was not told the server is shutting down: %q", u.rawString()[max(0, len(u.rawString())-200):])
		}
	}
	t.Logf("shutdown with %d clients took %v", n, time.Since(start))
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// 1,000 connect/disconnect cycles leave goroutines and file descriptors
// where they started.
func TestConnectDisconnectCyclesLeakNothing(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	k := newEd25519(t, "")
	if r := run(t, alice, "keys add", k.line); r.code != 0 {
		t.Fatal(r)
	}
	alice.Close()
	// Warm up once so lazily started runtime goroutines are counted.
	c, err := dial(ts.addr, "alice", nil, gossh.PublicKeys(k.signer))
	if err != nil {
		t.Fatal(err)
	}
	run(t, c, "who", "")
	c.Close()
	settle := func(limit int) int {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= limit || time.Now().After(deadline) {
				return n
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	baseG := settle(0)
	baseFD := openFDs(t)
	for i := range 1000 {
		c, err := dial(ts.addr, "alice", nil, gossh.PublicKeys(k.signer))
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if i%10 == 0 {
			if r := run(t, c, "who", ""); r.code != 0 {
				t.Fatal(r)
			}
		}
		c.Close()
	}
	if g := settle(baseG); g > baseG {
		t.Fatalf("goroutines %d after 1000 cycles, %d before", g, baseG)
	}
	deadline := time.Now().Add(10 * time.Second)
	for openFDs(t) > baseFD && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if fd := openFDs(t); fd > baseFD {
		t.Fatalf("open files %d after 1000 cycles, %d before", fd, baseFD)
	}
}
