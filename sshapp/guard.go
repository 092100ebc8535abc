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
	wait  time.Duration
	tries atomic.Int64
	score atomic.Int64
}

func newGuards(l Limits) *guards {
	if l.BcryptWait <= 0 {
		l.BcryptWait = 2 * time.Second
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
	over := int64(ci.fails) >= s.guards.tries.Load()
	ci.mu.Unlock()
	if over {
		s.log.Info("closing connection: too many failed passwords", "remote", ci.conn.RemoteAddr().String())
		_ = ci.conn.Close()
	}
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
			_ = ci.conn.Close()
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
		if ok, _ := s.guards.auth.CheckSource(ci.src); !ok {
			s.guards.gate.Release()
			_ = ci.conn.Close()
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
		if ci != nil && s.guards.auth.Failure(ci.src, account) {
			s.log.Warn("source blocked after failed passwords", "remote", remote(ctx))
		}
		s.log.Info("login failed", "user", safeName(name), "remote", remote(ctx), "method", method)
		s.cfg.Observer.Login(method, "failed")
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
	if ok, _ := s.guards.auth.CheckSource(src); !ok {
		s.log.Debug("connection refused: source blocked", "remote", conn.RemoteAddr().String())
		s.cfg.Observer.Throttled(RuleSourceBlocked)
		return nil
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
	ci := &connInfo{src: src, slot: slot, conn: conn}
	ctx.SetValue(connInfoKey{}, ci)
	timer := time.AfterFunc(s.conf().AuthTimeout, func() {
		// ContextKeyConn is set only once authentication succeeded.
		if ctx.Value(ssh.ContextKeyConn) == nil {
			s.log.Info("closing connection: not authenticated in time", "remote", conn.RemoteAddr().String())
			_ = conn.Close()
			return
		}
		if !slot.Authenticated() {
			s.log.Info("closing connection: too many sessions from one address", "remote", conn.RemoteAddr().String())
			s.cfg.Observer.Throttled(RuleSessionsPerSource)
			_ = conn.Close()
		}
	})
	// A callback, not a goroutine waiting: idle connections cost memory.
	context.AfterFunc(ctx, func() {
		timer.Stop()
		slot.Close()
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
