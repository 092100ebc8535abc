package sshapp

import (
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// The two wrappers below take per-write costs of the SSH library off the
// path every frame takes. Both were measured at W3 (BENCHMARKS.md):
//
//   - charmbracelet/ssh emulates the PTY, so each Write on a session with a
//     PTY looks a flag up in the connection's context (under a mutex) and
//     copies the bytes twice to turn "\n" into "\r\n": about 6% of the
//     server's CPU. The screen never sends a "\n" that needs a carriage
//     return (it moves the cursor to column 0 first), so frames go to the
//     session's SSH channel itself.
//   - The library's connection calls SetDeadline on every read and write,
//     with a zero time when no idle or maximum timeout is configured (as
//     here: keepalives reap dead peers): about 3%.

// channelKey looks up a session's own SSH channel in its context.
type channelKey struct{}

// channelContext is a session's context: the connection's, plus the
// session's channel. Several sessions can share a connection, so the
// channel cannot live in the connection's values.
type channelContext struct {
	ssh.Context
	ch  gossh.Channel // set by Accept, before the session's handler runs
	win *windowState
}

func (c *channelContext) Value(key any) any {
	switch key {
	case channelKey{}:
		return c.ch
	case windowKey{}:
		return c.win
	}
	return c.Context.Value(key)
}

// terminalOut is where a session's screen writes: its SSH channel, without
// the PTY emulation's newline translation; the session itself when the
// channel is not known.
func terminalOut(sess ssh.Session) io.Writer {
	if ch, ok := sess.Context().Value(channelKey{}).(gossh.Channel); ok {
		return ch
	}
	return sess
}

// withChannels installs the server's channel and global request handlers:
// "session" channels, the only kind it serves, through sessionChannel;
// every other channel type and global request is refused and logged.
func withChannels(s *Server) ssh.Option {
	return func(srv *ssh.Server) error {
		srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.sessionChannel, "default": s.otherChannel}
		srv.RequestHandlers = map[string]ssh.RequestHandler{
			"default": s.globalRequest,
			// Sent by OpenSSH clients as a matter of course: not worth a log line.
			"keepalive@openssh.com":        quietRefusal,
			"no-more-sessions@openssh.com": quietRefusal,
		}
		return nil
	}
}

func quietRefusal(ssh.Context, *ssh.Server, *gossh.Request) (bool, []byte) { return false, nil }

// deadlineConn passes SetDeadline on only once a deadline has ever been
// set: clearing a deadline that was never set changes nothing.
type deadlineConn struct {
	net.Conn
	set atomic.Bool
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	if t.IsZero() && !c.set.Load() {
		return nil
	}
	c.set.Store(true)
	return c.Conn.SetDeadline(t)
}
