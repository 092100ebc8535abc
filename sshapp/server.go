package sshapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
	"securechat/history"
	"securechat/hostkeys"
	"securechat/room"
)

// Accounts is what the server needs from the user store.
type Accounts interface {
	Exists(name string) bool
	Register(name, password string) (accounts.User, error)
	Verify(name, password string) (accounts.User, error)
	Get(name string) (accounts.User, bool)
	UserByKey(fingerprint string) (accounts.User, bool)
	AddKeys(name string, keys []accounts.Key) error
	RemoveKey(name, fingerprint string) error
	List() []accounts.User
	SetPassword(name, password string) error
	SetRole(name string, role accounts.Role) error
	Delete(name string) error
	SetBan(name string, b accounts.Ban) error
	Unban(name string) error
	ActiveBan(name string, now time.Time) (accounts.Ban, bool)
	BannedSource(src netip.Prefix, now time.Time) (string, accounts.Ban, bool)
	Bans(now time.Time) []accounts.User
	SetMute(name string, until time.Time) error
	MutedUntil(name string, now time.Time) (time.Time, bool)
	UpdatePrefs(name string, fn func(p *accounts.Prefs) error) error
	Prefs(name string) (accounts.Prefs, bool)
}

// History is what the server needs from the message log.
type History interface {
	AppendBatch(es []history.Entry) error
	Tail(n int, keep func(history.Entry) bool) ([]history.Entry, error)
	Since(afterID uint64, keep func(history.Entry) bool, max int) ([]history.Entry, error)
	TailFiltered(n int, keep func(history.Entry) bool, f history.Filter) ([]history.Entry, bool, error)
	SinceFiltered(afterID uint64, keep func(history.Entry) bool, max int, f history.Filter) ([]history.Entry, bool, error)
	LastID() uint64
}

// Config holds the server's settings; zero values take the defaults below.
type Config struct {
	// Addr is where ListenAndServe listens (default ":8080").
	Addr string
	// HostSigner is the server's host key (required).
	HostSigner gossh.Signer
	// RoomName is shown in the welcome and the status line (default "lobby").
	RoomName string
	// AllowRegister lets unknown usernames register on first login.
	AllowRegister bool
	// Backlog is how many earlier messages a joining session sees (default 50).
	Backlog int
	// AuthTimeout closes connections that have not authenticated in time
	// (default 30s), however slowly they trickle bytes.
	AuthTimeout time.Duration
	// RegisterTimeout replaces AuthTimeout once a person is answering the
	// registration prompts (default 120s, OpenSSH's LoginGraceTime),
	// counted from the connection's start.
	RegisterTimeout time.Duration
	// QueueSize bounds each session's unread messages (default 1024).
	QueueSize int
	// MaxMessage is the longest message in characters (default 2000).
	MaxMessage int
	// KeepAlive is how often an idle client is pinged (default 30s), and
	// KeepAliveTimeout how long an answer may take before the peer counts
	// as gone and its connection is closed (default 60s): a laptop closed
	// mid-session is reaped within 90 seconds.
	KeepAlive        time.Duration
	KeepAliveTimeout time.Duration
	// FPS caps how often a session's screen is redrawn (default 30).
	FPS int
	// FrameBurst is how many frames a session may send back to back before
	// they are held to the FPS rate (default DefaultFrameBurst).
	FrameBurst int
	// IdleTrim: once no session has started or ended for this long, the
	// memory freed since is returned to the operating system (0: never;
	// see memTrimmer).
	IdleTrim time.Duration
	// Logger receives operator logs (default: discard).
	Logger *log.Logger
	// PublicHost is the host name users connect to, used in the commands
	// the UI tells them to copy (default: the address each client reached,
	// "localhost" for loopback; this machine's own name is not what users
	// type, nor the name their known_hosts holds).
	PublicHost string
	// MOTDPath holds the message of the day (empty: none); admins change it
	// with /motd.
	MOTDPath string
	// TopicsPath keeps room topics across restarts (empty: not kept).
	TopicsPath string
	// MaxSealed bounds an armored sealed message in bytes (default 64 KiB).
	MaxSealed int
	// Limits are the abuse limits (zero values: the safe defaults).
	Limits Limits
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Observer counts logins, sessions and throttling for metrics
	// (default: nothing counted).
	Observer Observer
	// Backup writes a consistent snapshot of the data folder to w, for
	// `admin backup` (nil: the command is refused).
	Backup func(w io.Writer, gzip bool) error
}

