package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// TestGridOnRealOutput feeds what the real server's UI sends, read by
// read, to both grid and vt10x, and requires the same screen after every
// read: while the room fills, messages wrap, wide and non-ASCII text
// arrives, and the terminal is resized.
func TestGridOnRealOutput(t *testing.T) {
	cfg := testConfig(t, "xchk", 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d := &dialer{t: mustTarget(t), pin: &hostKeyPin{}, per: 1, tout: 10 * time.Second}
	if rep := runSetup(ctx, cfg, d, newProgress(io.Discard)); rep.Failed > 0 {
		t.Fatalf("setup: %+v", rep)
	}
	const cols, rows = 72, 16
	watcher := openRaw(t, ctx, d, cfg, 0, cols, rows)
	writer := openRaw(t, ctx, d, cfg, 1, cols, rows)

	g, v := newGrid(cols, rows), newVTModel(cols, rows)
	reads, last := 0, ""
	feed := func(want string) {
		t.Helper()
		buf := make([]byte, 4096)
		for !strings.Contains(last, want) {
			n, err := watcher.out.Read(buf)
			if err != nil {
				t.Fatalf("read: %v; screen:\n%s", err, last)
			}
			g.write(buf[:n])
			v.write(buf[:n])
			reads++
			if gs, vs := screenText(g), screenText(v); gs != vs {
				t.Fatalf("after read %d (%q):\ngrid:\n%s\nvt10x:\n%s", reads, buf[:n], gs, vs)
			}
			last = screenText(g)
		}
	}
	feed(readyMarker)
	lines := []string{
		"hello END0",
		strings.Repeat("long words wrap under the text ", 6) + "END1",
		"héllo wörld → ← · … END2",
		"wide 世界 and emoji 🙂 END3",
	}
	for i := range 30 {
		lines = append(lines, "line "+strings.Repeat("x", i)+" END"+string(rune('a'+i%26))+itoa(i))
	}
	for _, l := range lines {
		if _, err := io.WriteString(writer.in, l+"\r"); err != nil {
			t.Fatal(err)
		}
		feed(l[strings.LastIndex(l, "END"):])
	}
	if err := watcher.sess.WindowChange(rows+4, cols-10); err != nil {
		t.Fatal(err)
	}
	g, v = newGrid(cols-10, rows+4), newVTModel(cols-10, rows+4)
	if _, err := io.WriteString(writer.in, "after resize ENDR\r"); err != nil {
		t.Fatal(err)
	}
	feed("ENDR")
}

// rawSession is an interactive session whose bytes the test reads itself.
type rawSession struct {
	sess *gossh.Session
	in   io.Writer
	out  io.Reader
}

func openRaw(t *testing.T, ctx context.Context, d *dialer, cfg *config, i, cols, rows int) rawSession {
	t.Helper()
	key, err := cfg.signerFor(cfg.userName(i))
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.dial(ctx, i, cfg.userName(i), gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", rows, cols, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	return rawSession{sess: sess, in: in, out: out}
}

// testConfig is a parsed configuration for users PREFIX0000… on the test
// server.
func testConfig(t *testing.T, prefix string, users int) *config {
	t.Helper()
	cfg, err := parseFlags([]string{"--addr", srv.addr, "--prefix", prefix, "--sessions", itoa(users), "--senders", "1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return &cfg
}

func mustTarget(t *testing.T) target {
	t.Helper()
	tg, err := resolveLoopback(context.Background(), srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}
