package sshapp

import (
	"fmt"
	"net"
	"sync"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// charmbracelet/ssh trusts what a session's client asks for: it appends
// every env request to the session, blocks its request loop on a one-slot
// window channel nobody reads before the shell starts (a goroutine leaked
// per connection), takes any terminal size, and answers agent forwarding
// "yes". Each session channel's requests therefore pass through
// filterRequests first, which bounds, refuses and logs, and hands the
// library only what it may act on.

// refusedType is what a refused request becomes before it reaches the
// library: an unknown type, which it answers "no" in its turn, so replies
// stay in the order the client expects.
const refusedType = "securechat-refused"

// windowKey looks up a session's windowState in its context.
type windowKey struct{}

// windowState holds a session's latest terminal size. A window-change
// replaces the size and wakes the reader at most once, so a client can send
// as many as it likes without queueing anything or blocking anyone.
type windowState struct {
	mu      sync.Mutex
	w       ssh.Window
	changed chan struct{}
}

func newWindowState() *windowState { return &windowState{changed: make(chan struct{}, 1)} }

func (ws *windowState) set(w ssh.Window, notify bool) {
	ws.mu.Lock()
	ws.w = w
	ws.mu.Unlock()
	if notify {
		select {
		case ws.changed <- struct{}{}:
		default:
		}
	}
}

func (ws *windowState) get() ssh.Window {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.w
}

// sessionChannel runs one "session" channel: it refuses channels past the
// per-connection limit, then runs charmbracelet/ssh's session handler on a
// context that knows the channel, with filtered requests.
func (s *Server) sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	ci := connOf(ctx)
	if ci != nil {
		if !ci.openSession(s.guards.sess.MaxSessionsPerConn) {
			s.logRefusal(ctx, "session channel refused: too many on one connection", "max", s.guards.sess.MaxSessionsPerConn)
			_ = nc.Reject(gossh.ResourceShortage, fmt.Sprintf("too many sessions on one connection (at most %d)", s.guards.sess.MaxSessionsPerConn))
			return
		}
		defer ci.closeSession()
	}
	cc := &channelContext{Context: ctx, win: newWindowState()}
	ssh.DefaultSessionHandler(srv, conn, filteredChannel{NewChannel: nc, ctx: cc, s: s}, cc)
}

// otherChannel refuses and logs channel types the server does not serve
// (direct-tcpip, x11, ...).
func (s *Server) otherChannel(_ *ssh.Server, _ *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	s.logRefusal(ctx, "channel refused", "type", safeName(nc.ChannelType()))
	_ = nc.Reject(gossh.UnknownChannelType, "unsupported channel type")
}

// globalRequest refuses and logs global requests (port forwarding and the
// like); nothing the server offers needs one.
func (s *Server) globalRequest(ctx ssh.Context, _ *ssh.Server, req *gossh.Request) (bool, []byte) {
	s.logRefusal(ctx, "global request refused", "type", safeName(req.Type))
	return false, nil
}

func (ci *connInfo) openSession(limit int) bool {
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if ci.sessions >= limit {
		return false
	}
	ci.sessions++
	return true
}

func (ci *connInfo) closeSession() {
	ci.mu.Lock()
	ci.sessions--
	ci.mu.Unlock()
}

// maxRefusalLogs bounds the log lines one connection's refused requests
// write: a client can repeat a request at wire speed, the log must not.
const maxRefusalLogs = 20

// logRefusal logs a refused request of a logged-in connection, at most
// maxRefusalLogs times per connection.
func (s *Server) logRefusal(ctx ssh.Context, msg string, kv ...any) {
	if ci := connOf(ctx); ci != nil {
		switch n := ci.logged.Add(1); {
		case n == maxRefusalLogs+1:
			s.log.Info("further refused requests on this connection are not logged", "user", safeName(ctx.User()), "remote", remote(ctx))
			return
		case n > maxRefusalLogs:
			return
		}
	}
	s.log.Info(msg, append([]any{"user", safeName(ctx.User()), "remote", remote(ctx)}, kv...)...)
}

// filteredChannel accepts a session channel and puts filterRequests
// between its requests and the library.
type filteredChannel struct {
	gossh.NewChannel
	ctx *channelContext
	s   *Server
}

func (f filteredChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := f.NewChannel.Accept()
	f.ctx.ch = ch
	if err != nil {
		return ch, reqs, err
	}
	out := make(chan *gossh.Request)
	go f.s.filterRequests(f.ctx, reqs, out)
	return ch, out, nil
}

// filterRequests passes a session's requests on to the library one at a
// time (it reads the next only once the library took this one, so a client
// that floods requests is slowed, not queued), bounding or refusing them.
func (s *Server) filterRequests(ctx *channelContext, in <-chan *gossh.Request, out chan<- *gossh.Request) {
	defer close(out)
	envs := 0
	for req := range in {
		out <- s.filterRequest(ctx, req, &envs)
	}
}

func refused(req *gossh.Request) *gossh.Request {
	r := *req
	r.Type = refusedType
	return &r
}

type ptyRequest struct {
	Term                    string
	Columns, Rows, PxW, PxH uint32
	Modes                   string
}

type windowChange struct {
	Columns, Rows, PxW, PxH uint32
}

func (s *Server) filterRequest(ctx *channelContext, req *gossh.Request, envs *int) *gossh.Request {
	lim := s.guards.sess
	switch req.Type {
	case "shell", "exec", "signal", "break":
		return req
	case "pty-req":
		var p ptyRequest
		if err := gossh.Unmarshal(req.Payload, &p); err != nil {
			return refused(req)
		}
		w, h := lim.ClampWindow(p.Columns, p.Rows)
		p.Columns, p.Rows = uint32(w), uint32(h)
		ctx.win.set(ssh.Window{Width: w, Height: h}, false)
		r := *req
		r.Payload = gossh.Marshal(&p)
		return &r
	case "window-change":
		var wc windowChange
		if err := gossh.Unmarshal(req.Payload, &wc); err == nil {
			w, h := lim.ClampWindow(wc.Columns, wc.Rows)
			ctx.win.set(ssh.Window{Width: w, Height: h}, true)
		}
		// Handled here: the library would block on its window channel.
		return refused(req)
	case "env":
		var kv struct{ Name, Value string }
		if err := gossh.Unmarshal(req.Payload, &kv); err != nil {
			return refused(req)
		}
		if err := lim.CheckEnv(kv.Name, kv.Value, *envs); err != nil {
			s.logRefusal(ctx, "env request refused", "err", safeName(err.Error()))
			return refused(req)
		}
		*envs++
		return req
	case "auth-agent-req@openssh.com":
		s.logRefusal(ctx, "agent forwarding refused")
		return refused(req)
	case "subsystem":
		var name struct{ Value string }
		_ = gossh.Unmarshal(req.Payload, &name)
		s.logRefusal(ctx, "subsystem refused", "subsystem", safeName(name.Value))
		return refused(req)
	}
	s.logRefusal(ctx, "session request refused", "type", safeName(req.Type))
	return refused(req)
}

// withConnLogs logs what ends a connection abnormally: a handshake or login
// that failed (wrong algorithms, a packet over the size limit, a client
// that gave up or was cut by the auth timeout), with x/crypto's reason.
func withConnLogs(s *Server) ssh.Option {
	return func(srv *ssh.Server) error {
		srv.ConnectionFailedCallback = func(conn net.Conn, err error) {
			s.log.Info("handshake failed", "remote", conn.RemoteAddr().String(), "err", safeName(err.Error()))
		}
		return nil
	}
}
