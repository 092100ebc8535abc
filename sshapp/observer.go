package sshapp

// Observer is told what the server does, for metrics. Its methods run on
// login and session paths (never per delivered message) and must not block.
// The values passed are fixed words, never a user's name or address.
type Observer interface {
	// SessionStarted and SessionEnded bracket each session: exec for a
	// command, otherwise the chat UI.
	SessionStarted(exec bool)
	SessionEnded(exec bool)
	// Login is one login decision. method is "password",
	// "keyboard-interactive", "publickey" or "register"; result is "ok",
	// "failed" (wrong password) or "refused" (a banned account); a refusal
	// by an abuse limit is counted by Throttled instead.
	Login(method, result string)
	// Registered counts a new account.
	Registered()
	// Throttled counts one decision of an abuse limit; rule names the limit.
	Throttled(rule string)
}

// Throttling rules passed to Observer.Throttled.
const (
	RuleSourceBlocked     = "source-blocked"
	RuleAccountBackoff    = "account-backoff"
	RuleBcryptBusy        = "bcrypt-busy"
	RuleRegistration      = "registration"
	RuleUnauthConns       = "unauth-connections"
	RuleSessionsPerSource = "sessions-per-source"
	RuleFlood             = "flood"
	RuleFloodMute         = "flood-mute"
)

// Rules is every rule Observer.Throttled is passed, so metrics can show
// each at zero.
var Rules = []string{RuleSourceBlocked, RuleAccountBackoff, RuleBcryptBusy, RuleRegistration,
	RuleUnauthConns, RuleSessionsPerSource, RuleFlood, RuleFloodMute}

type nopObserver struct{}

func (nopObserver) SessionStarted(bool)  {}
func (nopObserver) SessionEnded(bool)    {}
func (nopObserver) Login(string, string) {}
func (nopObserver) Registered()          {}
func (nopObserver) Throttled(string)     {}
