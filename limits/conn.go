package limits

import (
	"net/netip"
	"sync"
)

// ConnConfig sets the connection limits. Zero fields take the defaults named
// in each comment.
type ConnConfig struct {
	// MaxUnauthPerSource caps connections from one source that have not
	// authenticated yet (default 10).
	MaxUnauthPerSource int
	// MaxUnauthTotal caps unauthenticated connections overall (default 100),
	// OpenSSH's MaxStartups: the server's pre-auth work stays bounded.
	MaxUnauthTotal int
	// MaxSessionsPerSource caps authenticated connections from one source
	// (default 16).
	MaxSessionsPerSource int
}

func (c ConnConfig) withDefaults() ConnConfig {
	setInt(&c.MaxUnauthPerSource, 10)
	setInt(&c.MaxUnauthTotal, 100)
	setInt(&c.MaxSessionsPerSource, 16)
	return c
}

// ConnLimiter counts open connections, unauthenticated and authenticated, per
// source and in total. It only tracks connections that are open, so its
// memory is bounded by the limits themselves.
type ConnLimiter struct {
	cfg ConnConfig

	mu          sync.Mutex
	unauth      map[netip.Prefix]int
	unauthTotal int
	authed      map[netip.Prefix]int
}

// NewConnLimiter returns a limiter with cfg's limits; zero fields take
// defaults.
func NewConnLimiter(cfg ConnConfig) *ConnLimiter {
	return &ConnLimiter{
		cfg:    cfg.withDefaults(),
		unauth: make(map[netip.Prefix]int),
		authed: make(map[netip.Prefix]int),
	}
}

type connState int

const (
	connUnauth connState = iota
	connAuthed
	connClosed
)

// Conn is one connection's place in a ConnLimiter's counts. Its methods are
// safe for concurrent use.
type Conn struct {
	l     *ConnLimiter
	src   netip.Prefix
	state connState // guarded by l.mu
}

// Open registers a new unauthenticated connection from src. ok is false (and
// the caller should close the connection at once) if src or the server
// already has as many unauthenticated connections as allowed.
func (l *ConnLimiter) Open(src netip.Prefix) (c *Conn, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unauthTotal >= l.cfg.MaxUnauthTotal || l.unauth[src] >= l.cfg.MaxUnauthPerSource {
		return nil, false
	}
	l.unauth[src]++
	l.unauthTotal++
	return &Conn{l: l, src: src}, true
}

// Counts reports how many unauthenticated connections are open.
func (l *ConnLimiter) Counts() (unauthTotal int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.unauthTotal
}

// sourceCounts reports src's open connections (for tests).
func (l *ConnLimiter) sourceCounts(src netip.Prefix) (unauth, authed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.unauth[src], l.authed[src]
}

// Source is the source the connection was opened from.
func (c *Conn) Source() netip.Prefix { return c.src }

// Authenticated moves the connection from the unauthenticated counts to its
// source's authenticated count. It returns false if that source already has
// MaxSessionsPerSource authenticated connections (the connection stays
// counted as unauthenticated and the caller should close it) or if the
// connection was closed. Calling it again after it succeeded returns true.
func (c *Conn) Authenticated() bool {
	l := c.l
	l.mu.Lock()
	defer l.mu.Unlock()
	switch c.state {
	case connAuthed:
		return true
	case connClosed:
		return false
	}
	if l.authed[c.src] >= l.cfg.MaxSessionsPerSource {
		return false
	}
	l.releaseUnauth(c.src)
	l.authed[c.src]++
	c.state = connAuthed
	return true
}

// Close releases whichever count the connection holds. Calling it again does
// nothing.
func (c *Conn) Close() {
	l := c.l
	l.mu.Lock()
	defer l.mu.Unlock()
	switch c.state {
	case connUnauth:
		l.releaseUnauth(c.src)
	case connAuthed:
		if l.authed[c.src]--; l.authed[c.src] <= 0 {
			delete(l.authed, c.src)
		}
	}
	c.state = connClosed
}

// releaseUnauth drops one unauthenticated connection of src; l.mu is held.
func (l *ConnLimiter) releaseUnauth(src netip.Prefix) {
	l.unauthTotal--
	if l.unauth[src]--; l.unauth[src] <= 0 {
		delete(l.unauth, src)
	}
}
