package sshapp

import (
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// Frames go to the session's channel as the screen wrote them: the scroll
// for a new message is a bare line feed, not the "\r\n" the PTY emulation
// would have made of it.
func TestFramesBypassNewlineTranslation(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	a := openUI(t, ts.login("alice", "secret-nyvpr"), 100, 30)
	a.waitFor("Welcome to #lobby, alice")
	b := openUI(t, ts.login("bob", "secret-obo"), 100, 30)
	b.waitFor("Welcome to #lobby, bob")
	a.waitFor("bob joined")
	b.send("over the wire\r")
	a.waitFor("bob: over the wire")

	raw := a.rawString()
	at := strings.Index(raw, "over the wire") // the name before it is coloured
	if at < 0 {
		t.Fatalf("the message is not in what was sent: %q", raw)
	}
	nl := strings.LastIndex(raw[:at], "\n")
	if nl < 0 || at-nl > 80 {
		t.Fatalf("the new message was not scrolled in with a line feed: %q", raw[max(0, at-60):at])
	}
	if strings.Contains(raw, "\r\n") {
		i := strings.Index(raw, "\r\n")
		t.Fatalf("a frame was sent through the newline translation: %q", raw[max(0, i-40):i+2])
	}
}

// Two sessions on one connection (as OpenSSH's ControlMaster makes) each
// draw on their own channel.
func TestTwoSessionsOnOneConnection(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	c := ts.login("alice", "secret-nyvpr")
	// Both channels are open before either session starts.
	s1, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	wide := startUI(t, s1, 100, 30)
	wide.waitFor("Welcome to #lobby, alice")
	narrow := startUI(t, s2, 60, 12)
	narrow.waitFor("Welcome to #lobby, alice")
	wide.send("from the wide one\r")
	narrow.waitFor("alice: from the wide one")
	scr := wide.waitFor("alice: from the wide one")

	rows := strings.Split(strings.TrimRight(narrow.screen(), "\n"), "\n")
	if len(rows) != 12 {
		t.Fatalf("the 12-row session shows %d rows:\n%s", len(rows), narrow.screen())
	}
	for _, r := range rows {
		if n := len([]rune(strings.TrimRight(r, " "))); n > 60 {
			t.Fatalf("the 60-column session shows a %d-column row %q: a frame of the other session", n, r)
		}
	}
	wideRows := strings.Split(strings.TrimRight(scr, "\n"), "\n")
	if got := wideRows[len(wideRows)-1]; !strings.Contains(got, "Send") {
		t.Fatalf("the 100x30 session's last row is %q, not its input line:\n%s", got, scr)
	}
}

// Clearing the deadline still clears one that was set: only a clear with
// none ever set is skipped.
func TestDeadlineConnClears(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := &deadlineConn{Conn: a}
	defer c.Close()
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = b.Write([]byte("x")) }()
	if n, err := c.Read(make([]byte, 1)); n != 1 || err != nil {
		t.Fatalf("read after clearing the deadline: %d, %v", n, err)
	}
}

// A frame held back because the last one was too recent is painted by the
// session's pump when the frame interval has passed, with nothing else
// happening on the session.
func TestHeldFrameIsPainted(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.FPS = 2 })
	a := openUI(t, ts.login("alice", "secret-nyvpr"), 100, 30)
	a.waitFor("Welcome to #lobby, alice")
	b := openUI(t, ts.login("bob", "secret-obo"), 100, 30)
	b.waitFor("Welcome to #lobby, bob")
	a.waitFor("bob joined")
	time.Sleep(600 * time.Millisecond) // a's next frame is painted at once
	b.send("first\rsecond\r")
	a.waitFor("bob: first")
	a.waitFor("bob: second") // held back: a frame came less than 500 ms before
}