// Deps are the stores the server works on.
type Deps struct {
	Accounts Accounts
	History  History
	// Presence, in a cluster, lists who is online on the other nodes
	// (nil: this server is all there is).
	Presence Presence
}

// Server is the chat server: one room, served over SSH.
type Server struct {
	cfg         Config
	acc         Accounts
	hist        History
	presence    Presence
	room        *room.Room
	log         *log.Logger
	ssh         *ssh.Server
	fingerprint string

	guards   *guards
	online   onlineConns
	formats  *formatCache
	msgs     *messageCache // backlog messages, shared by the sessions that show them
	styles   styleCache
	live     atomic.Pointer[Live] // what a reload may change
	motdMu   sync.Mutex
	motdText string

	topicsMu    sync.Mutex
	savedTopics map[string]string
	closeOnce   sync.Once
	sessions    sessionCount
	trim        *memTrimmer

	lmu       sync.Mutex
	listeners []net.Listener
	stopping  bool
}

const defaultBacklog = 50

// New builds a server; call Serve or ListenAndServe to start it.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.HostSigner == nil {
		return nil, errors.New("no host key")
	}
	if deps.Accounts == nil || deps.History == nil {
		return nil, errors.New("accounts and history are required")
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.RoomName == "" {
		cfg.RoomName = "lobby"
	}
	if cfg.Backlog < 0 {
		cfg.Backlog = 0
	} else if cfg.Backlog == 0 {
		cfg.Backlog = defaultBacklog
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 30 * time.Second
	}
	if cfg.RegisterTimeout <= 0 {
		cfg.RegisterTimeout = 120 * time.Second
	}
	cfg.RegisterTimeout = max(cfg.RegisterTimeout, cfg.AuthTimeout)
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 30 * time.Second
	}
	if cfg.KeepAliveTimeout <= 0 {
		cfg.KeepAliveTimeout = 60 * time.Second
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = 2000
	}
	if cfg.FPS <= 0 {
		cfg.FPS = 30
	}
	if cfg.MaxSealed <= 0 {
		cfg.MaxSealed = 64 << 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = log.New(discard{})
	}
	s := &Server{
		cfg:         cfg,
		acc:         deps.Accounts,
		hist:        deps.History,
		presence:    deps.Presence,
		trim:        newMemTrimmer(cfg.IdleTrim),
		log:         cfg.Logger,
		fingerprint: hostkeys.Fingerprint(cfg.HostSigner.PublicKey()),
		guards:      newGuards(cfg.Limits),
		formats:     newFormatCache(8192),
		msgs:        newMessageCache(1024),
	}
	s.live.Store(new(liveOf(cfg)))
	ropts := room.Options{
		Journal:   journal{deps.History},
		QueueSize: cfg.QueueSize,
		Now:       cfg.Now,
		LastID:    deps.History.LastID(),
	}
	shared, replicated := deps.History.(ReplicatedHistory)
	if replicated {
		ropts.Sequencer = sequencer{shared}
	}
	s.room = room.New(ropts)
	if replicated {
		shared.Feed(s.deliverReplicated)
	}
	if err := s.loadMOTD(); err != nil {
		return nil, err
	}
	if err := s.loadTopics(); err != nil {
		return nil, err
	}
	srv, err := wish.NewServer(
		wish.WithAddress(cfg.Addr),
		withHostSigner(cfg.HostSigner),
		wish.WithVersion("securechat"),
		wish.WithPublicKeyAuth(s.publicKeyHandler),
		wish.WithPasswordAuth(s.passwordHandler),
		wish.WithKeyboardInteractiveAuth(s.keyboardInteractiveHandler),
		withConnCallback(s.admitConn),
		withChannels(s),
		withAlgorithms(s),
		withConnLogs(s),
		wish.WithMiddleware(s.sessionMiddleware),
	)
	if err != nil {
		return nil, fmt.Errorf("build ssh server: %w", err)
	}
	s.ssh = srv
	return s, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func withHostSigner(signer gossh.Signer) ssh.Option {
	return func(srv *ssh.Server) error {
		srv.AddHostKey(signer)
		return nil
	}
}

