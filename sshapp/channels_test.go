package sshapp

import (
	"bytes"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	gossh "golang.org/x/crypto/ssh"
)

// rawSession is a session driven by hand: requests a real client would
// never send, output counted rather than emulated.
type rawSession struct {
	t    *testing.T
	sess *gossh.Session
	mu   sync.Mutex
	out  bytes.Buffer
	n    int
}

// keep is how much output a rawSession stores; it counts the rest.
const keep = 1 << 20

func newRawSession(t *testing.T, c *gossh.Client) *rawSession {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return &rawSession{t: t, sess: sess}
}

func (r *rawSession) shell() {
	r.t.Helper()
	stdout, err := r.sess.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.sess.Shell(); err != nil {
		r.t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := stdout.Read(buf)
			r.mu.Lock()
			r.n += n
			if room := keep - r.out.Len(); room > 0 {
				r.out.Write(buf[:min(n, room)])
			}
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
}

func (r *rawSession) waitFor(want string) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		ok := strings.Contains(r.out.String(), want)
		r.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("output never showed %q", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func windowPayload(cols, rows uint32) []byte {
	return gossh.Marshal(&windowChange{Columns: cols, Rows: rows})
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

var cursorAddr = regexp.MustCompile(`\x1b\[(\d+)(?:;(\d+))?H`)

// Item 1 of issue 14: a terminal of 4294967295 columns and rows used to
// make the server allocate until it died. The size is clamped where it
// enters, and the frames drawn stay within the clamp.
func TestHugeTerminalIsClamped(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	c := ts.login("alice", "correct horse battery")
	base := heapInUse()
	r := newRawSession(t, c)
	if err := r.sess.RequestPty("xterm", 4294967295, 4294967295, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	r.shell()
	r.waitFor("Welcome to #lobby")
	ok, err := r.sess.SendRequest("window-change", false, windowPayload(4294967295, 4294967295))
	if err != nil || ok {
		t.Fatalf("window-change: %v %v", ok, err)
	}
	// A message after the resize shows the resized screen was drawn.
	if res := run(t, ts.login("bob", "correct horse battery"), "send after the resize", ""); res.code != 0 {
		t.Fatal(res)
	}
	r.waitFor("after the resize")
	if grew := int64(heapInUse()) - int64(base); grew > 64<<20 {
		t.Fatalf("the heap grew by %d MiB", grew>>20)
	}
	r.mu.Lock()
	out, total := r.out.String(), r.n
	r.mu.Unlock()
	for _, m := range cursorAddr.FindAllStringSubmatch(out, -1) {
		row, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		if row > 500 || col > 1000 {
			t.Fatalf("the server drew at row %d, column %d: past the 1000×500 clamp", row, col)
		}
	}
	// Two full frames of at most 1000×500 cells, with escape sequences.
	if total > 8<<20 {
		t.Fatalf("the server sent %d MiB", total>>20)
	}
}

// Item 5 of issue 14: a pty-req, window-changes before the shell, then a
// hang-up used to leave charmbracelet/ssh's request loop blocked on its
// one-slot window channel forever: one goroutine per connection.
func TestWindowChangesBeforeShellLeakNothing(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	ts.login("alice", "correct horse battery").Close()
	before := goleak.IgnoreCurrent()
	for i := range 20 {
		c, err := dial(ts.addr, "alice", ip(byte(2+i%5)), gossh.Password("correct horse battery"))
		if err != nil {
			t.Fatal(err)
		}
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			if _, err := sess.SendRequest("window-change", false, windowPayload(uint32(81+j), 25)); err != nil {
				t.Fatal(err)
			}
		}
		// Make sure the server read them before the hang-up: it answers
		// a request sent after them.
		answered := make(chan struct{})
		go func() {
			defer close(answered)
			_, _ = sess.SendRequest("env", true, gossh.Marshal(&struct{ Name, Value string }{"NO_COLOR", "1"}))
		}()
		select {
		case <-answered:
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d: the session stopped answering requests after window-changes", i)
		}
		c.Close()
		<-answered
	}
	ts.stop()
	goleak.VerifyNone(t, before)
}

// Item 6 of issue 14: at most 10 session channels per connection, as
// OpenSSH's MaxSessions; the eleventh is refused with the reason, and a
// closed one frees its place.
func TestSessionChannelsPerConnection(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	c := ts.login("alice", "correct horse battery")
	var open []*gossh.Session
	for i := range 10 {
		s, err := c.NewSession()
		if err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
		open = append(open, s)
	}
	if s, err := c.NewSession(); err == nil {
		s.Close()
		t.Fatal("an eleventh session was opened on one connection")
	} else if !strings.Contains(err.Error(), "too many sessions on one connection (at most 10)") {
		t.Fatalf("refusal: %v", err)
	}
	if !strings.Contains(ts.logs.String(), "session channel refused: too many on one connection") {
		t.Fatal("refusal not logged")
	}
	open[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := c.NewSession()
		if err == nil {
			s.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed session did not free its place: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, s := range open[1:] {
		s.Close()
	}
}

func envRequest(t *testing.T, s *gossh.Session, name, value string, wantReply bool) bool {
	t.Helper()
	ok, err := s.SendRequest("env", wantReply, gossh.Marshal(&struct{ Name, Value string }{name, value}))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// Item 2 of issue 14: env requests used to pile up without limit. Only
// the variables the server reads are taken, a few and small.
func TestEnvRequestsBounded(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	c := ts.login("alice", "correct horse battery")
	s := newRawSession(t, c)
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"NO_COLOR", "1", true},
		{"COLORTERM", "truecolor", true},
		{"LANG", "C.UTF-8", false},
		{"LD_PRELOAD", "/tmp/x.so", false},
		{"TERM", strings.Repeat("x", 300), false},
	} {
		if got := envRequest(t, s.sess, tc.name, tc.value, true); got != tc.ok {
			t.Errorf("env %s (%d bytes): accepted %v, want %v", tc.name, len(tc.value), got, tc.ok)
		}
	}
	for i := range 6 {
		if !envRequest(t, s.sess, "TERM", "xterm", true) {
			t.Fatalf("accepted variable %d of 8 refused", i+3)
		}
	}
	if envRequest(t, s.sess, "TERM", "xterm", true) {
		t.Fatal("a ninth variable was accepted")
	}
	// Thousands of big ones cost nothing that stays.
	base := heapInUse()
	big := strings.Repeat("v", 100<<10)
	for range 500 {
		envRequest(t, s.sess, "NO_COLOR", big, false)
	}
	envRequest(t, s.sess, "NO_COLOR", "1", true) // the server has read them all
	if grew := int64(heapInUse()) - int64(base); grew > 16<<20 {
		t.Fatalf("500 env requests of 100 KiB grew the heap by %d MiB", grew>>20)
	}
	if !strings.Contains(ts.logs.String(), "env request refused") {
		t.Fatal("refused env requests are not logged")
	}
}

// Item 3 of issue 14: go-shlex parses in quadratic time, so a long exec
// line is refused before it is parsed, with the reason.
func TestLongExecLineRefused(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	c := ts.login("alice", "correct horse battery")
	r := run(t, c, "send "+strings.Repeat("x", 64<<10), "")
	if r.code != 2 || !strings.Contains(r.stderr, "command line too long (65541 bytes, at most 4096)") {
		t.Fatalf("64 KiB exec line: %+v", r)
	}
	line := "who" + strings.Repeat(" ", 4096-3)
	if r := run(t, c, line, ""); r.code != 0 {
		t.Fatalf("a 4096-byte line was refused: %+v", r)
	}
	if !strings.Contains(ts.logs.String(), "command refused: line too long") {
		t.Fatal("not logged")
	}
}

// Item 9 of issue 14: agent forwarding was answered "yes" though nothing
// serves it. It is refused, and logged; so are other requests and channels
// the server does not serve.
func TestAgentForwardingAndUnservedRequestsRefused(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	c := ts.login("alice", "correct horse battery")
	s := newRawSession(t, c)
	for _, req := range []string{"auth-agent-req@openssh.com", "x11-req", "subsystem"} {
		ok, err := s.sess.SendRequest(req, true, gossh.Marshal(&struct{ Value string }{"sftp"}))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			t.Errorf("%s was accepted", req)
		}
	}
	if ok, _, err := c.SendRequest("tcpip-forward", true, gossh.Marshal(&struct {
		Addr string
		Port uint32
	}{"127.0.0.1", 0})); err != nil || ok {
		t.Fatalf("tcpip-forward: %v %v", ok, err)
	}
	if _, _, err := c.OpenChannel("direct-tcpip", nil); err == nil {
		t.Fatal("a direct-tcpip channel was opened")
	}
	logs := ts.logs.String()
	for _, want := range []string{"agent forwarding refused", "session request refused", "subsystem refused", "global request refused", "channel refused"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no %q in the log", want)
		}
	}
	// Still a working session afterwards.
	if err := s.sess.Run("who"); err != nil {
		t.Fatal(err)
	}
}
