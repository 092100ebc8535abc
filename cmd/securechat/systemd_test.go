package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The shipped unit passes `systemd-analyze verify` and rates 1.5 or lower
// in `systemd-analyze security --offline=yes`. ExecStart points at this
// test's build of securechat, since verify checks the program exists.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatal("systemd-analyze is not on PATH: install the Debian package systemd (.ci/run does this)")
	}
	unit, err := os.ReadFile(filepath.Join("..", "..", "deploy", "systemd", "securechat.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nType=notify\n", "\nExecReload=/bin/kill -HUP $MAINPID\n", "\nWatchdogSec=", "\nDynamicUser=yes\n",
		"\nStateDirectory=securechat\n", "--data ${STATE_DIRECTORY}", "\nProtectSystem=strict\n",
		"\nSystemCallFilter=@system-service\n", "\nMemoryDenyWriteExecute=yes\n", "\nUMask=0077\n",
	} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
	unit = bytes.ReplaceAll(unit, []byte("/usr/local/bin/securechat"), []byte(binPath))
	// The unit as shipped, and with README's drop-in for port 22.
	port22 := bytes.Replace(unit, []byte("\nPrivateUsers=yes\n"), []byte("\nPrivateUsers=no\n"), 1)
	port22 = bytes.Replace(port22, []byte("\nCapabilityBoundingSet=\n"), []byte("\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"), 1)
	port22 = bytes.Replace(port22, []byte("\nAmbientCapabilities=\n"), []byte("\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n"), 1)
	if bytes.Equal(port22, unit) {
		t.Fatal("the port 22 variant changed nothing")
	}
	t.Run("shipped", func(t *testing.T) { analyzeUnit(t, unit) })
	t.Run("port 22", func(t *testing.T) { analyzeUnit(t, port22) })
}

func analyzeUnit(t *testing.T, unit []byte) {
	path := filepath.Join(t.TempDir(), "securechat.service")
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, "systemd-analyze", "security", "--offline=yes", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for securechat.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	if score, _ := strconv.ParseFloat(string(m[1]), 64); score > 1.5 {
		t.Fatalf("exposure %.1f, want 1.5 or lower:\n%s", score, out)
	}
}

// notifySocket is a unixgram socket standing in for systemd's, collecting
// every datagram the server sends.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func openNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd") // a short path: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := &notifySocket{path: filepath.Join(dir, "notify")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	return n
}

// seen is every datagram so far, one per line.
func (n *notifySocket) seen() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.msgs...)
}

// count is how many datagrams so far start with prefix.
func (n *notifySocket) count(prefix string) int {
	c := 0
	for _, m := range n.seen() {
		if strings.HasPrefix(m, prefix) {
			c++
		}
	}
	return c
}

func (n *notifySocket) wait(t *testing.T, prefix string, atLeast int) {
	t.Helper()
	waitFor(t, "sd_notify "+prefix, func() (bool, string) {
		return n.count(prefix) >= atLeast, strings.Join(n.seen(), "\n--\n")
	})
}

// The real server speaks systemd's notify protocol: READY=1 once it
// accepts connections, WATCHDOG=1 pings, RELOADING=1 then READY=1 around a
// SIGHUP, and STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	t.Parallel()
	ns := openNotifySocket(t)
	cfg := filepath.Join(t.TempDir(), "securechat.toml")
	if err := os.WriteFile(cfg, []byte("backlog = 20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServerEnv(t, filepath.Join(t.TempDir(), "data"),
		[]string{"NOTIFY_SOCKET=" + ns.path, "WATCHDOG_USEC=200000"}, "--config", cfg)
	ns.wait(t, "READY=1", 1)
	if c, err := net.Dial("tcp", srv.addr); err != nil {
		t.Fatalf("READY=1 sent but the port does not accept: %v", err)
	} else {
		c.Close()
	}
	ns.wait(t, "WATCHDOG=1", 2)
	if n := ns.count("RELOADING=1") + ns.count("STOPPING=1"); n != 0 {
		t.Fatalf("reload or stop before any was asked for:\n%v", ns.seen())
	}

	if err := os.WriteFile(cfg, []byte("backlog = 30\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ns.wait(t, "READY=1", 2)
	msgs := ns.seen()
	reloading, ready2 := -1, -1
	for i, m := range msgs {
		if strings.HasPrefix(m, "RELOADING=1") {
			reloading = i
			if !strings.Contains(m, "MONOTONIC_USEC=") {
				t.Errorf("RELOADING=1 without MONOTONIC_USEC: %q", m)
			}
		}
		if strings.HasPrefix(m, "READY=1") && reloading >= 0 && ready2 < 0 {
			ready2 = i
		}
	}
	if reloading < 0 || ready2 < reloading {
		t.Fatalf("want RELOADING=1 then READY=1 around the reload:\n%v", msgs)
	}
	waitFor(t, "the reload to be logged", func() (bool, string) {
		out := srv.stderr.String()
		return strings.Contains(out, "reloaded") && strings.Contains(out, "changed=backlog"), out
	})

	srv.stop(t)
	ns.wait(t, "STOPPING=1", 1)
	if ns.count("STOPPING=1") != 1 {
		t.Fatalf("want one STOPPING=1 on SIGTERM:\n%v", ns.seen())
	}
}

// Without WATCHDOG_USEC the server sends no pings, and without NOTIFY_SOCKET
// nothing at all (the server runs the same outside systemd).
func TestSystemdNoWatchdog(t *testing.T) {
	t.Parallel()
	ns := openNotifySocket(t)
	srv := startServerEnv(t, filepath.Join(t.TempDir(), "data"), []string{"NOTIFY_SOCKET=" + ns.path})
	ns.wait(t, "READY=1", 1)
	srv.stop(t)
	if n := ns.count("WATCHDOG=1"); n != 0 {
		t.Fatalf("%d watchdog pings without WATCHDOG_USEC", n)
	}
	if strings.Contains(srv.stderr.String(), "watchdog") {
		t.Fatalf("watchdog logged without WATCHDOG_USEC:\n%s", srv.stderr.String())
	}
}
