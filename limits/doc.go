// Package limits holds the in-memory abuse limits the SSH layer consults
// before it spends anything on a client: per-source and per-account password
// guessing limits (AuthGuard), a bound on concurrent bcrypt runs (Gate),
// pre- and post-authentication connection counts (ConnLimiter), the rate of
// new connections per source before the key exchange (ConnRate), the rate of
// new registrations (RegLimiter), per-user message flood control (Flood), and
// the bounds on what a logged-in client may ask of a session: terminal size,
// session channels, env requests, command lines, input lines (SessionConfig).
//
// It must not know anything about SSH, sockets, the users file or chat: it
// takes addresses as netip values (see SourceOf) and names as strings, and
// answers yes or no. It imports nothing from this module.
//
// Every time window reads an injected clock (a Now func, time.Now by
// default), so a test can move ten minutes in a microsecond. Nothing here
// starts a goroutine: state expires lazily when it is next looked at.
//
// Memory is bounded. Each keyed table (sources, accounts, users) has a cap;
// when a new key would exceed it, expired entries are dropped first and, if
// that is not enough, the entries that would expire soonest, so an attacker
// who controls many addresses can make the guard forget some of its own
// sources but can never grow memory without bound. Entries that matter most
// (blocked sources, which expire last) are the last to go.
//
// All types are safe for concurrent use; each holds a single mutex.
package limits
