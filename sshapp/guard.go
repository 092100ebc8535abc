package sshapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/ssh"

	"securechat/accounts"
	"securechat/limits"
)

// Limits are the abuse limits; zero fields take the safe defaults of the
// limits package. Tests and benchmarks set them, with an injected clock.
type Limits struct {
	Auth  limits.AuthConfig
	Conns limits.ConnConfig
	Reg   limits.RegConfig
	Flood limits.FloodConfig
	// Session bounds what a logged-in connection may ask for: terminal
	// size, session channels, env requests, exec lines, input lines.
	Session limits.SessionConfig
	// ConnRate is the rate of new connections per source, checked before
	// the key exchange.
	ConnRate limits.ConnRateConfig
	// BcryptSlots bounds concurrent bcrypt runs (default: number of CPUs);
	// BcryptWait is how long a login waits for a slot (default 2s).
	BcryptSlots int
	BcryptWait  time.Duration
	// MaxAuthTries failed passwords end a connection (default 3).
	MaxAuthTries int
	// MinPasswordScore is the lowest zxcvbn score (0-4) a new password may
	// have (default 3). -1 turns the check off (tests only).
	MinPasswordScore int
}

// guards are the live limiters built from Limits.
type guards struct {
	auth  *limits.AuthGuard
	conns *limits.ConnLimiter
	reg   *limits.RegLimiter
	flood *limits.Flood
	gate  *limits.Gate
	sess  limits.SessionConfig
	rate  *limits.ConnRate
	now   func() time.Time // the auth guard's clock
	wait  time.Duration
	tries atomic.Int64
	score atomic.Int64
}

func newGuards(l Limits) *guards {
	if l.BcryptWait <= 0 {
		l.BcryptWait = 2 * time.Second
	}
	if l.Auth.Now == nil {
		l.Auth.Now = time.Now
	}
	if l.MaxAuthTries <= 0 {
		l.MaxAuthTries = 3
	}
	switch {
	case l.MinPasswordScore == 0:
		l.MinPasswordScore = 3
	case l.MinPasswordScore < 0:
		l.MinPasswordScore = 0
	}
	g := &guards{
		auth:  limits.NewAuthGuard(l.Auth),
		conns: limits.NewConnLimiter(l.Conns),
		reg:   limits.NewRegLimiter(l.Reg),
		flood: limits.NewFlood(l.Flood),
		gate:  limits.NewGate(l.BcryptSlots),
		sess:  l.Session.WithDefaults(),
		rate:  limits.NewConnRate(l.ConnRate),
		now:   l.Auth.Now,
		wait:  l.BcryptWait,
	}
	g.tries.Store(int64(l.MaxAuthTries))
	g.score.Store(int64(l.MinPasswordScore))
	return g
}

// connInfo is what the server knows about one TCP connection before and
// after authentication.
type connInfo struct {
	src   netip.Prefix
	slot  *limits.Conn
	conn  net.Conn
	mu    sync.Mutex
	fails int
	// sessions counts open session channels (guarded by mu); logged
	// counts log lines about refused requests, which a client could
	// otherwise repeat at wire speed.
	sessions int
	logged   atomic.Int32

	// Before authentication (guarded by mu): when the connection was
	// accepted, its login deadline, what can send the client a banner
	// (known from the first auth request), and why its next auth attempt
	// ends it: its address is blocked (until blocked), or it used up its
	// password tries (exhausted).
	start     time.Time
	deadline  *time.Timer
	sender    bannerSender
	blocked   time.Time
	exhausted bool
}

// bannerSender is x/crypto's server connection during authentication: it
// can send the client an SSH banner, which every client shows.
type bannerSender interface{ SendAuthBanner(string) error }

// ended reports whether the connection may not try again, and closes it:
// the reason was sent with the refusal of its previous attempt.
func (ci *connInfo) ended() bool {
	ci.mu.Lock()
	end := ci.exhausted || !ci.blocked.IsZero()
	ci.mu.Unlock()
	if end {
		_ = ci.conn.Close()
	}
	return end
}

// extendDeadline moves the login deadline to d after the connection was
// accepted (a person answering registration prompts needs longer than a
// client that does nothing).
func (ci *connInfo) extendDeadline(d time.Duration) {
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if ci.deadline != nil {
		ci.deadline.Reset(time.Until(ci.start.Add(d)))
	}
}

// tell sends the client a banner now, if it has reached authentication.
func (ci *connInfo) tell(msg string) {
	ci.mu.Lock()
	b := ci.sender
	ci.mu.Unlock()
	if b != nil {
		_ = b.SendAuthBanner(msg)
	}
}

type connInfoKey struct{}

