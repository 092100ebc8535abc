package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"securechat/backup"
)

// runWithStdin runs securechat with stdin, to completion.
func runWithStdin(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), "SECURECHAT_LISTEN=", "SECURECHAT_DATA=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("securechat %v did not finish", args)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// An admin takes a snapshot from the running server over SSH; the offline
// backup and restore refuse while it runs; after it stops, restore keeps the
// old folder beside, and the restored folder starts with the messages.
func TestE2EBackupAndRestore(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh")
	root := t.TempDir()
	data := filepath.Join(root, "data")
	const pw = "violet stapler orbit 1"
	for _, args := range [][]string{{"user", "add", "alice"}, {"user", "role", "alice", "admin"}} {
		if _, stderr, code := runWithStdin(t, pw+"\n", append([]string{"--data", data, "--bcrypt-cost", "10"}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	srv := startServer(t, data)
	c := newSSHClient(t)
	askLog := filepath.Join(c.dir, "askpass.log")
	for _, text := range []string{"first", "second", "third"} {
		if r := c.run(t, srv.port, pw, askLog, "-T", "alice@127.0.0.1", "send", text); r.code != 0 {
			t.Fatalf("send: %s", r)
		}
	}
	bob := newSSHClient(t)
	if r := bob.run(t, srv.port, "copper lantern drift 7", filepath.Join(bob.dir, "askpass.log"), "-T", "bob@127.0.0.1", "admin", "backup"); r.code == 0 || r.stdout != "" {
		t.Fatalf("a non-admin took a backup: %s", r)
	}
	r := c.run(t, srv.port, pw, askLog, "-T", "alice@127.0.0.1", "admin", "backup", "--gzip")
	if r.code != 0 {
		t.Fatalf("admin backup: %s", r)
	}
	m, err := backup.Verify(strings.NewReader(r.stdout), "")
	if err != nil {
		t.Fatalf("the snapshot does not verify: %v", err)
	}
	if m.Users != 2 || m.Messages < 3 || m.DataFormat != backup.CurrentFormat {
		t.Fatalf("manifest %+v", m)
	}
	archive := filepath.Join(root, "snap.tar.gz")
	if err := os.WriteFile(archive, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}

	// While it runs: offline backup and restore refuse.
	if _, stderr, code := runBinary(t, "--data", data, "backup", filepath.Join(root, "x.tar")); code != 1 || !strings.Contains(stderr, "admin backup") {
		t.Fatalf("offline backup of a running server: %d %s", code, stderr)
	}
	if _, stderr, code := runBinary(t, "restore", "--data", data, archive); code != 1 || !strings.Contains(stderr, "in use by a running securechat") {
		t.Fatalf("restore under a running server: %d %s", code, stderr)
	}
	if r := c.run(t, srv.port, pw, askLog, "-T", "alice@127.0.0.1", "send", "after the backup"); r.code != 0 {
		t.Fatalf("send: %s", r)
	}
	srv.stop(t)

	// Offline backup of the stopped server, then restore of the earlier one.
	if out, stderr, code := runBinary(t, "backup", "--data", data, filepath.Join(root, "offline.tar")); code != 0 || !strings.Contains(out, "2 users") {
		t.Fatalf("offline backup: %d %s %s", code, out, stderr)
	}
	out, stderr, code := runBinary(t, "restore", "--data", data, archive)
	if code != 0 || !strings.Contains(out, "now "+data+".before-restore-") {
		t.Fatalf("restore: %d %s %s", code, out, stderr)
	}
	srv2 := startServer(t, data)
	hist := c.run(t, srv2.port, pw, askLog, "-T", "alice@127.0.0.1", "history", "-n", "10")
	if !strings.Contains(hist.stdout, "third") || strings.Contains(hist.stdout, "after the backup") {
		t.Fatalf("restored history: %s", hist)
	}
}

// A data folder from a newer securechat stops the server with both
// versions named; one from before versions were recorded is upgraded after
// a backup beside it.
func TestE2EFormatVersion(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, code := runWithStdin(t, "violet stapler orbit 1\n", "--data", data, "--bcrypt-cost", "10", "user", "add", "alice"); code != 0 {
		t.Fatal(stderr)
	}
	// Made by the current code: recorded at the current version.
	if b, _ := os.ReadFile(filepath.Join(data, backup.VersionFile)); strings.TrimSpace(string(b)) != "1" {
		t.Fatalf("format-version %q", b)
	}
	os.Remove(filepath.Join(data, backup.VersionFile)) // as older code left it
	srv := startServer(t, data)
	if !strings.Contains(srv.stderr.String(), "data folder upgraded") {
		t.Fatalf("no upgrade logged:\n%s", srv.stderr.String())
	}
	srv.stop(t)
	saved, _ := filepath.Glob(filepath.Join(data, "backups", "format-0-*.tar.gz"))
	if len(saved) != 1 {
		t.Fatalf("upgrade backups: %v", saved)
	}
	if err := os.WriteFile(filepath.Join(data, backup.VersionFile), []byte("7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runBinary(t, "--data", data, "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, "format version 7, this securechat writes version 1") {
		t.Fatalf("newer folder: exit %d\n%s", code, stderr)
	}
}
