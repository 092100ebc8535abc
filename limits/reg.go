package limits

import (
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// RegConfig sets the registration limits. Zero fields take the defaults
// named in each comment.
type RegConfig struct {
	// PerSource is how many accounts one source may create per
	// SourceWindow (default 3).
	PerSource int
	// SourceWindow is the sliding window PerSource counts in (default 1h).
	SourceWindow time.Duration
	// Total is how many accounts everyone together may create per
	// TotalWindow (default 30), so many addresses cannot fill the users
	// file quickly either.
	Total int
	// TotalWindow is the sliding window Total counts in (default 10m).
	TotalWindow time.Duration
	// MaxSources caps how many sources are tracked (default 100000).
	MaxSources int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c RegConfig) withDefaults() RegConfig {
	setInt(&c.PerSource, 3)
	setDur(&c.SourceWindow, time.Hour)
	setInt(&c.Total, 30)
	setDur(&c.TotalWindow, 10*time.Minute)
	setInt(&c.MaxSources, 100000)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// RegLimiter limits how fast new accounts are created, per source and in
// total, in sliding windows. It tracks at most MaxSources sources; when full
// it forgets expired sources first, then those whose window ends soonest.
type RegLimiter struct {
	cfg RegConfig

	mu      sync.Mutex
	sources *table[netip.Prefix, *regState]
	total   window
}

type regState struct {
	times window
	exp   time.Time
}

func (r *regState) expiresAt() time.Time { return r.exp }

// NewRegLimiter returns a limiter with cfg's limits; zero fields take
// defaults.
func NewRegLimiter(cfg RegConfig) *RegLimiter {
	cfg = cfg.withDefaults()
	return &RegLimiter{cfg: cfg, sources: newTable[netip.Prefix, *regState](cfg.MaxSources)}
}

// Allow checks whether src may create an account now and, if so, records
// that it did. When refused, reason says why and when to try again in plain
// words fit to show the user.
func (r *RegLimiter) Allow(src netip.Prefix) (ok bool, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	st, found := r.sources.get(src, now)
	if found {
		st.times.prune(now, r.cfg.SourceWindow)
		if len(st.times) >= r.cfg.PerSource {
			wait := st.times[0].Add(r.cfg.SourceWindow).Sub(now)
			return false, "too many new accounts from your address; try again in " + waitWords(wait)
		}
	}
	r.total.prune(now, r.cfg.TotalWindow)
	if len(r.total) >= r.cfg.Total {
		wait := r.total[0].Add(r.cfg.TotalWindow).Sub(now)
		return false, "too many new accounts are being created right now; try again in " + waitWords(wait)
	}
	if !found {
		st = &regState{}
		r.sources.add(src, st, now)
	}
	st.times = append(st.times, now)
	st.exp = now.Add(r.cfg.SourceWindow)
	r.total = append(r.total, now)
	return true, ""
}

// waitWords says d in the largest whole unit that reads naturally, rounded
// up so the user is never told to come back too early.
func waitWords(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	ceil := func(d, unit time.Duration) int64 { return int64((d + unit - 1) / unit) }
	if secs := ceil(d, time.Second); secs < 60 {
		return plural(max(secs, 1), "second")
	}
	if mins := ceil(d, time.Minute); mins <= 120 {
		return plural(mins, "minute")
	}
	return plural(ceil(d, time.Hour), "hour")
}
