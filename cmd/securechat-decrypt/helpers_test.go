package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	gossh "golang.org/x/crypto/ssh"
)

// TestMain lets a test run this very binary as the command (see runChild):
// no `go build` needed to exercise main() with a real controlling terminal.
func TestMain(m *testing.M) {
	if os.Getenv("SECURECHAT_DECRYPT_RUN_MAIN") == "1" {
		// Arguments, one a line.
		os.Args = []string{progName}
		for _, a := range strings.Split(os.Getenv("SECURECHAT_DECRYPT_ARGS"), "\n") {
			if a != "" {
				os.Args = append(os.Args, a)
			}
		}
		main()
		return
	}
	os.Exit(m.Run())
}

// testKey is a key pair on disk: the private key file to decrypt with, the
// public line `pubkey USER` would print, and its known-keys fingerprint.
type testKey struct {
	File        string
	Line        string
	Fingerprint string
}

// isolate points HOME at a fresh folder and unsets XDG_CONFIG_HOME, so no
// test reads or writes the real user's keys or config.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	return home
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func sshKeyFile(t *testing.T, path string, priv any, pub any, passphrase string) testKey {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = gossh.MarshalPrivateKey(priv, "test key")
	} else {
		block, err = gossh.MarshalPrivateKeyWithPassphrase(priv, "test key", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(pem.EncodeToMemory(block)))
	sp, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sp))) + " test@key"
	return testKey{File: path, Line: line, Fingerprint: gossh.FingerprintSHA256(sp)}
}

// lockedPassphrase protects the shared passphrase-protected test key.
const lockedPassphrase = "correct horse"

// lockedEd25519 is one passphrase-protected ed25519 key for the whole test
// binary: OpenSSH's bcrypt KDF takes about 5 s under the race detector, so
// each test pays only for the unlock it is about, not for making a key.
var lockedEd25519 = sync.OnceValues(func() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKeyWithPassphrase(priv, "locked test key", []byte(lockedPassphrase))
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(block), nil
})

// newLockedEd25519Key writes the shared passphrase-protected key to path.
func newLockedEd25519Key(t *testing.T, path string) testKey {
	t.Helper()
	b, err := lockedEd25519()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(b))
	_, err = gossh.ParseRawPrivateKey(b)
	var missing *gossh.PassphraseMissingError
	if !errors.As(err, &missing) || missing.PublicKey == nil {
		t.Fatalf("the locked key does not announce its public key: %v", err)
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(missing.PublicKey))) + " locked@key"
	return testKey{File: path, Line: line, Fingerprint: gossh.FingerprintSHA256(missing.PublicKey)}
}

func newEd25519Key(t *testing.T, path, passphrase string) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return sshKeyFile(t, path, priv, pub, passphrase)
}

func newRSAKey(t *testing.T, path string, bits int) testKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return sshKeyFile(t, path, priv, &priv.PublicKey, "")
}

// rsaPublicLine makes an ssh-rsa line of any size without the cost of a
// usable private key when only the public half matters.
func rsaPublicLine(t *testing.T, bits int) string {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := gossh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sp)))
}

func newAgeKey(t *testing.T, path string) testKey {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	r := id.Recipient().String()
	writeFile(t, path, "# created: test\n# public key: "+r+"\n"+id.String()+"\n")
	return testKey{File: path, Line: r, Fingerprint: r}
}

// sealText seals text to the keys' public lines, as --encrypt would.
func sealText(t *testing.T, text string, keys ...testKey) string {
	t.Helper()
	var lines []string
	for _, k := range keys {
		lines = append(lines, k.Line)
	}
	rs, err := parseRecipients("test", []byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	armored, err := seal([]byte(text), rs)
	if err != nil {
		t.Fatal(err)
	}
	return string(armored)
}

// block renders one inbox block exactly as the server's inbox command does.
func block(id int, from, armored string) string {
	return fmt.Sprintf("securechat-sealed id=%d time=2026-11-22T05:%02d:00Z from=%s to=alice\n%s",
		id, id%60, from, strings.TrimRight(armored, "\n")+"\n")
}

// stream joins blocks with one blank line between them, as inbox does.
func stream(blocks ...string) string {
	return strings.Join(blocks, "\n")
}

// fakePassphrase answers with pass and counts the prompts.
type fakePassphrase struct {
	pass    string
	prompts []string
}

func (f *fakePassphrase) ask(prompt string) ([]byte, error) {
	f.prompts = append(f.prompts, prompt)
	return []byte(f.pass), nil
}

// noPassphrase fails the test if a passphrase is asked for.
func noPassphrase(t *testing.T) passphraseFunc {
	return func(prompt string) ([]byte, error) {
		t.Errorf("unexpected passphrase prompt %q", prompt)
		return nil, fmt.Errorf("no passphrase in this test")
	}
}

// runCLI runs the command in-process, with the environment isolate set up,
// and returns its output and status.
func runCLI(t *testing.T, stdin string, ask passphraseFunc, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIEnv(t, os.Getenv, stdin, ask, args...)
}

// tempEnv is an environment with HOME in a fresh folder and nothing else,
// for parallel tests, which may not use t.Setenv.
func tempEnv(t *testing.T) func(string) string {
	home := t.TempDir()
	return func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
}

// runCLIEnv is runCLI with the environment given.
func runCLIEnv(t *testing.T, getenv func(string) string, stdin string, ask passphraseFunc, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	if ask == nil {
		ask = noPassphrase(t)
	}
	var out, errb bytes.Buffer
	c := &cli{
		stdin:      strings.NewReader(stdin),
		stdout:     &out,
		stderr:     &errb,
		passphrase: ask,
		getenv:     getenv,
	}
	code = c.run(args)
	return out.String(), errb.String(), code
}

// assertTerminalSafe fails if s holds anything that could drive a terminal.
func assertTerminalSafe(t *testing.T, what, s string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u009b", "\r"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s holds %q: %q", what, bad, s)
		}
	}
}
