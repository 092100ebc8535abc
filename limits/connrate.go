package limits

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ConnRateConfig sets the rate of new connections per source. Zero fields
// take the defaults named in each comment.
type ConnRateConfig struct {
	// Burst is how many connections a source may open at once (default 20).
	Burst int
	// PerSecond is the sustained rate after the burst (default 2).
	PerSecond float64
	// MaxSources caps how many sources are tracked (default 100000).
	MaxSources int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c ConnRateConfig) withDefaults() ConnRateConfig {
	setInt(&c.Burst, 20)
	if c.PerSecond <= 0 {
		c.PerSecond = 2
	}
	setInt(&c.MaxSources, 100000)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// ConnRate limits how fast each source may open connections: a token bucket
// per source, consulted before the server spends anything on the key
// exchange. A key exchange costs the server CPU a client can demand at
// will, so without it one address can keep a core busy with handshakes
// alone (ssh-audit's DHEat test; CVE-2002-20001).
type ConnRate struct {
	cfg  ConnRateConfig
	fill time.Duration

	mu      sync.Mutex
	sources *table[netip.Prefix, *rateState]
}

type rateState struct {
	bucket  *rate.Limiter
	refused bool // refused since the last allowed connection
	exp     time.Time
}

func (s *rateState) expiresAt() time.Time { return s.exp }

// NewConnRate returns a limiter with cfg's limits; zero fields take
// defaults.
func NewConnRate(cfg ConnRateConfig) *ConnRate {
	cfg = cfg.withDefaults()
	return &ConnRate{
		cfg:     cfg,
		fill:    time.Duration(float64(cfg.Burst) / cfg.PerSecond * float64(time.Second)),
		sources: newTable[netip.Prefix, *rateState](cfg.MaxSources),
	}
}

// Allow decides one new connection from src. first is true on the first
// refusal after an allowed connection, so a caller can log a flood once
// rather than once per connection.
func (r *ConnRate) Allow(src netip.Prefix) (ok, first bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	st, found := r.sources.get(src, now)
	if !found {
		st = &rateState{bucket: rate.NewLimiter(rate.Limit(r.cfg.PerSecond), r.cfg.Burst)}
		r.sources.add(src, st, now)
	}
	// The bucket is full again (and the entry forgettable) a burst's fill
	// time after the last connection.
	st.exp = now.Add(r.fill)
	if st.bucket.AllowN(now, 1) {
		st.refused = false
		return true, false
	}
	first = !st.refused
	st.refused = true
	return false, first
}
