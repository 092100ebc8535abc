package main

// End-to-end tests: the real securechat binary, the real OpenSSH client and
// tmux. The helpers are in e2e_helpers_test.go.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EHostKeyPinning: the known_hosts line `securechat hostkey` prints
// lets a strict client in, a different key for the same address keeps it
// out before any password is asked, and the printed fingerprint is the one
// ssh-keygen computes from the key file.
func TestE2EHostKeyPinning(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh", "ssh-keygen")
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data)

	out, errOut, code := runBinary(t, "--data", data, "--listen", srv.addr, "hostkey")
	if code != 0 {
		t.Fatalf("securechat hostkey: exit %d\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("securechat hostkey printed %d lines, want 2 (fingerprint, known_hosts):\n%s", len(lines), out)
	}
	printedFP := strings.Fields(lines[0])[0]
	khLine := lines[1]
	if want := "[127.0.0.1]:" + srv.port + " ssh-ed25519 AAAA"; !strings.HasPrefix(khLine, want) {
		t.Fatalf("known_hosts line %q, want it to start with %q", khLine, want)
	}

	t.Run("fingerprint matches ssh-keygen", func(t *testing.T) {
		kg, err := exec.Command("ssh-keygen", "-lf", filepath.Join(data, "ssh_host_ed25519_key")).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen -lf: %v\n%s", err, kg)
		}
		f := strings.Fields(string(kg))
		if len(f) < 2 || f[1] != printedFP {
			t.Fatalf("ssh-keygen -lf says %q; securechat hostkey printed %s", kg, printedFP)
		}
		if srv.hostkey != printedFP {
			t.Fatalf("the server logged hostkey=%s; securechat hostkey printed %s", srv.hostkey, printedFP)
		}
		if !strings.HasSuffix(strings.TrimSpace(string(kg)), "(ED25519)") {
			t.Fatalf("ssh-keygen -lf: %q, want an ED25519 key", kg)
		}
	})

	t.Run("pinned key lets a strict client in", func(t *testing.T) {
		c := newSSHClient(t)
		c.strict = "yes"
		if err := os.WriteFile(c.knownHosts, []byte(khLine+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		askLog := filepath.Join(c.dir, "askpass.log")
		r := c.run(t, srv.port, "violet stapler orbit 1", askLog, "-T", "alice@127.0.0.1", "who")
		if r.code != 0 {
			t.Fatalf("ssh who with the pinned key:\n%s", r)
		}
		asked := readLines(t, askLog)
		if len(asked) != 2 || !strings.Contains(asked[0], "New password:") || !strings.Contains(asked[1], "Repeat password:") {
			t.Fatalf("askpass was asked %q, want a New password and a Repeat password prompt", asked)
		}
		if !strings.Contains(r.stderr, `"alice" is a new name here`) {
			t.Errorf("ssh stderr does not show the registration instruction:\n%s", r.stderr)
		}
		// Pinned: nothing was added to the known_hosts file.
		if kh := readLines(t, c.knownHosts); len(kh) != 1 {
			t.Errorf("known_hosts has %d lines after a pinned login, want 1:\n%s", len(kh), strings.Join(kh, "\n"))
		}
	})

	t.Run("different key is refused before any password", func(t *testing.T) {
		c := newSSHClient(t)
		c.strict = "yes"
		other := filepath.Join(c.dir, "other_ed25519")
		if kg, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "impostor", "-f", other).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, kg)
		}
		pub, err := os.ReadFile(other + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.knownHosts, []byte("[127.0.0.1]:"+srv.port+" "+string(pub)), 0o600); err != nil {
			t.Fatal(err)
		}
		askLog := filepath.Join(c.dir, "askpass.log")
		r := c.run(t, srv.port, "violet stapler orbit 1", askLog, "-T", "alice@127.0.0.1", "who")
		if r.code != 255 {
			t.Fatalf("ssh with a different pinned key: want exit 255\n%s", r)
		}
		if !strings.Contains(r.stderr, "Host key verification failed") || !strings.Contains(r.stderr, "HOST IDENTIFICATION HAS CHANGED") {
			t.Fatalf("ssh stderr does not report a changed host key:\n%s", r.stderr)
		}
		if asked := readLines(t, askLog); len(asked) != 0 {
			t.Fatalf("askpass was asked %q: a password prompt came before host key verification", asked)
		}
	})

	t.Run("unknown key is refused by a strict client", func(t *testing.T) {
		c := newSSHClient(t)
		c.strict = "yes"
		askLog := filepath.Join(c.dir, "askpass.log")
		r := c.run(t, srv.port, "violet stapler orbit 1", askLog, "-T", "alice@127.0.0.1", "who")
		if r.code != 255 || !strings.Contains(r.stderr, "Host key verification failed") {
			t.Fatalf("ssh with an empty known_hosts and StrictHostKeyChecking=yes: want exit 255 and a verification failure\n%s", r)
		}
		if asked := readLines(t, askLog); len(asked) != 0 {
			t.Fatalf("askpass was asked %q before the host was verified", asked)
		}
	})
}

