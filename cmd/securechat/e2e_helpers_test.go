package main

// Helpers for the end-to-end tests: the real securechat binary as a
// subprocess, the real OpenSSH client driven by an askpass script, and a
// private tmux server per test for the full-screen UI.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binPath is the securechat binary TestMain builds once for every test.
var binPath string

// waitTimeout bounds every poll in these tests: generous for a slow CI
// machine, far below the go test timeout.
const waitTimeout = 15 * time.Second

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "securechat-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp folder:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "securechat")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build of securechat failed:", err)
		return 1
	}
	return m.Run()
}

// requireTools fails the test at once, with the package to install, when a
// tool the test drives is not on PATH. .ci/run installs them all.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	pkg := map[string]string{"ssh": "openssh-client", "ssh-keygen": "openssh-client", "tmux": "tmux"}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: install the Debian package %s (.ci/run does this)", tool, pkg[tool])
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the exec copier goroutine to write
// while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls check until it reports true or waitTimeout passes. check
// returns what it looked at, so a failure shows the last state seen.
func waitFor(t *testing.T, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, seen := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last seen:\n%s", waitTimeout, what, seen)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not a wait for an event
	}
}

// server is one securechat process.
type server struct {
	data     string
	addr     string // 127.0.0.1:PORT, from the listening log line
	port     string
	hostkey  string // SHA256:… from the listening log line
	cmd      *exec.Cmd
	stderr   *syncBuffer
	done     chan struct{} // closed when the process has exited
	waitErr  error
	stopOnce sync.Once
}

var (
	listenRE  = regexp.MustCompile(`securechat listening .*addr=(127\.0\.0\.1:(\d+))`)
	hostkeyRE = regexp.MustCompile(`hostkey=(SHA256:[A-Za-z0-9+/]+)`)
)

// startServer runs securechat on data with --listen 127.0.0.1:0, waits for
// its listening line, and stops it (SIGTERM, exit 0 within 10 s) when the
// test ends.
func startServer(t *testing.T, data string, extra ...string) *server {
	t.Helper()
	return startServerEnv(t, data, nil, extra...)
}

// stop sends SIGTERM and checks the server exits 0 within 10 s. Calling it
// again does nothing.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			t.Errorf("securechat exited before it was stopped: %v", s.waitErr)
			return
		default:
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("SIGTERM securechat: %v", err)
		}
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
			t.Errorf("securechat did not exit within 10s of SIGTERM; stderr:\n%s", s.stderr.String())
			return
		}
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("securechat exited with status %d after SIGTERM, want 0; stderr:\n%s", code, s.stderr.String())
		}
	})
}

// runBinary runs securechat to completion (for the hostkey command and for a
// server expected to refuse to start), with a deadline.
func runBinary(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), "SECURECHAT_LISTEN=", "SECURECHAT_DATA=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("securechat %s did not finish within %s; stderr:\n%s", strings.Join(args, " "), waitTimeout, errb.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run securechat %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// askpassScript answers every prompt with $SC_PASSWORD and appends the
// prompt ($1) to $SC_ASKPASS_LOG, one line each.
const askpassScript = `#!/bin/sh
printf '%s\n' "$1" >> "$SC_ASKPASS_LOG"
printf '%s\n' "$SC_PASSWORD"
`

// sshClient is the real OpenSSH client with an empty HOME, no keys, no agent
// and an askpass script for passwords.
type sshClient struct {
	dir        string
	home       string
	askpass    string
	knownHosts string // UserKnownHostsFile
	strict     string // StrictHostKeyChecking
}

// newSSHClient prepares a client whose known_hosts pins on first use
// (accept-new) into its own file.
func newSSHClient(t *testing.T) *sshClient {
	t.Helper()
	requireTools(t, "ssh")
	dir := t.TempDir()
	c := &sshClient{
		dir:        dir,
		home:       filepath.Join(dir, "home"),
		askpass:    filepath.Join(dir, "askpass.sh"),
		knownHosts: filepath.Join(dir, "known_hosts"),
		strict:     "accept-new",
	}
	if err := os.Mkdir(c.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.askpass, []byte(askpassScript), 0o700); err != nil {
		t.Fatal(err)
	}
	return c
}

// env is the environment ssh runs with: password answers come only from
// the askpass script.
func (c *sshClient) env(password, askpassLog string) []string {
	return []string{
		"HOME=" + c.home,
		"SSH_ASKPASS=" + c.askpass,
		"SSH_ASKPASS_REQUIRE=force",
		"DISPLAY=:0",
		"SC_PASSWORD=" + password,
		"SC_ASKPASS_LOG=" + askpassLog,
	}
}

// args are ssh's options followed by extra (e.g. -T, -tt) and the
// destination and command.
func (c *sshClient) args(port string, extra ...string) []string {
	a := []string{
		"-F", "/dev/null",
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-o", "PubkeyAuthentication=no",
		"-o", "PreferredAuthentications=keyboard-interactive,password",
		"-o", "BatchMode=no",
		"-o", "ConnectTimeout=5",
		"-o", "UserKnownHostsFile=" + c.knownHosts,
		"-o", "StrictHostKeyChecking=" + c.strict,
		"-p", port,
	}
	return append(a, extra...)
}

