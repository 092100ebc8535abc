package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ERoomsMentionsAndReturn drives the social layer through real
// terminals: a pre-rooms history file read as #lobby, two users in two
// rooms, a mention that rings alice's bell (a BEL byte reaches her terminal
// and not bob's), preferences and rooms kept across a restart, and a sealed
// message that waited for alice while she was away.
func TestE2ERoomsMentionsAndReturn(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh", "ssh-keygen", "tmux")
	data := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	old := `{"id":1,"time":"2026-01-01T10:00:00Z","kind":"msg","from":"founder","text":"written before rooms existed"}` + "\n"
	if err := os.WriteFile(filepath.Join(data, "message_history.jsonl"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, data)
	c := newSSHClient(t)
	tm := newTmux(t)
	pw := map[string]string{"alice": "violet stapler orbit 1", "bob": "copper lantern meadow 22"}
	open := func(user, port string) string {
		t.Helper()
		raw := filepath.Join(c.dir, user+"-raw.out")
		tm.chat(c, user, pw[user], port, filepath.Join(c.dir, user+".log"))
		// Everything the program writes, BEL bytes included, as it arrives.
		tm.run("pipe-pane", "-t", user, "-o", "cat >> "+shellQuote(raw))
		return raw
	}
	aliceRaw := open("alice", srv.port)
	tm.waitScreen("alice", "founder: written before rooms existed")
	bobRaw := open("bob", srv.port)
	tm.waitScreen("bob", "Welcome to #lobby, bob.")

	tm.typeLine("alice", "/join #go")
	tm.waitScreen("alice", "You are in #go")
	tm.typeLine("bob", "/join #go")
	tm.waitScreen("bob", "You are in #go")
	tm.waitScreen("alice", "→ bob joined")
	tm.typeLine("bob", "@alice have a look at this")
	tm.waitScreen("alice", "bob: @alice have a look at this")
	waitFor(t, "a BEL on alice's terminal", func() (bool, string) {
		b, _ := os.ReadFile(aliceRaw)
		return bytes.IndexByte(b, 7) >= 0, "no BEL yet"
	})
	tm.typeLine("alice", "thanks bob-less folks") // mentions nobody
	tm.waitScreen("bob", "alice: thanks bob-less folks")
	if b, _ := os.ReadFile(bobRaw); bytes.IndexByte(b, 7) >= 0 {
		t.Fatal("bob's bell rang for a message that does not mention him")
	}
	tm.typeLine("alice", "/theme light")
	tm.waitScreen("alice", "theme set to light")
	tm.typeLine("alice", "/timestamps datetime")
	tm.waitScreen("alice", "timestamps set to datetime")

	// alice uploads a key so messages can wait for her, then leaves.
	key := filepath.Join(c.home, "alice_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, _ := os.ReadFile(key + ".pub")
	if r := runSSHStdin(t, c, srv.port, pw["alice"], filepath.Join(c.dir, "alice.log"), string(pub), "-T", "alice@127.0.0.1", "keys", "add"); r.code != 0 {
		t.Fatalf("keys add: %s", r)
	}
	tm.typeLine("alice", "/quit")
	tm.waitExit("alice")
	if r := c.run(t, srv.port, pw["bob"], filepath.Join(c.dir, "bob.log"), "-T", "bob@127.0.0.1", "msg", "alice", "while you were out"); r.code != 0 {
		t.Fatalf("msg: %s", r)
	}
	tm.typeLine("bob", "/quit")
	tm.waitExit("bob")

	// A restart, then alice comes back: her rooms, looks and missed
	// messages are waiting.
	srv.stop(t)
	srv2 := startServer(t, data)
	tm.run("kill-session", "-t", "alice")
	_ = os.Remove(tm.statusFile("alice"))
	open("alice", srv2.port)
	tm.waitScreen("alice", "1 private message while you were away")
	tm.waitScreen("alice", "#go")
	if s := tm.screen("alice"); !strings.Contains(s, "2026-") {
		t.Fatalf("datetime stamps not restored:\n%s", s)
	}
	tm.run("send-keys", "-t", "alice", "C-n")
	tm.waitScreen("alice", "bob: @alice have a look at this")
	tm.typeLine("alice", "/quit")
	tm.waitExit("alice")
}