func withConnCallback(cb ssh.ConnCallback) ssh.Option {
	return func(srv *ssh.Server) error {
		srv.ConnCallback = cb
		return nil
	}
}

// Fingerprint is the SHA256 fingerprint of the server's host key.
func (s *Server) Fingerprint() string { return s.fingerprint }

// Room is the live room, for wiring and tests.
func (s *Server) Room() *room.Room { return s.room }

// Serve accepts connections on l until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	s.lmu.Lock()
	if s.stopping {
		s.lmu.Unlock()
		l.Close()
		return nil
	}
	s.listeners = append(s.listeners, l)
	s.lmu.Unlock()
	err := s.ssh.Serve(l)
	s.lmu.Lock()
	stopping := s.stopping
	s.lmu.Unlock()
	if errors.Is(err, ssh.ErrServerClosed) || stopping {
		return nil
	}
	return err
}

// ListenAndServe listens on the configured address and serves.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(l)
}

// Shutdown stops accepting, tells every session the server is going away
// (each UI shows a notice and quits), and waits for connections to end until
// ctx is done. Call Close afterwards to cut whatever is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.room.Close()
	// Stop accepting by closing our listeners ourselves: charmbracelet/ssh's
	// own Shutdown waits on a WaitGroup that a connection finishing its
	// handshake at that moment adds to, which is a data race.
	s.lmu.Lock()
	s.stopping = true
	for _, l := range s.listeners {
		_ = l.Close()
	}
	s.lmu.Unlock()
	select {
	case <-s.sessions.drained():
		// Every session has ended; connections still open hold nothing a
		// user would lose, so cut them instead of waiting out the deadline.
	case <-ctx.Done():
	}
	_ = s.Close()
	return ctx.Err()
}

// sessionCount tracks live sessions so Shutdown knows when all have ended.
type sessionCount struct {
	mu      sync.Mutex
	n       int
	waiters []chan struct{}
}

func (c *sessionCount) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *sessionCount) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.n == 0 {
		for _, w := range c.waiters {
			close(w)
		}
		c.waiters = nil
	}
}

// drained returns a channel closed once no session is live.
func (c *sessionCount) drained() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.n == 0 {
		close(ch)
	} else {
		c.waiters = append(c.waiters, ch)
	}
	return ch
}

// Close cuts every connection at once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.trim.close()
		s.room.Close()
		err = s.ssh.Close()
	})
	return err
}

// recoverPanic keeps one bad session or handler from taking the server down.
func (s *Server) recoverPanic(where string) {
	if r := recover(); r != nil {
		s.log.Error("recovered panic", "in", where, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	}
}

type keepAliveKey struct{}

// startKeepAlive runs one pinger per connection, however many sessions it
// opens.
func (s *Server) startKeepAlive(ctx ssh.Context, conn gossh.Conn) {
	ctx.Lock()
	started := ctx.Value(keepAliveKey{}) != nil
	if !started {
		ctx.SetValue(keepAliveKey{}, true)
	}
	ctx.Unlock()
	if !started {
		s.keepAlive(ctx, conn)
	}
}

// keepAlive pings the client; a peer that does not answer in time is gone
// (TCP alone can take many minutes to notice) and its connection is closed,
// which ends its sessions and its room membership. It runs on timers, not a
// goroutine per connection, so an idle connection costs no stack.
func (s *Server) keepAlive(ctx ssh.Context, conn gossh.Conn) {
	var mu sync.Mutex
	var tick *time.Timer
	ping := func() {
		if ctx.Err() != nil {
			return
		}
		dead := time.AfterFunc(s.cfg.KeepAliveTimeout, func() {
			s.log.Info("closing connection: peer stopped answering", "user", safeName(conn.User()), "remote", conn.RemoteAddr().String())
			_ = conn.Close()
		})
		// Any reply, even a refusal, proves the peer is alive.
		_, _, err := conn.SendRequest("keepalive@openssh.com", true, nil)
		if !dead.Stop() || err != nil {
			return // closed: by the dead timer or otherwise
		}
		mu.Lock()
		tick.Reset(s.cfg.KeepAlive)
		mu.Unlock()
	}
	mu.Lock()
	tick = time.AfterFunc(s.cfg.KeepAlive, ping)
	mu.Unlock()
	context.AfterFunc(ctx, func() {
		mu.Lock()
		tick.Stop()
		mu.Unlock()
	})
}