func connOf(ctx ssh.Context) *connInfo {
	ci, _ := ctx.Value(connInfoKey{}).(*connInfo)
	return ci
}

// failed counts one failed password on the connection and ends the
// connection at the limit, as OpenSSH's MaxAuthTries does.
func (s *Server) failed(ctx ssh.Context) {
	ci := connOf(ctx)
	if ci == nil {
		return
	}
	ci.mu.Lock()
	ci.fails++
	over := int64(ci.fails) >= s.guards.tries.Load() && !ci.exhausted
	if over {
		ci.exhausted = true
	}
	ci.mu.Unlock()
	if over {
		// This attempt is refused as any other (the client says
		// "Permission denied", not "connection closed"); the next one
		// ends the connection.
		s.log.Info("connection used up its password tries", "remote", ci.conn.RemoteAddr().String())
		if pendingBanner(ctx) == "" {
			leaveBanner(ctx, fmt.Sprintf("securechat: %d failed tries on this connection. Connect again to try again.\r\n", s.guards.tries.Load()))
		}
	}
}

// blockedNotice tells a client its address is blocked, why and how long.
func (s *Server) blockedNotice(until time.Time) string {
	return fmt.Sprintf("securechat: too many failed logins from your address. It is blocked until %s UTC (%s from now); connections from it are refused until then.\r\n",
		until.UTC().Format("2006-01-02 15:04:05"), until.Sub(s.guards.now()).Round(time.Second))
}

// blockSource marks the connection's address blocked until until: this
// attempt's refusal carries the reason, the next attempt ends it.
func (s *Server) blockSource(ctx ssh.Context, ci *connInfo, until time.Time) {
	ci.mu.Lock()
	ci.blocked = until
	ci.mu.Unlock()
	leaveBanner(ctx, s.blockedNotice(until))
}

// errThrottled: the login was refused by a limit, not by a wrong password.
var errThrottled = errors.New("throttled")

// checkPassword verifies a password under every guessing limit: a blocked
// source or a backed-off account is refused without running bcrypt; bcrypt
// runs only in a bounded number at once.
func (s *Server) checkPassword(ctx ssh.Context, name, password, method string) error {
	ci := connOf(ctx)
	if ci != nil {
		if ok, until := s.guards.auth.CheckSource(ci.src); !ok {
			s.log.Info("login refused: source blocked", "user", safeName(name), "remote", remote(ctx), "until", until.UTC().Format(time.RFC3339))
			s.cfg.Observer.Throttled(RuleSourceBlocked)
			s.blockSource(ctx, ci, until)
			return errThrottled
		}
	}
	exists := s.acc.Exists(name)
	if exists {
		if ok, until := s.guards.auth.CheckAccount(name); !ok {
			s.log.Info("login refused: account backing off", "user", safeName(name), "remote", remote(ctx), "until", until.UTC().Format(time.RFC3339Nano))
			s.cfg.Observer.Throttled(RuleAccountBackoff)
			s.failed(ctx)
			return errThrottled
		}
	}
	if !s.guards.gate.Acquire(ctx, s.guards.wait) {
		s.log.Warn("login refused: password checks busy", "user", safeName(name), "remote", remote(ctx))
		s.cfg.Observer.Throttled(RuleBcryptBusy)
		return errThrottled
	}
	// Look again after waiting for the gate: guesses queued behind it must
	// not run once their source has been blocked meanwhile.
	if ci != nil {
		if ok, until := s.guards.auth.CheckSource(ci.src); !ok {
			s.guards.gate.Release()
			s.blockSource(ctx, ci, until)
			return errThrottled
		}
	}
	_, err := s.acc.Verify(name, password)
	s.guards.gate.Release()
	if err != nil {
		account := ""
		if exists {
			account = name
		}
		s.log.Info("login failed", "user", safeName(name), "remote", remote(ctx), "method", method)
		s.cfg.Observer.Login(method, "failed")
		if ci != nil && s.guards.auth.Failure(ci.src, account) {
			_, until := s.guards.auth.CheckSource(ci.src)
			s.log.Warn("source blocked after failed passwords", "remote", remote(ctx), "until", until.UTC().Format(time.RFC3339))
			s.blockSource(ctx, ci, until)
			return err
		}
		s.failed(ctx)
		return err
	}
	if ci != nil {
		s.guards.auth.Success(ci.src, name)
	}
	return nil
}

// checkNewPassword is the password policy (accounts.CheckPassword) with
// this server's minimum strength.
func (s *Server) checkNewPassword(name, password string) error {
	return accounts.CheckPassword(name, password, int(s.guards.score.Load()))
}

