package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildDecrypt builds the real securechat-decrypt into a temp folder.
func buildDecrypt(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "securechat-decrypt")
	if out, err := exec.Command("go", "build", "-o", bin, "../securechat-decrypt").CombinedOutput(); err != nil {
		t.Fatalf("build securechat-decrypt: %v\n%s", err, out)
	}
	return bin
}

// sshKeygen makes an ed25519 key at ~/.ssh/id_ed25519 under home, as a
// user would, and returns its public line.
func sshKeygen(t *testing.T, home, comment string) string {
	t.Helper()
	key := filepath.Join(home, ".ssh", "id_ed25519")
	if err := os.MkdirAll(filepath.Dir(key), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return string(pub)
}

// runDecrypt runs the helper with HOME set and stdin, returning its output.
func runDecrypt(t *testing.T, bin, home, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(pathEnv(), "HOME="+home)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("run securechat-decrypt: %v", err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// TestE2EDMSentCopyOpens follows README's end-to-end recipe with the real
// ssh client and the real helper: alice seals on her machine with
// securechat-decrypt --encrypt and sends it with dm; bob opens it, and so
// does alice, from inbox --sent, with her default key and no flags. Her
// chat screen says only what holds for such a message.
func TestE2EDMSentCopyOpens(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh", "ssh-keygen", "tmux")
	decrypt := buildDecrypt(t)
	srv := startServer(t, filepath.Join(t.TempDir(), "data"))
	alice, bob := newSSHClient(t), newSSHClient(t)
	sshKeygen(t, alice.home, "alice@laptop") // never uploaded: she logs in with her password
	bobPub := sshKeygen(t, bob.home, "bob@desktop")
	const alicePW, bobPW = "violet stapler orbit 1", "copper lantern meadow 22"
	aliceLog, bobLog := filepath.Join(alice.dir, "askpass.log"), filepath.Join(bob.dir, "askpass.log")
	if r := runSSHStdin(t, bob, srv.port, bobPW, bobLog, bobPub, "-T", "bob@127.0.0.1", "keys", "add"); r.code != 0 {
		t.Fatalf("bob: keys add: %s", r)
	}

	tm := newTmux(t)
	tm.chat(alice, "alice", alicePW, srv.port, aliceLog)
	tm.waitScreen("alice", "Welcome to #lobby, alice.")

	// ssh -p PORT alice@host pubkey bob > bob.keys
	r := alice.run(t, srv.port, alicePW, aliceLog, "-T", "alice@127.0.0.1", "pubkey", "bob")
	if r.code != 0 {
		t.Fatalf("pubkey bob: %s", r)
	}
	bobKeys := filepath.Join(alice.home, "bob.keys")
	if err := os.WriteFile(bobKeys, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	// echo "hi bob" | securechat-decrypt --encrypt --to bob -R bob.keys | ssh ... dm bob
	armored, errOut, code := runDecrypt(t, decrypt, alice.home, "hi bob\n", "--encrypt", "--to", "bob", "-R", bobKeys)
	if code != 0 || strings.Contains(errOut, "warning") {
		t.Fatalf("--encrypt: status %d, stderr %q", code, errOut)
	}
	if r := runSSHStdin(t, alice, srv.port, alicePW, aliceLog, armored, "-T", "alice@127.0.0.1", "dm", "bob"); r.code != 0 || !strings.Contains(r.stdout, "to bob stored") {
		t.Fatalf("dm bob: %s", r)
	}
	tm.waitScreen("alice", "to bob sent, sealed;")
	if scr := tm.screen("alice"); strings.Contains(scr, "to yours") {
		t.Errorf("alice's screen claims more than holds:\n%s", scr)
	}

	// bob reads it.
	r = bob.run(t, srv.port, bobPW, bobLog, "-T", "bob@127.0.0.1", "inbox")
	if out, errOut, code := runDecrypt(t, decrypt, bob.home, r.stdout); code != 0 || !strings.Contains(out, " alice → bob: hi bob") {
		t.Fatalf("bob: inbox | securechat-decrypt: status %d, stdout %q, stderr %q", code, out, errOut)
	}
	// alice reads her own copy: inbox --sent | securechat-decrypt.
	r = alice.run(t, srv.port, alicePW, aliceLog, "-T", "alice@127.0.0.1", "inbox", "--sent")
	if r.code != 0 || !strings.Contains(r.stdout, "from=alice to=bob") {
		t.Fatalf("alice: inbox --sent: %s", r)
	}
	if out, errOut, code := runDecrypt(t, decrypt, alice.home, r.stdout); code != 0 || !strings.Contains(out, " alice → bob: hi bob") {
		t.Fatalf("alice: inbox --sent | securechat-decrypt: status %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Her plain inbox is empty, and the helper says so.
	r = alice.run(t, srv.port, alicePW, aliceLog, "-T", "alice@127.0.0.1", "inbox")
	if out, errOut, code := runDecrypt(t, decrypt, alice.home, r.stdout); code != 0 || out != "" || !strings.Contains(errOut, "no sealed messages") {
		t.Fatalf("alice: empty inbox | securechat-decrypt: status %d, stdout %q, stderr %q", code, out, errOut)
	}
}
