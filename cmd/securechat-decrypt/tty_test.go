package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// ptyReader collects what the program writes to the terminal, chunk by
// chunk, so a test can wait for a text with a deadline instead of sleeping.
type ptyReader struct {
	chunks chan []byte
	seen   bytes.Buffer
}

func readPTY(master *os.File) *ptyReader {
	r := &ptyReader{chunks: make(chan []byte, 64)}
	go func() {
		defer close(r.chunks)
		for {
			buf := make([]byte, 1024)
			n, err := master.Read(buf)
			if n > 0 {
				r.chunks <- buf[:n]
			}
			if err != nil {
				return // EIO once every slave end is closed
			}
		}
	}()
	return r
}

// waitFor reads until want has been seen or the deadline passes.
func (r *ptyReader) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(r.seen.String(), want) {
		select {
		case c, ok := <-r.chunks:
			if !ok {
				t.Fatalf("terminal closed before %q appeared; saw %q", want, r.seen.String())
			}
			r.seen.Write(c)
		case <-deadline:
			t.Fatalf("no %q on the terminal; saw %q", want, r.seen.String())
		}
	}
}

// drain reads what is left until the terminal closes.
func (r *ptyReader) drain(t *testing.T) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case c, ok := <-r.chunks:
			if !ok {
				return r.seen.String()
			}
			r.seen.Write(c)
		case <-deadline:
			t.Fatalf("terminal still open; saw %q", r.seen.String())
		}
	}
}

// TestTTYPassphrase reads a passphrase from a real terminal: the prompt goes
// to the terminal, the answer is read with echo off, Ctrl-D cancels.
func TestTTYPassphrase(t *testing.T) {
	tests := []struct {
		name    string
		typed   string
		want    string
		wantErr string
	}{
		{"enter", "s3cret phrase\r", "s3cret phrase", ""},
		{"line feed", "s3cret phrase\n", "s3cret phrase", ""},
		{"backspace", "s3cret phrasx\x7fe\r", "s3cret phrase", ""},
		{"ctrl-d", "\x04", "", "cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			master, tty, err := pty.Open()
			if err != nil {
				t.Skipf("no pty: %v", err)
			}
			defer master.Close()
			r := readPTY(master)
			type result struct {
				pass []byte
				err  error
			}
			done := make(chan result, 1)
			go func() {
				p, err := ttyPassphrase(tty.Name())("Enter passphrase for k: ")
				done <- result{p, err}
			}()
			r.waitFor(t, "Enter passphrase for k: ")
			if _, err := io.WriteString(master, tt.typed); err != nil {
				t.Fatal(err)
			}
			res := <-done
			if string(res.pass) != tt.want || (res.err == nil) != (tt.wantErr == "") ||
				res.err != nil && !strings.Contains(res.err.Error(), tt.wantErr) {
				t.Fatalf("got %q, %v; want %q, %q", res.pass, res.err, tt.want, tt.wantErr)
			}
			if !echoing(t, tty) {
				t.Error("echo left off")
			}
			tty.Close()
			if seen := r.drain(t); strings.Contains(seen, "s3cret") {
				t.Errorf("the passphrase was echoed: %q", seen)
			}
		})
	}
}

// lockedPEMKey writes ~/.ssh/id_rsa under home in the old encrypted PEM
// form, which does not carry its public key (so id_rsa.pub is read too), and
// whose cheap KDF keeps the end-to-end tests fast under -race; the OpenSSH
// form is covered by TestPassphrase.
func lockedPEMKey(t *testing.T, home, passphrase string) testKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 old encrypted PEM keys exist in the wild; this is what they look like.
	block, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(priv), []byte(passphrase), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writeFile(t, filepath.Join(home, ".ssh", "id_rsa"), string(pem.EncodeToMemory(block)))
	pub, err := gossh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	line := string(gossh.MarshalAuthorizedKey(pub))
	writeFile(t, keyFile+".pub", line)
	return testKey{File: keyFile, Line: strings.TrimSpace(line)}
}

// ttyChild is the command running with a pseudo-terminal as its controlling
// terminal and a file on standard input, as in `ssh host inbox | securechat-decrypt`.
type ttyChild struct {
	cmd            *exec.Cmd
	master, tty    *os.File // tty: the parent's copy of the terminal end
	term           *ptyReader
	stdout, stderr bytes.Buffer
}

