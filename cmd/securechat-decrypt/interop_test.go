package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ageCLI returns the path of the real age tool. CI installs it (.ci/run), so
// there a missing tool is a failure; elsewhere the test is skipped.
func ageCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("age")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the age tool is required in CI (Debian package age): %v", err)
		}
		t.Skip("age tool not installed (apt-get install age)")
	}
	return p
}

func TestInteropAgeDecryptsOurs(t *testing.T) {
	ageBin := ageCLI(t)
	isolate(t)
	dir := t.TempDir()
	ed := newEd25519Key(t, filepath.Join(dir, "id_ed25519"), "")
	ag := newAgeKey(t, filepath.Join(dir, "keys.txt"))
	keys := writeFile(t, filepath.Join(dir, "bob.keys"), ed.Line+"\n"+ag.Line+"\n")
	msg := "hello from securechat-decrypt\nline two ✓\n"
	sealed, errOut, code := runCLI(t, msg, nil, "--encrypt", "--to", "bob", "-R", keys)
	if code != 0 {
		t.Fatalf("encrypt: status %d: %s", code, errOut)
	}
	file := writeFile(t, filepath.Join(dir, "msg.age"), sealed)
	for _, k := range []testKey{ed, ag} {
		t.Run(filepath.Base(k.File), func(t *testing.T) {
			var out, stderr bytes.Buffer
			cmd := exec.Command(ageBin, "-d", "-i", k.File, file)
			cmd.Stdout, cmd.Stderr = &out, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("age -d: %v: %s", err, stderr.String())
			}
			if out.String() != msg {
				t.Errorf("age -d gave %q, want %q", out.String(), msg)
			}
		})
	}
}

func TestInteropWeDecryptAges(t *testing.T) {
	ageBin := ageCLI(t)
	isolate(t)
	dir := t.TempDir()
	ed := newEd25519Key(t, filepath.Join(dir, "id_ed25519"), "")
	rsa := newRSAKey(t, filepath.Join(dir, "id_rsa"), 2048)
	ag := newAgeKey(t, filepath.Join(dir, "keys.txt"))
	// The file `pubkey bob` would print, comments and all.
	keys := writeFile(t, filepath.Join(dir, "bob.keys"), ed.Line+"\n"+rsa.Line+"\n"+ag.Line+"\n")
	var sealed, stderr bytes.Buffer
	cmd := exec.Command(ageBin, "-e", "-a", "-R", keys)
	cmd.Stdin = strings.NewReader("sealed by age(1)\n")
	cmd.Stdout, cmd.Stderr = &sealed, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("age -e: %v: %s", err, stderr.String())
	}
	for _, k := range []testKey{ed, rsa, ag} {
		t.Run(filepath.Base(k.File), func(t *testing.T) {
			out, errOut, code := runCLI(t, block(12, "bob", sealed.String()), nil, "-i", k.File)
			if code != 0 || out != "2026-11-22 05:12 bob → alice: sealed by age(1)\n" {
				t.Errorf("status %d, stdout %q, stderr %q", code, out, errOut)
			}
		})
	}
}
