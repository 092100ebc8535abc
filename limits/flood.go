package limits

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// FloodConfig sets the message flood limits. Zero fields take the defaults
// named in each comment.
type FloodConfig struct {
	// Burst is how many messages a user may send at once (default 5).
	Burst int
	// PerSecond is the sustained rate (default 2).
	PerSecond float64
	// Strikes is how many refused messages within StrikeWindow get a user
	// muted (default 10).
	Strikes int
	// StrikeWindow is the sliding window Strikes counts in (default 10s).
	StrikeWindow time.Duration
	// MuteFor is how long a mute lasts (default 60s).
	MuteFor time.Duration
	// MaxUsers caps how many users are tracked (default 100000).
	MaxUsers int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c FloodConfig) withDefaults() FloodConfig {
	setInt(&c.Burst, 5)
	if c.PerSecond <= 0 {
		c.PerSecond = 2
	}
	setInt(&c.Strikes, 10)
	setDur(&c.StrikeWindow, 10*time.Second)
	setDur(&c.MuteFor, 60*time.Second)
	setInt(&c.MaxUsers, 100000)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Verdict is Flood's decision on one message.
type Verdict int

const (
	// Allowed: send the message.
	Allowed Verdict = iota
	// Refused: over the rate; tell the sender it was not sent.
	Refused
	// Muted: over the rate, and this refusal started a mute.
	Muted
	// StillMuted: the sender is muted; the message is dropped.
	StillMuted
)

// String names the verdict, for logs and test failures.
func (v Verdict) String() string {
	switch v {
	case Allowed:
		return "Allowed"
	case Refused:
		return "Refused"
	case Muted:
		return "Muted"
	case StillMuted:
		return "StillMuted"
	}
	return "Verdict(?)"
}

// Flood is per-user message flood control: a token bucket per user, and a
// mute for a user who keeps sending into a refusing bucket. It tracks at most
// MaxUsers users; when full it forgets first those whose bucket is full again
// and who have no strikes or mute, then those that would get there soonest.
type Flood struct {
	cfg  FloodConfig
	fill time.Duration // time an empty bucket takes to fill

	mu    sync.Mutex
	users *table[string, *floodState]
}

type floodState struct {
	bucket     *rate.Limiter
	strikes    window
	mutedUntil time.Time
	exp        time.Time
}

func (s *floodState) expiresAt() time.Time { return s.exp }

// NewFlood returns flood control with cfg's limits; zero fields take
// defaults.
func NewFlood(cfg FloodConfig) *Flood {
	cfg = cfg.withDefaults()
	return &Flood{
		cfg:   cfg,
		fill:  fillTime(cfg),
		users: newTable[string, *floodState](cfg.MaxUsers),
	}
}

// fillTime is how long an empty bucket takes to fill.
func fillTime(cfg FloodConfig) time.Duration {
	return time.Duration(float64(cfg.Burst) / cfg.PerSecond * float64(time.Second))
}

// Allow decides one message from user. until is when the mute ends for
// Muted and StillMuted, and zero otherwise.
func (f *Flood) Allow(user string) (v Verdict, until time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.cfg.Now()
	st, found := f.users.get(user, now)
	if !found {
		st = &floodState{bucket: rate.NewLimiter(rate.Limit(f.cfg.PerSecond), f.cfg.Burst)}
		f.users.add(user, st, now)
	}
	v, until = f.decide(st, now)
	st.exp = latest(now.Add(f.fill), latest(st.strikes.last().Add(f.cfg.StrikeWindow), st.mutedUntil))
	return v, until
}

// decide is Allow for a user's state; f.mu is held.
func (f *Flood) decide(st *floodState, now time.Time) (Verdict, time.Time) {
	if now.Before(st.mutedUntil) {
		return StillMuted, st.mutedUntil
	}
	if st.bucket.AllowN(now, 1) {
		return Allowed, time.Time{}
	}
	st.strikes.prune(now, f.cfg.StrikeWindow)
	st.strikes = append(st.strikes, now)
	if len(st.strikes) >= f.cfg.Strikes {
		st.strikes = st.strikes[:0]
		st.mutedUntil = now.Add(f.cfg.MuteFor)
		return Muted, st.mutedUntil
	}
	return Refused, time.Time{}
}

// size reports how many users are tracked (for tests).
func (f *Flood) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users.len()
}
