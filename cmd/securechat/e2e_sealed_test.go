package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestE2ESealedMessages is the sealed-message story as a new user lives it,
// with the real tools: alice uploads her key with ssh, bob sends her /msg
// from his UI in tmux, alice opens it on "her machine" with
// securechat-decrypt and with age -d, the data folder holds no plaintext,
// and alice then logs in with her key and no password.
func TestE2ESealedMessages(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh", "ssh-keygen", "tmux")
	if _, err := exec.LookPath("age"); err != nil {
		t.Fatal("age is not on PATH: install the Debian package age (.ci/run does this)")
	}
	decrypt := filepath.Join(t.TempDir(), "securechat-decrypt")
	if out, err := exec.Command("go", "build", "-o", decrypt, "../securechat-decrypt").CombinedOutput(); err != nil {
		t.Fatalf("build securechat-decrypt: %v\n%s", err, out)
	}
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data)
	c := newSSHClient(t)
	tm := newTmux(t)

	// alice's key, made by ssh-keygen as a user would.
	key := filepath.Join(c.home, ".ssh", "id_ed25519")
	if err := os.MkdirAll(filepath.Dir(key), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@laptop", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	alicePW := "violet stapler orbit 1"
	log := filepath.Join(c.dir, "askpass.log")
	if r := c.run(t, srv.port, alicePW, log, "-T", "alice@127.0.0.1", "who"); r.code != 0 {
		t.Fatalf("register alice: %s", r)
	}
	if r := runSSHStdin(t, c, srv.port, alicePW, log, string(pub), "-T", "alice@127.0.0.1", "keys", "add"); r.code != 0 || !strings.Contains(r.stdout, "added 1") {
		t.Fatalf("keys add: %s", r)
	}

	// bob sends from his UI.
	tm.chat(c, "bob", "copper lantern meadow 22", srv.port, filepath.Join(c.dir, "bob.log"))
	tm.waitScreen("bob", "Welcome to #lobby, bob.")
	const secret = "meet me at the old mill at nine"
	tm.typeLine("bob", "/msg alice "+secret)
	tm.waitScreen("bob", "to alice sent")

	// alice reads it on her own machine.
	inbox := c.run(t, srv.port, alicePW, log, "-T", "alice@127.0.0.1", "inbox")
	if inbox.code != 0 || !strings.Contains(inbox.stdout, "-----BEGIN AGE ENCRYPTED FILE-----") {
		t.Fatalf("inbox: %s", inbox)
	}
	cmd := exec.Command(decrypt, "-i", key)
	cmd.Env = append(pathEnv(), "HOME="+c.home)
	cmd.Stdin = strings.NewReader(inbox.stdout)
	out, err := cmd.CombinedOutput()
	if err != nil || !regexp.MustCompile(`\d\d:\d\d bob → alice: `+secret).Match(out) {
		t.Fatalf("securechat-decrypt: %v\n%s", err, out)
	}
	// The standard age tool opens the same block.
	block := inbox.stdout[strings.Index(inbox.stdout, "-----BEGIN"):]
	ageCmd := exec.Command("age", "-d", "-i", key)
	ageCmd.Stdin = strings.NewReader(block)
	out, err = ageCmd.CombinedOutput()
	if err != nil || string(out) != secret {
		t.Fatalf("age -d: %v: %q", err, out)
	}

	// The server keeps only ciphertext.
	filepath.Walk(data, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the plaintext", path)
			}
		}
		return nil
	})

	// alice logs in with her key: no password asked.
	keyLog := filepath.Join(c.dir, "key-askpass.log")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	args := c.args(srv.port, "-T", "alice@127.0.0.1", "who")
	for i, a := range args {
		switch a {
		case "PubkeyAuthentication=no":
			args[i] = "PubkeyAuthentication=yes"
		case "PreferredAuthentications=keyboard-interactive,password":
			args[i] = "PreferredAuthentications=publickey"
		}
	}
	ssh := exec.CommandContext(ctx, "ssh", append([]string{"-i", key}, args...)...)
	ssh.Env = append(pathEnv(), c.env("wrong on purpose", keyLog)...)
	ssh.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if out, err := ssh.CombinedOutput(); err != nil {
		t.Fatalf("key login: %v\n%s", err, out)
	}
	if asked := readLines(t, keyLog); len(asked) != 0 {
		t.Fatalf("key login asked for a password: %q", asked)
	}
}

// runSSHStdin is c.run with standard input.
func runSSHStdin(t *testing.T, c *sshClient, port, password, askpassLog, stdin string, extra ...string) sshResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ssh", c.args(port, extra...)...)
	cmd.Env = append(pathEnv(), c.env(password, askpassLog)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	return sshResult{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}
