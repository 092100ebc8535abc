package hostkeys

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func TestLoadOrCreateReusesKey(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	path := filepath.Join(t.TempDir(), FileName)
	a, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if a.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Fatalf("key type %s, want ed25519", a.PublicKey().Type())
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	b, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(a.PublicKey()) != Fingerprint(b.PublicKey()) {
		t.Fatal("second load made a new key")
	}
}

func TestCorruptKeyIsNotOverwritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	junk := []byte("not a key\n")
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreate(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want an error naming %s", err, path)
	}
	got, _ := os.ReadFile(path)
	if string(got) != string(junk) {
		t.Fatal("corrupt key file was changed")
	}
}

// The fingerprint must be the one ssh-keygen prints, since that is what a
// user compares on first connect.
func TestFingerprintMatchesSSHKeygen(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Fatal("ssh-keygen not installed: .ci/run installs openssh-client")
	}
	path := filepath.Join(t.TempDir(), FileName)
	s, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(keygen, "-lf", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	if !strings.Contains(string(out), Fingerprint(s.PublicKey())) {
		t.Fatalf("ssh-keygen says %q, we say %q", out, Fingerprint(s.PublicKey()))
	}
}

func TestKnownHostsLine(t *testing.T) {
	s, err := LoadOrCreate(filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ addr, prefix string }{
		{"example.com:8080", "[example.com]:8080 ssh-ed25519 AAAA"},
		{"example.com:22", "example.com ssh-ed25519 AAAA"},
		{"127.0.0.1:2022", "[127.0.0.1]:2022 ssh-ed25519 AAAA"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			line, err := KnownHostsLine(tc.addr, s.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(line, tc.prefix) {
				t.Fatalf("line %q, want prefix %q", line, tc.prefix)
			}
		})
	}
	if _, err := KnownHostsLine("nohostport", s.PublicKey()); err == nil {
		t.Fatal("want error for address without port")
	}
}

// TestLoadChangesNothing: Load, for read-only commands, neither creates a
// missing key nor touches an existing one.
func TestLoadChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if _, err := Load(path); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load of a missing key = %v, want ErrNoKey naming %s", err, path)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load created %s: %v", path, err)
	}
	made, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(got.PublicKey()) != Fingerprint(made.PublicKey()) {
		t.Error("Load returned another key")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("Load changed the key's mode to %v", st.Mode().Perm())
	}
}
