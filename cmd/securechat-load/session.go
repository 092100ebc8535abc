package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// readyMarker is what the chat UI draws on its input line once it is up:
// a session counts as connected when its screen shows it.
const readyMarker = "[ Send ]"

// clock reads a monotonic clock as nanoseconds since the run began, plus
// one, so that 0 can mean "never".
type clock struct{ base time.Time }

func newClock() clock { return clock{base: time.Now()} }

func (c clock) now() int64 { return int64(time.Since(c.base)) + 1 }

// chatSession is one user logged in with the chat UI open. Its reader
// goroutine feeds the screen and looks for tokens; the sender types.
type chatSession struct {
	user   string
	client *gossh.Client
	sess   *gossh.Session
	stdin  io.WriteCloser
	clk    clock
	stats  *runStats
	tr     *tracker

	mu      sync.Mutex // scr and isReady: the reader writes, others may look
	scr     termModel
	readAt  int64 // when the read being fed to scr arrived
	isReady bool
	// readyOff: the ready marker was on a row scrolled off before a scan.
	readyOff bool

	ready   chan struct{} // closed when the UI is up
	done    chan struct{} // closed when the reader ends
	readErr error         // why the reader ended; read after done
}

// sessionOptions is what opening a session needs besides its user.
type sessionOptions struct {
	d             *dialer
	width, height int
	emulator      string
	clk           clock
	stats         *runStats
	reg           *tokenReg
}

// openSession logs user in by key from source slot slot, opens a PTY and
// the shell, starts the reader, and waits until the UI is drawn. It
// returns how long all of that took.
func openSession(ctx context.Context, o sessionOptions, slot int, user string, key gossh.Signer) (*chatSession, time.Duration, error) {
	scr, err := newTermModel(o.emulator, o.width, o.height)
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	client, err := o.d.dial(ctx, slot, user, gossh.PublicKeys(key))
	if err != nil {
		return nil, 0, err
	}
	c := &chatSession{
		user: user, client: client, clk: o.clk, stats: o.stats,
		tr:    newTracker(o.reg, o.stats),
		scr:   scr,
		ready: make(chan struct{}),
		done:  make(chan struct{}),
	}
	c.watchScrollOff()
	out, err := c.startShell(o.width, o.height)
	if err != nil {
		_ = client.Close()
		return nil, 0, err
	}
	go c.readLoop(out)
	if err := c.waitReady(ctx); err != nil {
		c.close(time.Second)
		return nil, 0, err
	}
	return c, time.Since(start), nil
}

// watchScrollOff looks at rows that a read scrolls off the screen before
// the read is scanned: they were shown, so a token on one counts, at the
// read's arrival time, and so does the ready marker (a server that prints
// joins as lines, like ssh-chat, can push it off in the read that brings
// it). c.mu is held: scrolls happen in write.
func (c *chatSession) watchScrollOff() {
	c.scr.onScrollOff(func(row []rune) {
		switch {
		case !c.isReady:
			if strings.Contains(string(row), readyMarker) {
				c.readyOff = true
			}
		case c.tr.pending():
			c.tr.observe(row, c.readAt)
		}
	})
}

// startShell asks for a PTY and the shell, as `ssh -t` does.
func (c *chatSession) startShell(w, h int) (io.Reader, error) {
	sess, err := c.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	c.sess = sess
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		return nil, fmt.Errorf("request pty: %w", err)
	}
	if c.stdin, err = sess.StdinPipe(); err != nil {
		return nil, fmt.Errorf("stdin: %w", err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("stdout: %w", err)
	}
	if err := sess.Shell(); err != nil {
		return nil, fmt.Errorf("shell: %w", err)
	}
	return out, nil
}

// waitReady waits for the UI to be drawn, the reader to end, or ctx.
func (c *chatSession) waitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	case <-c.done:
		return fmt.Errorf("session ended before the UI was drawn (%v); screen:\n%s", c.readErr, c.screenText())
	case <-ctx.Done():
		return fmt.Errorf("UI not drawn in time: %w", ctx.Err())
	}
}

// readLoop reads the session's output until it ends.
func (c *chatSession) readLoop(out io.Reader) {
	defer close(c.done)
	buf := make([]byte, 32<<10)
	for {
		n, err := out.Read(buf)
		if n > 0 {
			c.consume(buf[:n])
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			c.readErr = err
			return
		}
	}
}

// consume feeds one read into the screen and, if this session still waits
// for a token, looks at the rows the read changed. The arrival time is
// taken before any of that work, so the tool's own cost does not add to the
// latency of the tokens in this read.
func (c *chatSession) consume(p []byte) {
	now := c.clk.now()
	c.stats.bytes.Add(int64(len(p)))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readAt = now
	c.scr.write(p)
	switch {
	case !c.isReady:
		c.checkReady()
	case c.tr.pending():
		c.scr.changedRows(func(_ int, row []rune) { c.tr.observe(row, now) })
	default:
		c.scr.forget()
	}
}

// checkReady marks the session ready once the UI is on screen; c.mu is
// held. Before then the whole screen is read: it happens once per session.
func (c *chatSession) checkReady() {
	c.scr.forget()
	if c.readyOff || strings.Contains(screenText(c.scr), readyMarker) {
		c.isReady = true
		close(c.ready)
	}
}

// typeLine types text and Enter. Ctrl+U first clears the input line, in
// case the server gave back an earlier line it refused.
func (c *chatSession) typeLine(text string) error {
	_, err := io.WriteString(c.stdin, "\x15"+text+"\r")
	return err
}

// alive reports whether the session's output is still open.
func (c *chatSession) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// screenText is the session's screen now, for error reports.
func (c *chatSession) screenText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return screenText(c.scr)
}

// close ends the connection and waits up to wait for the reader to stop.
func (c *chatSession) close(wait time.Duration) {
	_ = c.client.Close()
	select {
	case <-c.done:
	case <-time.After(wait):
	}
}
