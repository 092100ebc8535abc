package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// testServer is the real securechat binary, built and started once for the
// package's tests.
type testServer struct {
	addr string
	pid  int
	cmd  *exec.Cmd
	log  *lockedBuffer
}

// srv is set by TestMain; integration tests skip when it is nil.
var srv *testServer

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "securechat-load-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s, err := startServer(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start server:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	srv = s
	code := m.Run()
	s.stop()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left running:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// startServer builds ../securechat into dir and runs it on 127.0.0.1:0
// with bcrypt cost 10 and, when the binary has them, limits loose enough
// for the tests to register and post freely.
func startServer(dir string) (*testServer, error) {
	bin := filepath.Join(dir, "securechat")
	build := exec.Command("go", "build", "-o", bin, "../securechat")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	args := []string{"--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0", "--bcrypt-cost", "10"}
	for _, f := range []string{
		"--limit-registrations-per-source=1000", "--limit-registrations-total=100000",
		"--limit-flood-burst=1000", "--limit-flood-rate=1000",
	} {
		name, _, _ := strings.Cut(f, "=")
		if strings.Contains(string(help), "-"+strings.TrimLeft(name, "-")+" ") {
			args = append(args, f)
		}
	}
	cmd := exec.Command(bin, args...)
	// If the test binary dies (a panic skips TestMain's cleanup), so does
	// the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &testServer{cmd: cmd, pid: cmd.Process.Pid, log: &lockedBuffer{}}
	addr, err := waitListening(stderr, s.log, 20*time.Second)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("%w; log:\n%s", err, s.log.String())
	}
	s.addr = addr
	return s, nil
}

var listenAddr = regexp.MustCompile(`securechat listening.* addr=(\S+)`)

// waitListening reads the server's log until it says where it listens,
// then keeps copying the log into buf in the background.
func waitListening(stderr io.Reader, buf *lockedBuffer, timeout time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			buf.WriteString(line + "\n")
			if m := listenAddr.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		close(found)
	}()
	select {
	case a, ok := <-found:
		if !ok {
			return "", fmt.Errorf("server exited before listening")
		}
		return a, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("server not listening within %s", timeout)
	}
}

func (s *testServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// runTool runs the command in-process and returns its status and output.
func runTool(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut lockedBuffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func serverArgs() []string {
	return []string{"--addr", srv.addr, "--server-pid", strconv.Itoa(srv.pid)}
}