// TestE2ETwoUsersChatInTmux: two real terminals (tmux panes running ssh -tt)
// register through askpass, see each other's messages, joins and leaves.
func TestE2ETwoUsersChatInTmux(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh", "tmux")
	srv := startServer(t, filepath.Join(t.TempDir(), "data"))
	c := newSSHClient(t)
	// Registered after the server, so it runs first at cleanup: the UIs end
	// before the server is told to stop.
	tm := newTmux(t)

	askLog := map[string]string{}
	start := func(user, password string) {
		t.Helper()
		askLog[user] = filepath.Join(c.dir, user+"-askpass.log")
		tm.chat(c, user, password, srv.port, askLog[user])
	}

	start("alice", "violet stapler orbit 1")
	tm.waitScreen("alice", "Welcome to #lobby, alice.")
	tm.waitScreen("alice", "> ")
	tm.waitScreen("alice", "[ Send ]")

	start("bob", "copper lantern meadow 22")
	tm.waitScreen("bob", "Welcome to #lobby, bob. Online (2): ")
	tm.waitScreen("alice", "→ bob joined")
	tm.waitScreen("alice", "alice · #lobby · 2 here") // the status line follows
	// F2 shows the side panel; messages then scroll the pane beside it.
	tm.run("send-keys", "-t", "alice", "F2")
	tm.waitScreen("alice", "│ Online (2)")
	tm.waitScreen("alice", "│ bob")

	// ssh had a terminal under tmux, yet with SSH_ASKPASS_REQUIRE=force the
	// registration prompts went to askpass.
	for _, user := range []string{"alice", "bob"} {
		asked := readLines(t, askLog[user])
		if len(asked) != 2 || !strings.Contains(asked[0], "New password:") || !strings.Contains(asked[1], "Repeat password:") {
			t.Fatalf("%s's askpass was asked %q, want New password and Repeat password", user, asked)
		}
	}

	tm.typeLine("alice", "hello from alice")
	tm.waitScreen("bob", "alice: hello from alice")
	tm.waitScreen("alice", "alice: hello from alice")

	tm.typeLine("bob", "hi alice, bob here")
	tm.waitScreen("alice", "bob: hi alice, bob here")

	tm.typeLine("bob", "/quit")
	tm.waitScreen("alice", "← bob left")
	if status := tm.waitExit("bob"); status != "0" {
		t.Fatalf("bob's ssh exited with status %s after /quit, want 0; screen:\n%s", status, tm.screen("bob"))
	}
	if tm.exited("alice") {
		t.Fatalf("alice's session ended when bob quit; screen:\n%s", tm.screen("alice"))
	}

	// SIGTERM with a UI still open: alice is told, her ssh ends, and the
	// server exits 0 in time (checked by stop).
	srv.stop(t)
	tm.waitScreen("alice", "the server is shutting down")
	status := tm.waitExit("alice")
	t.Logf("alice's ssh exited with status %s after the server shut down", status)
}
