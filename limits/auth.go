package limits

import (
	"net/netip"
	"sync"
	"time"
)

// AuthConfig sets the password-guessing limits. Zero fields take the
// defaults named in each comment.
type AuthConfig struct {
	// SourceFailures is how many failed password attempts one source may
	// make within SourceWindow before it is blocked (default 5).
	SourceFailures int
	// SourceWindow is the sliding window SourceFailures counts in
	// (default 10m).
	SourceWindow time.Duration
	// SourceBlock is the length of a source's first block (default 10m);
	// each further block of the same source is twice as long as the last.
	SourceBlock time.Duration
	// SourceBlockMax caps the doubling (default 24h).
	SourceBlockMax time.Duration
	// AccountFailures is how many consecutive failures one account takes
	// before password attempts on it are slowed down (default 5).
	AccountFailures int
	// AccountBackoff is the first wait after AccountFailures failures
	// (default 1s); it doubles with each further failure.
	AccountBackoff time.Duration
	// AccountBackoffMax caps the doubling (default 10m), so an attacker can
	// slow an account's owner down but never lock them out.
	AccountBackoffMax time.Duration
	// ForgetAfter is how long a source's block count is remembered after
	// its last block ends, and an account's failure count after its last
	// failure (default 24h). A source whose count was forgotten starts
	// again at SourceBlock.
	ForgetAfter time.Duration
	// MaxSources caps how many sources are tracked (default 100000).
	MaxSources int
	// MaxAccounts caps how many accounts are tracked (default 100000).
	MaxAccounts int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c AuthConfig) withDefaults() AuthConfig {
	setInt(&c.SourceFailures, 5)
	setDur(&c.SourceWindow, 10*time.Minute)
	setDur(&c.SourceBlock, 10*time.Minute)
	setDur(&c.SourceBlockMax, 24*time.Hour)
	setInt(&c.AccountFailures, 5)
	setDur(&c.AccountBackoff, time.Second)
	setDur(&c.AccountBackoffMax, 10*time.Minute)
	setDur(&c.ForgetAfter, 24*time.Hour)
	setInt(&c.MaxSources, 100000)
	setInt(&c.MaxAccounts, 100000)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func setInt(p *int, def int) {
	if *p <= 0 {
		*p = def
	}
}

func setDur(p *time.Duration, def time.Duration) {
	if *p <= 0 {
		*p = def
	}
}

// AuthGuard limits password guessing in the style of OpenSSH's
// PerSourcePenalties: a source that fails too often in a window is blocked
// for a while, longer each time it comes back, and an account that fails too
// often in a row makes each further password attempt wait longer (but never
// for ever: its owner must be able to get back in).
//
// It tracks at most MaxSources sources and MaxAccounts accounts; when full it
// forgets expired entries first and then those that would expire soonest, so
// memory stays bounded however many addresses an attacker has.
type AuthGuard struct {
	cfg AuthConfig

	mu       sync.Mutex
	sources  *table[netip.Prefix, *sourceState]
	accounts *table[string, *accountState]
}

type sourceState struct {
	failures     window    // failures since the last block, in SourceWindow
	blockedUntil time.Time // end of the current or last block; zero if none
	repeats      int       // blocks so far, remembered ForgetAfter past blockedUntil
	exp          time.Time
}

func (s *sourceState) expiresAt() time.Time { return s.exp }

type accountState struct {
	consecutive int
	last        time.Time // the latest failure
	exp         time.Time
}

func (a *accountState) expiresAt() time.Time { return a.exp }

// NewAuthGuard returns a guard with cfg's limits; zero fields take defaults.
func NewAuthGuard(cfg AuthConfig) *AuthGuard {
	cfg = cfg.withDefaults()
	return &AuthGuard{
		cfg:      cfg,
		sources:  newTable[netip.Prefix, *sourceState](cfg.MaxSources),
		accounts: newTable[string, *accountState](cfg.MaxAccounts),
	}
}

// CheckSource reports whether src may attempt any login now. If it is
// blocked, ok is false and until is when the block ends.
func (g *AuthGuard) CheckSource(src netip.Prefix) (ok bool, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.cfg.Now()
	st, found := g.sources.get(src, now)
	if found && now.Before(st.blockedUntil) {
		return false, st.blockedUntil
	}
	return true, time.Time{}
}

// CheckAccount reports whether a password attempt on the account name may
// run now. If the account is backing off, ok is false and until is when the
// next attempt may run. Key logins never call this: a guessing attacker must
// not be able to slow down an owner who uses a key.
func (g *AuthGuard) CheckAccount(name string) (ok bool, until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.cfg.Now()
	st, found := g.accounts.get(name, now)
	if !found {
		return true, time.Time{}
	}
	if until := g.accountUntil(st); now.Before(until) {
		return false, until
	}
	return true, time.Time{}
}

// accountUntil is when the account's backoff ends (zero if it has none).
func (g *AuthGuard) accountUntil(st *accountState) time.Time {
	over := st.consecutive - g.cfg.AccountFailures
	if over < 0 {
		return time.Time{}
	}
	return st.last.Add(doubled(g.cfg.AccountBackoff, over, g.cfg.AccountBackoffMax))
}

// Failure records a failed password attempt from src. It counts for the
// source whatever the name; pass a non-empty account (the caller does so only
// for accounts that exist) to count it for that account too, so guesses at
// made-up names cannot fill the account table.
//
// blocked is true when this failure started a block of src, so the caller
// can log it once. Failures while src is already blocked are not counted:
// the caller should have refused them at CheckSource.
func (g *AuthGuard) Failure(src netip.Prefix, account string) (blocked bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.cfg.Now()
	blocked = g.sourceFailure(src, now)
	if account != "" {
		g.accountFailure(account, now)
	}
	return blocked
}

func (g *AuthGuard) sourceFailure(src netip.Prefix, now time.Time) (blocked bool) {
	st, found := g.sources.get(src, now)
	if !found {
		st = &sourceState{}
		g.sources.add(src, st, now)
	}
	if !now.Before(st.blockedUntil) {
		if st.repeats > 0 && !now.Before(st.blockedUntil.Add(g.cfg.ForgetAfter)) {
			st.repeats = 0
		}
		st.failures.prune(now, g.cfg.SourceWindow)
		st.failures = append(st.failures, now)
		if len(st.failures) >= g.cfg.SourceFailures {
			st.blockedUntil = now.Add(doubled(g.cfg.SourceBlock, st.repeats, g.cfg.SourceBlockMax))
			st.repeats++
			st.failures = st.failures[:0]
			blocked = true
		}
	}
	st.exp = st.failures.last().Add(g.cfg.SourceWindow)
	if !st.blockedUntil.IsZero() {
		st.exp = latest(st.exp, st.blockedUntil.Add(g.cfg.ForgetAfter))
	}
	return blocked
}

func (g *AuthGuard) accountFailure(name string, now time.Time) {
	st, found := g.accounts.get(name, now)
	if !found {
		st = &accountState{}
		g.accounts.add(name, st, now)
	}
	st.consecutive++
	st.last = now
	st.exp = latest(now.Add(g.cfg.ForgetAfter), g.accountUntil(st))
}

// Success records a successful login: the account's consecutive failures
// start again from zero. The source's window is left alone, so one good
// login among many guesses does not hide the guesses.
func (g *AuthGuard) Success(src netip.Prefix, account string) {
	if account == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.accounts.remove(account)
}

// sizes reports how many sources and accounts are tracked (for tests).
func (g *AuthGuard) sizes() (sources, accounts int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sources.len(), g.accounts.len()
}