// register creates an account under the registration limits and the bcrypt
// gate.
func (s *Server) registerUser(ctx ssh.Context, name, password string) error {
	if ci := connOf(ctx); ci != nil {
		if ok, reason := s.guards.reg.Allow(ci.src); !ok {
			s.log.Info("registration refused: limit", "user", safeName(name), "remote", remote(ctx))
			s.cfg.Observer.Throttled(RuleRegistration)
			return errors.New(reason)
		}
	}
	if !s.guards.gate.Acquire(ctx, s.guards.wait) {
		s.cfg.Observer.Throttled(RuleBcryptBusy)
		return errors.New("the server is busy; please try again in a moment")
	}
	defer s.guards.gate.Release()
	_, err := s.acc.Register(name, password)
	return err
}

// admitConn runs for every new TCP connection before any SSH byte is read:
// it refuses sources that are blocked or over their share, and arms the
// authentication deadline.
func (s *Server) admitConn(ctx ssh.Context, conn net.Conn) net.Conn {
	src, ok := limits.SourceOfNetAddr(conn.RemoteAddr())
	if !ok {
		_ = conn.Close()
		return nil
	}
	if ok, first := s.guards.rate.Allow(src); !ok {
		// Once per flood, not once per connection.
		if first {
			s.log.Info("connection refused: too many new connections from one address", "remote", conn.RemoteAddr().String())
		}
		return nil
	}
	// A blocked address gets through the key exchange (which the rate
	// above bounds) only to be told why it is refused, and for how long.
	blocked := time.Time{}
	if ok, until := s.guards.auth.CheckSource(src); !ok {
		s.log.Info("connection from a blocked address: telling it why", "remote", conn.RemoteAddr().String(), "until", until.UTC().Format(time.RFC3339))
		blocked = until
	}
	if who, _, banned := s.acc.BannedSource(src, s.cfg.Now()); banned {
		s.log.Info("connection refused: address banned", "remote", conn.RemoteAddr().String(), "ban", safeName(who))
		return nil
	}
	slot, ok := s.guards.conns.Open(src)
	if !ok {
		s.log.Info("connection refused: too many unauthenticated connections", "remote", conn.RemoteAddr().String())
		s.cfg.Observer.Throttled(RuleUnauthConns)
		return nil
	}
	ci := &connInfo{src: src, slot: slot, conn: conn, start: time.Now(), blocked: blocked}
	ctx.SetValue(connInfoKey{}, ci)
	ci.mu.Lock()
	defer ci.mu.Unlock()
	timer := time.AfterFunc(s.conf().AuthTimeout, func() {
		// ContextKeyConn is set only once authentication succeeded.
		if ctx.Value(ssh.ContextKeyConn) == nil {
			took := time.Since(ci.start).Round(time.Second)
			s.log.Info("closing connection: not authenticated in time", "remote", conn.RemoteAddr().String(), "after", took)
			ci.tell(fmt.Sprintf("securechat: the login took too long (%s) and was cut off. Connect again to try again.\r\n", took))
			_ = conn.Close()
			return
		}
		if !slot.Authenticated() {
			s.log.Info("closing connection: too many sessions from one address", "remote", conn.RemoteAddr().String())
			s.cfg.Observer.Throttled(RuleSessionsPerSource)
			_ = conn.Close()
		}
	})
	ci.deadline = timer
	// A callback, not a goroutine waiting: idle connections cost memory.
	context.AfterFunc(ctx, func() {
		timer.Stop()
		slot.Close()
		s.logConnEnd(ctx)
	})
	return &deadlineConn{Conn: conn}
}

// admitSession moves the connection to the authenticated count, refusing it
// when its source already has its share of sessions.
func (s *Server) admitSession(ctx ssh.Context) bool {
	ci := connOf(ctx)
	return ci == nil || ci.slot.Authenticated()
}

// checkFlood applies the per-user message rate to anything a user posts.
func (s *Server) checkFlood(user string) error {
	v, until := s.guards.flood.Allow(user)
	switch v {
	case limits.Allowed:
		return nil
	case limits.Muted:
		s.cfg.Observer.Throttled(RuleFloodMute)
		s.log.Warn("muted for flooding", "user", safeName(user), "until", until.UTC().Format(time.RFC3339))
		s.room.Notify(user, fmt.Sprintf("You are sending too fast and are muted until %s UTC.", until.UTC().Format("15:04:05")))
		return fmt.Errorf("you are muted for flooding until %s UTC", until.UTC().Format("15:04:05"))
	case limits.StillMuted:
		return fmt.Errorf("you are muted for flooding until %s UTC", until.UTC().Format("15:04:05"))
	}
	s.cfg.Observer.Throttled(RuleFlood)
	return errors.New("you are sending too fast: wait a moment and send it again")
}
