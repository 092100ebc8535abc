package sshapp

import (
	"time"
)

// Live are the settings a config reload may change while the server runs.
// Sessions read them when they need them: the message limit, the backlog,
// registration and the abuse limits apply at once; frame pacing and the
// queue size apply to sessions that start after the change.
type Live struct {
	AllowRegister bool
	Backlog       int
	AuthTimeout   time.Duration
	QueueSize     int
	MaxMessage    int
	FPS           int
	FrameBurst    int
	// Limits: every field but BcryptSlots and BcryptWait (fixed at start).
	Limits Limits
}

func liveOf(cfg Config) Live {
	return Live{
		AllowRegister: cfg.AllowRegister, Backlog: cfg.Backlog, AuthTimeout: cfg.AuthTimeout,
		QueueSize: cfg.QueueSize, MaxMessage: cfg.MaxMessage, FPS: cfg.FPS, FrameBurst: cfg.FrameBurst,
		Limits: cfg.Limits,
	}
}

// conf is the live settings now.
func (s *Server) conf() *Live { return s.live.Load() }

// SetLive applies reloaded settings without disconnecting anyone, and reads
// the message of the day again. Zero values take the defaults, as in New.
func (s *Server) SetLive(l Live) {
	if l.Backlog < 0 {
		l.Backlog = 0
	} else if l.Backlog == 0 {
		l.Backlog = defaultBacklog
	}
	if l.AuthTimeout <= 0 {
		l.AuthTimeout = 30 * time.Second
	}
	if l.MaxMessage <= 0 {
		l.MaxMessage = 2000
	}
	if l.FPS <= 0 {
		l.FPS = 30
	}
	s.live.Store(&l)
	s.room.SetQueueSize(l.QueueSize)
	g := s.guards
	g.auth.SetConfig(l.Limits.Auth)
	g.conns.SetConfig(l.Limits.Conns)
	g.reg.SetConfig(l.Limits.Reg)
	g.flood.SetConfig(l.Limits.Flood)
	tries := l.Limits.MaxAuthTries
	if tries <= 0 {
		tries = 3
	}
	g.tries.Store(int64(tries))
	switch score := l.Limits.MinPasswordScore; {
	case score == 0:
		g.score.Store(3)
	case score < 0:
		g.score.Store(0)
	default:
		g.score.Store(int64(score))
	}
	if err := s.reloadMOTD(); err != nil {
		s.log.Warn("reload: message of the day kept", "err", err)
	}
}

// reloadMOTD reads the message of the day file again.
func (s *Server) reloadMOTD() error {
	s.motdMu.Lock()
	defer s.motdMu.Unlock()
	return s.loadMOTD()
}