// startTTYChild runs this test binary as the command (see TestMain) with
// HOME at home and the inbox stream in on standard input.
func startTTYChild(t *testing.T, home, in string) *ttyChild {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	t.Cleanup(func() { master.Close(); tty.Close() })
	stdin, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &ttyChild{master: master, tty: tty}
	c.cmd = exec.Command(exe)
	c.cmd.Env = append(os.Environ(), "SECURECHAT_DECRYPT_RUN_MAIN=1", "SECURECHAT_DECRYPT_ARGS=", "HOME="+home, "XDG_CONFIG_HOME=")
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = stdin, &c.stdout, &c.stderr
	c.cmd.ExtraFiles = []*os.File{tty} // fd 3 in the child
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	c.term = readPTY(master)
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A test that failed half-way must not leave the child waiting
		// for a passphrase forever.
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

// TestTTYPassphraseEndToEnd: the command asks on /dev/tty, once for two
// messages, with echo off, and prints both.
func TestTTYPassphraseEndToEnd(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	key := lockedPEMKey(t, home, "open sesame")
	in := writeFile(t, filepath.Join(t.TempDir(), "inbox"),
		stream(block1(t, 1, "bob", "first", key), block1(t, 2, "carol", "second", key)))
	c := startTTYChild(t, home, in)
	c.tty.Close() // only the child holds it now, so the terminal closes when it ends
	c.term.waitFor(t, "Enter passphrase for "+key.File+": ")
	if _, err := io.WriteString(c.master, "open sesame\r"); err != nil { // Enter sends CR
		t.Fatal(err)
	}
	err := c.cmd.Wait()
	seen := c.term.drain(t)
	if err != nil {
		t.Fatalf("exit: %v; stderr %q", err, c.stderr.String())
	}
	if want := "2026-11-22 05:01 bob → alice: first\n2026-11-22 05:02 carol → alice: second\n"; c.stdout.String() != want {
		t.Errorf("stdout %q, want %q", c.stdout.String(), want)
	}
	if n := strings.Count(seen, "Enter passphrase"); n != 1 {
		t.Errorf("asked %d times on the terminal: %q", n, seen)
	}
	if strings.Contains(seen, "open sesame") || c.stderr.Len() != 0 {
		t.Errorf("terminal %q, stderr %q", seen, c.stderr.String())
	}
}

// TestTTYInterruptRestoresEcho: Ctrl-C at the prompt, or a signal, ends the
// command and leaves the terminal echoing, not silently swallowing what the
// user types next.
func TestTTYInterruptRestoresEcho(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	key := lockedPEMKey(t, home, "open sesame")
	in := writeFile(t, filepath.Join(t.TempDir(), "inbox"), block1(t, 1, "bob", "first", key))
	tests := []struct {
		name     string
		stop     func(c *ttyChild) error
		wantCode int
	}{
		{"ctrl-c", func(c *ttyChild) error { _, err := io.WriteString(c.master, "\x03"); return err }, 130},
		{"sigterm", func(c *ttyChild) error { return c.cmd.Process.Signal(syscall.SIGTERM) }, 128 + int(syscall.SIGTERM)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startTTYChild(t, home, in)
			c.term.waitFor(t, "Enter passphrase for ")
			if echoing(t, c.tty) {
				t.Fatal("echo is on while the passphrase is read")
			}
			if err := tt.stop(c); err != nil {
				t.Fatal(err)
			}
			err := c.cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tt.wantCode {
				t.Errorf("exit %v, want status %d", err, tt.wantCode)
			}
			if !echoing(t, c.tty) {
				t.Error("echo left off")
			}
			if c.stdout.Len() != 0 {
				t.Errorf("stdout %q", c.stdout.String())
			}
		})
	}
}

// echoing reports whether the terminal echoes input.
func echoing(t *testing.T, tty *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// block1 is one inbox block holding text sealed to key.
func block1(t *testing.T, id int, from, text string, key testKey) string {
	t.Helper()
	return block(id, from, sealText(t, text, key))
}
