package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Bounds on what one invocation may ask for, so that a typo cannot start an
// unbounded run.
const (
	maxSessions   = 5000
	maxRate       = 100.0 // tokens per second per sender
	maxDuration   = time.Hour
	maxLoginBench = 100000
	maxPrefixLen  = 28 // usernames are at most 32 characters: prefix + 4 digits
)

// config is what the command line asked for.
type config struct {
	addr     string
	sessions int
	senders  int
	rate     float64
	warmup   time.Duration
	duration time.Duration
	grace    time.Duration
	width    int
	height   int

	prefix    string
	setup     bool
	keySeed   string
	password  string
	perSource int

	connectTimeout     time.Duration
	connectConcurrency int
	setupTimeout       time.Duration
	loginBench         int

	stalled          int
	crowd            int
	crowdConcurrency int
	noSelf           bool
	serverPID        int
	json             bool
	emulator         string
	cpuProfile       string
}

// parseFlags reads and checks the command line.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("securechat-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "server address (loopback only)")
	fs.IntVar(&c.sessions, "sessions", 10, "chat sessions to open (one user each)")
	fs.IntVar(&c.senders, "senders", 2, "sessions that send tokens")
	fs.Float64Var(&c.rate, "rate", 0.5, "tokens per second per sender")
	fs.DurationVar(&c.warmup, "warmup", 10*time.Second, "sending before the measured period (not counted)")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "measured period; 0 skips the load run")
	fs.DurationVar(&c.grace, "grace", 5*time.Second, "wait after the measured period for late deliveries")
	fs.IntVar(&c.width, "width", 100, "terminal columns")
	fs.IntVar(&c.height, "height", 30, "terminal rows")
	fs.StringVar(&c.prefix, "prefix", "load", "usernames are PREFIX0000, PREFIX0001, …")
	fs.BoolVar(&c.setup, "setup", false, "register the users (password) and upload their keys first")
	fs.StringVar(&c.keySeed, "key-seed", "securechat-load", "seed the per-user ed25519 keys are derived from")
	fs.StringVar(&c.password, "password", defaultPassword, "password used by --setup")
	fs.IntVar(&c.perSource, "per-source", 10, "sessions per source address (127.0.0.2 … 127.0.0.254)")
	fs.DurationVar(&c.connectTimeout, "connect-timeout", 60*time.Second, "bound on opening all sessions")
	fs.IntVar(&c.connectConcurrency, "connect-concurrency", 32, "sessions being opened at once")
	fs.DurationVar(&c.setupTimeout, "setup-timeout", 10*time.Minute, "bound on --setup")
	fs.IntVar(&c.loginBench, "login-bench", 0, "do N key logins (8 at a time) and report logins/s")
	fs.IntVar(&c.stalled, "stalled", 0, "extra sessions (the users after --sessions) that open the chat and never read it")
	fs.IntVar(&c.crowd, "crowd", 0, "extra sessions (the users after --sessions and --stalled) that all connect at the start of the measured period, as after a restart")
	fs.IntVar(&c.crowdConcurrency, "crowd-concurrency", 100, "crowd sessions being opened at once (securechat refuses more than 100 unauthenticated connections by default)")
	fs.BoolVar(&c.noSelf, "no-self", false, "do not expect a sender's own screen to show its tokens (ssh-chat shows them as \"[name] text\", like its input line)")
	fs.IntVar(&c.serverPID, "server-pid", 0, "the server's PID, to report its CPU and memory from /proc")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON on stdout (the table goes to stderr)")
	fs.StringVar(&c.emulator, "emulator", emulatorGrid, "terminal model: grid (cheap) or vt10x (reference, costly)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load tool's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, c.check()
}

const usageText = `usage: securechat-load --addr 127.0.0.1:PORT [--setup] --sessions N --senders K --rate R
                       [--warmup 10s] [--duration 30s] [--server-pid PID] [--json]

Opens N chat sessions (each user PREFIXnnnn logs in with its derived key), has
K of them type unique tokens at R per second each, and reports how fast every
token reached every session's screen. --setup registers the users first;
--login-bench N measures key logins; --duration 0 skips the load run.

flags:
`

