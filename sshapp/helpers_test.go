package sshapp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"github.com/hinshun/vt10x"
	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
	"securechat/history"
	"securechat/hostkeys"
	"securechat/limits"
)

// testServer is the real server on 127.0.0.1:0 over real stores in a temp
// folder. Stop and start it again on the same folder to test restarts.
type testServer struct {
	t    *testing.T
	dir  string
	srv  *Server
	acc  *accounts.Store
	hist *history.Log
	addr string
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t *testing.T, dir string, mod func(*Config)) *testServer {
	t.Helper()
	return startServerWith(t, dir, func(c *Config, _ *Deps) {
		if mod != nil {
			mod(c)
		}
	})
}

// startServerWith lets a test change the dependencies too.
func startServerWith(t *testing.T, dir string, mod func(*Config, *Deps)) *testServer {
	t.Helper()
	signer, err := hostkeys.LoadOrCreate(filepath.Join(dir, hostkeys.FileName))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.Open(filepath.Join(dir, "users.json"), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := history.Open(filepath.Join(dir, "message_history.jsonl"), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg := Config{
		HostSigner:    signer,
		AllowRegister: true,
		Logger:        log.NewWithOptions(logs, log.Options{Level: log.DebugLevel}),
		Limits:        looseLimits(),
	}
	deps := Deps{Accounts: acc, History: hist}
	mod(&cfg, &deps)
	srv, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, dir: dir, srv: srv, acc: acc, hist: hist, addr: l.Addr().String(), logs: logs, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(l) }()
	t.Cleanup(ts.stop)
	return ts
}

// stop shuts the server down the way main does; safe to call twice.
func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = ts.srv.Shutdown(ctx)
	_ = ts.srv.Close()
	<-ts.done
	_ = ts.hist.Close()
	ts.srv = nil
}

// answerKI answers keyboard-interactive prompts: the password for every
// question, and records what the server said.
type kiTranscript struct {
	mu           sync.Mutex
	instructions []string
	questions    []string
}

func kiAnswer(tr *kiTranscript, answers func(round int, questions []string) []string) gossh.AuthMethod {
	round := 0
	return gossh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
		if tr != nil {
			tr.mu.Lock()
			tr.instructions = append(tr.instructions, instruction)
			tr.questions = append(tr.questions, questions...)
			tr.mu.Unlock()
		}
		if len(questions) == 0 {
			return nil, nil
		}
		a := answers(round, questions)
		round++
		return a, nil
	})
}

func samePassword(pw string) func(int, []string) []string {
	return func(_ int, qs []string) []string {
		out := make([]string, len(qs))
		for i := range out {
			out[i] = pw
		}
		return out
	}
}

func dial(addr, user string, local net.IP, methods ...gossh.AuthMethod) (*gossh.Client, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	cfg := &gossh.ClientConfig{
		User:            user,
		Auth:            methods,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	}
	c, chans, reqs, err := gossh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return gossh.NewClient(c, chans, reqs), nil
}

// login registers user on first use or logs in, through keyboard-interactive.
func (ts *testServer) login(user, pw string) *gossh.Client {
	ts.t.Helper()
	c, err := dial(ts.addr, user, nil, kiAnswer(nil, samePassword(pw)))
	if err != nil {
		ts.t.Fatalf("login %s: %v", user, err)
	}
	ts.t.Cleanup(func() { c.Close() })
	return c
}

type cmdResult struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, c *gossh.Client, cmd, stdin string) cmdResult {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errOut
	if stdin != "" {
		sess.Stdin = strings.NewReader(stdin)
	}
	err = sess.Run(cmd)
	code := 0
	var exitErr *gossh.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitStatus()
	} else if err != nil {
		t.Fatalf("run %q: %v", cmd, err)
	}
	return cmdResult{out.String(), errOut.String(), code}
}

// ui is one interactive session whose output feeds a terminal emulator, so
// tests read the screen as a user would see it.
type ui struct {
	t     *testing.T
	sess  *gossh.Session
	stdin io.WriteCloser
	term  vt10x.Terminal
	mu    sync.Mutex
	raw   bytes.Buffer
	ended chan struct{}
}

func openUI(t *testing.T, c *gossh.Client, w, h int) *ui {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	return startUI(t, sess, w, h)
}

// startUI asks for a PTY and the shell on a session already open.
func startUI(t *testing.T, sess *gossh.Session, w, h int) *ui {
	t.Helper()
	return startUITerm(t, sess, "xterm-256color", w, h)
}

// startUITerm is startUI for a terminal of the given type.
func startUITerm(t *testing.T, sess *gossh.Session, term string, w, h int) *ui {
	t.Helper()
	if err := sess.RequestPty(term, h, w, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	u := &ui{t: t, sess: sess, stdin: stdin, term: vt10x.New(vt10x.WithSize(w, h)), ended: make(chan struct{})}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(u.ended)
		buf := make([]byte, 32<<10)
		for {
			n, err := stdout.Read(buf)
			if n > 0 {
				u.mu.Lock()
				u.raw.Write(buf[:n])
				_, _ = u.term.Write(buf[:n])
				u.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { sess.Close() })
	return u
}

func (u *ui) screen() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.term.String()
}

func (u *ui) rawString() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.raw.String()
}

// waitFor polls the screen until it shows want or the deadline passes.
func (u *ui) waitFor(want string) string {
	u.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := u.screen()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("screen never showed %q; it shows:\n%s", want, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (u *ui) send(keys string) {
	u.t.Helper()
	if _, err := io.WriteString(u.stdin, keys); err != nil {
		u.t.Fatalf("type %q: %v", keys, err)
	}
}

func (u *ui) waitEnded() {
	u.t.Helper()
	select {
	case <-u.ended:
	case <-time.After(10 * time.Second):
		u.t.Fatalf("session did not end; screen:\n%s", u.screen())
	}
}

// looseLimits lets functional tests log in, register and post as fast as
// they like from 127.0.0.1; the hardening tests set the real limits.
func looseLimits() Limits {
	const many = 1 << 20
	return Limits{
		Auth:             limits.AuthConfig{SourceFailures: many, AccountFailures: many},
		Conns:            limits.ConnConfig{MaxUnauthPerSource: many, MaxUnauthTotal: many, MaxSessionsPerSource: many},
		Reg:              limits.RegConfig{PerSource: many, Total: many},
		Flood:            limits.FloodConfig{Burst: many, PerSecond: many},
		ConnRate:         limits.ConnRateConfig{Burst: many, PerSecond: many},
		MaxAuthTries:     many,
		MinPasswordScore: -1,
	}
}

// openWelcomed opens the chat UI on c and waits for its welcome.
func openWelcomed(t *testing.T, c *gossh.Client, w, h int) *ui {
	t.Helper()
	u := openUI(t, c, w, h)
	u.waitFor("Welcome")
	return u
}
