package limits

import "golang.org/x/time/rate"

// The SetConfig methods change a limiter's limits while it runs (a config
// reload). What the limiter remembers (failures, blocks, open connections,
// buckets) is kept and judged by the new limits from the next decision on.
// The clock and the table sizes stay as they were made.

// SetConfig changes the guard's limits; zero fields take the defaults.
func (g *AuthGuard) SetConfig(cfg AuthConfig) {
	g.mu.Lock()
	defer g.mu.Unlock()
	cfg.Now, cfg.MaxSources, cfg.MaxAccounts = g.cfg.Now, g.cfg.MaxSources, g.cfg.MaxAccounts
	g.cfg = cfg.withDefaults()
}

// SetConfig changes the connection limits; connections already over a new,
// lower limit stay open, and new ones wait until the count is under it.
func (l *ConnLimiter) SetConfig(cfg ConnConfig) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg.withDefaults()
}

// SetConfig changes the registration limits.
func (r *RegLimiter) SetConfig(cfg RegConfig) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg.Now, cfg.MaxSources = r.cfg.Now, r.cfg.MaxSources
	r.cfg = cfg.withDefaults()
}

// SetConfig changes the flood limits, every tracked user's bucket included.
func (f *Flood) SetConfig(cfg FloodConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg.Now, cfg.MaxUsers = f.cfg.Now, f.cfg.MaxUsers
	f.cfg = cfg.withDefaults()
	f.fill = fillTime(f.cfg)
	now := f.cfg.Now()
	for _, st := range f.users.m {
		st.bucket.SetLimitAt(now, rate.Limit(f.cfg.PerSecond))
		st.bucket.SetBurstAt(now, f.cfg.Burst)
	}
}