// check refuses settings that make no sense or exceed the bounds.
func (c *config) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.sessions < 1 || c.sessions > maxSessions {
		bad("--sessions %d: must be between 1 and %d", c.sessions, maxSessions)
	}
	if c.stalled < 0 || c.sessions+c.stalled > maxSessions {
		bad("--stalled %d: must be between 0 and %d minus --sessions", c.stalled, maxSessions)
	}
	if c.crowd < 0 || c.sessions+c.stalled+c.crowd > maxSessions {
		bad("--crowd %d: must be between 0 and %d minus --sessions and --stalled", c.crowd, maxSessions)
	} else if c.sessions+c.stalled+c.crowd > c.perSource*numSources {
		bad("--crowd %d: --sessions, --stalled and --crowd together at most %d with --per-source %d", c.crowd, c.perSource*numSources, c.perSource)
	}
	if c.crowdConcurrency < 1 || c.crowdConcurrency > 1000 {
		bad("--crowd-concurrency %d: must be between 1 and 1000", c.crowdConcurrency)
	}
	if c.perSource < 1 || c.perSource > 1000 {
		bad("--per-source %d: must be between 1 and 1000", c.perSource)
	} else if c.sessions > c.perSource*numSources {
		bad("--sessions %d: at most %d with --per-source %d (%d source addresses)", c.sessions, c.perSource*numSources, c.perSource, numSources)
	}
	if c.senders < 0 || c.senders > c.sessions {
		bad("--senders %d: must be between 0 and --sessions", c.senders)
	}
	if c.rate <= 0 || c.rate > maxRate {
		bad("--rate %g: must be above 0 and at most %g per second", c.rate, maxRate)
	}
	if c.warmup < 0 || c.warmup > maxDuration || c.duration < 0 || c.duration > maxDuration {
		bad("--warmup and --duration must be between 0 and %s", maxDuration)
	}
	if c.grace < 0 || c.grace > time.Minute {
		bad("--grace %s: must be between 0 and 1m", c.grace)
	}
	if c.width < 20 || c.width > 500 || c.height < 5 || c.height > 200 {
		bad("--width/--height %dx%d: must be within 20x5 and 500x200", c.width, c.height)
	}
	if err := checkPrefix(c.prefix); err != nil {
		errs = append(errs, err)
	}
	if c.connectTimeout < time.Second || c.connectTimeout > 10*time.Minute {
		bad("--connect-timeout %s: must be between 1s and 10m", c.connectTimeout)
	}
	if c.connectConcurrency < 1 || c.connectConcurrency > 256 {
		bad("--connect-concurrency %d: must be between 1 and 256", c.connectConcurrency)
	}
	if c.setupTimeout < time.Second || c.setupTimeout > time.Hour {
		bad("--setup-timeout %s: must be between 1s and 1h", c.setupTimeout)
	}
	if c.loginBench < 0 || c.loginBench > maxLoginBench {
		bad("--login-bench %d: must be between 0 and %d", c.loginBench, maxLoginBench)
	}
	if c.emulator != emulatorGrid && c.emulator != emulatorVT10x {
		bad("--emulator %q: want %s or %s", c.emulator, emulatorGrid, emulatorVT10x)
	}
	if c.serverPID < 0 {
		bad("--server-pid %d: not a PID", c.serverPID)
	}
	return errors.Join(errs...)
}

// checkPrefix accepts prefixes that make valid securechat usernames: lower
// case (the server lower-cases names), letters, digits, "_", "-" and ".",
// starting with a letter or digit.
func checkPrefix(p string) error {
	if p == "" || len(p) > maxPrefixLen {
		return fmt.Errorf("--prefix %q: must be 1 to %d characters", p, maxPrefixLen)
	}
	for i, r := range p {
		ok := 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || (i > 0 && strings.ContainsRune("_-.", r))
		if !ok {
			return fmt.Errorf("--prefix %q: only lower-case letters, digits, \"_\", \"-\" and \".\" (not first)", p)
		}
	}
	return nil
}

// userName is the account name of session (and user) i.
func (c *config) userName(i int) string { return fmt.Sprintf("%s%04d", c.prefix, i) }

// runDeadline is the hard bound on a load run: opening every session, the
// warm-up and the measured period (and a crowd still connecting after it),
// and 30 s for settling, stragglers and closing.
func (c *config) runDeadline() time.Duration {
	d := c.connectTimeout + c.warmup + c.duration + 30*time.Second
	if c.crowd > 0 {
		d += c.connectTimeout
	}
	return d
}

// screensPerToken is how many screens must show each token: every
// session's, or with --no-self every session's but the sender's.
func (c *config) screensPerToken(sessions int) int64 {
	if c.noSelf {
		return int64(max(sessions-1, 0))
	}
	return int64(sessions)
}
