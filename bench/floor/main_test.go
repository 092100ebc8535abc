package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "localhost:0"} {
		if err := run(addr); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("run(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
}

// TestLineReachesEverySession: what one session types reaches every
// session (its own too) as one line, after the prompt the load tool waits for.
func TestLineReachesEverySession(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() { _ = serve(ln) }()

	alice, bob := open(t, ln.Addr().String(), "alice"), open(t, ln.Addr().String(), "bob")
	alice.waitFor(t, "[ Send ]")
	bob.waitFor(t, "[ Send ]")
	if _, err := io.WriteString(alice.in, "hello there\r"); err != nil {
		t.Fatal(err)
	}
	bob.waitFor(t, "alice: hello there\r\n")
	alice.waitFor(t, "alice: hello there\r\n")
}

type client struct {
	in  io.Writer
	out chan []byte
	got bytes.Buffer
}

func open(t *testing.T, addr, user string) *client {
	t.Helper()
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User:            user,
		Auth:            []gossh.AuthMethod{gossh.Password("anything")},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), // a throwaway key made at start
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	c := &client{out: make(chan []byte, 64)}
	if c.in, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.out)
		for {
			b := make([]byte, 4096)
			n, err := stdout.Read(b)
			if n > 0 {
				c.out <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

// waitFor reads until want has arrived, or fails after a deadline.
func (c *client) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(c.got.String(), want) {
		select {
		case b, ok := <-c.out:
			if !ok {
				t.Fatalf("session ended before %q; got %q", want, c.got.String())
			}
			c.got.Write(b)
		case <-deadline:
			t.Fatalf("no %q within 10 s; got %q", want, c.got.String())
		}
	}
}