// sshResult is what one ssh run produced.
type sshResult struct {
	stdout, stderr string
	code           int
}

func (r sshResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs ssh with no controlling terminal, answering password prompts with
// password and logging them to askpassLog; extra holds ssh flags, the
// destination and the command.
func (c *sshClient) run(t *testing.T, port, password, askpassLog string, extra ...string) sshResult {
	t.Helper()
	return c.runEnv(t, port, password, askpassLog, nil, extra...)
}

// runEnv is run with more environment for the askpass script.
func (c *sshClient) runEnv(t *testing.T, port, password, askpassLog string, env []string, extra ...string) sshResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ssh", c.args(port, extra...)...)
	cmd.Env = append(append(pathEnv(), c.env(password, askpassLog)...), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.WaitDelay = 2 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ssh %s did not finish within %s; stderr:\n%s", strings.Join(extra, " "), waitTimeout, errb.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run ssh: %v", err)
	}
	return sshResult{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}

// pathEnv keeps PATH (to find ssh and the askpass shell) and nothing else of
// the caller's environment.
func pathEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
}

// readLines returns a file's non-empty lines, or none if it does not exist.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// tmuxServer is a private tmux server for one test.
type tmuxServer struct {
	t      *testing.T
	dir    string
	socket string
	env    []string
}

// newTmux starts nothing yet: the tmux server starts with the first session
// and is killed when the test ends. Panes stay after their program exits so
// a failure can still show the screen and the exit status.
func newTmux(t *testing.T) *tmuxServer {
	t.Helper()
	requireTools(t, "tmux")
	dir := t.TempDir()
	tm := &tmuxServer{
		t:      t,
		dir:    dir,
		socket: "securechat-e2e-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		env: append(pathEnv(),
			"HOME="+dir,
			"TMUX_TMPDIR="+dir, // the socket lives in the test's temp folder
			"TERM=xterm-256color",
			"SHELL=/bin/sh",
		),
	}
	t.Cleanup(func() {
		// Errors are expected when the server never started.
		_, _ = tm.try("kill-server")
	})
	return tm
}

func (tm *tmuxServer) try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-f", "/dev/null", "-L", tm.socket}, args...)...)
	cmd.Env = tm.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (tm *tmuxServer) run(args ...string) string {
	tm.t.Helper()
	out, err := tm.try(args...)
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// newSession opens a detached 100x30 session called name running argv; the
// pane stays after argv exits.
func (tm *tmuxServer) newSession(name string, argv []string) {
	tm.t.Helper()
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	// The shell records the exit status for waitExit.
	script := strings.Join(quoted, " ") + "; echo $? > " + shellQuote(tm.statusFile(name))
	tm.run("set-option", "-g", "remain-on-exit", "on", ";",
		"new-session", "-d", "-s", name, "-x", "100", "-y", "30", script)
}

// chat opens session user running the real ssh client into the chat UI
// (ssh -tt), its password answered by c's askpass, logged to askpassLog.
func (tm *tmuxServer) chat(c *sshClient, user, password, port, askpassLog string) {
	tm.t.Helper()
	argv := append([]string{"env"}, c.env(password, askpassLog)...)
	argv = append(argv, "ssh")
	argv = append(argv, c.args(port, "-tt", user+"@127.0.0.1")...)
	tm.newSession(user, argv)
}

// screen is what session name shows now.
func (tm *tmuxServer) screen(name string) string {
	tm.t.Helper()
	return tm.run("capture-pane", "-p", "-t", name)
}

// waitScreen polls session name's screen until it contains want.
func (tm *tmuxServer) waitScreen(name, want string) {
	tm.t.Helper()
	waitFor(tm.t, fmt.Sprintf("%q on %s's screen", want, name), func() (bool, string) {
		s := tm.screen(name)
		return strings.Contains(s, want), s
	})
}

// typeLine types text literally into session name, then Enter.
func (tm *tmuxServer) typeLine(name, text string) {
	tm.t.Helper()
	tm.run("send-keys", "-t", name, "-l", text)
	tm.run("send-keys", "-t", name, "Enter")
}

// waitExit waits for the program in session name to end and returns its
// exit status, as the pane's shell wrote it. tmux's own #{pane_dead_status}
// is not used: Debian's tmux (built with libutempter) can miss the SIGCHLD
// of a pane that ends while it removes the utmp record, leaving the pane dead
// with no status (tmux issue #311).
func (tm *tmuxServer) waitExit(name string) string {
	tm.t.Helper()
	var status string
	waitFor(tm.t, name+"'s program to exit", func() (bool, string) {
		b, err := os.ReadFile(tm.statusFile(name))
		status = strings.TrimSpace(string(b))
		if err != nil || !strings.HasSuffix(string(b), "\n") {
			return false, fmt.Sprintf("no exit status yet (%v); screen:\n%s", err, tm.screen(name))
		}
		return true, status
	})
	return status
}

// exited reports whether the program in session name has ended.
func (tm *tmuxServer) exited(name string) bool {
	_, err := os.Stat(tm.statusFile(name))
	return err == nil
}

func (tm *tmuxServer) statusFile(name string) string {
	return filepath.Join(tm.dir, name+".status")
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
