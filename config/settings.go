package config

import (
	"fmt"
	"strings"
	"time"

	"securechat/limits"
)

// Config is the effective configuration of one securechat process.
type Config struct {
	Listen      string
	Data        string
	NoRegister  bool
	BcryptCost  int
	Backlog     int
	AuthTimeout time.Duration
	// RegisterTimeout is how long a person registering may take, from
	// connecting (it replaces AuthTimeout once the prompts are answered).
	RegisterTimeout time.Duration
	Queue           int
	MaxMessage      int
	FPS             int
	FrameBurst      int
	IdleTrim        time.Duration
	LogLevel        string
	LogFormat       string
	CPUProfile      string
	Pprof           string
	Metrics         string
	Admin           string
	MOTD            string
	Hostname        string

	Auth             limits.AuthConfig
	Conns            limits.ConnConfig
	Reg              limits.RegConfig
	Flood            limits.FloodConfig
	Session          limits.SessionConfig
	ConnRate         limits.ConnRateConfig
	BcryptSlots      int
	MaxAuthTries     int
	MinPasswordScore int

	// Cluster: empty, this process is the only node (see Clustered).
	ClusterName    string
	NodeName       string
	ClusterListen  string
	ClusterPeers   string
	NATS           string
	ClusterTLSCert string
	ClusterTLSKey  string
	ClusterTLSCA   string
}

// kind is the type of a setting's value.
type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindFloat
	kindDuration
)

func (k kind) String() string {
	return [...]string{"a string", "a boolean", "an integer", "a number", `a duration string like "30s"`}[k]
}

// Setting is one configuration value: its flag name (also its key in the
// file), its environment variable, help, default and allowed range.
type Setting struct {
	// Name is the flag (--Name) and the file's key.
	Name string
	// Arg names the value in usage text: ADDR, DIR, N, D, FILE.
	Arg string
	// Help says what the setting does.
	Help string
	// Group heads the setting's section in the example file.
	Group string
	// Restart is set for settings a reload cannot change.
	Restart bool

	kind  kind
	field func(c *Config) any // a pointer to the value in c
	check func(v any) error   // range or choice; nil: anything of the kind
}

// Env is the setting's environment variable.
func (s Setting) Env() string {
	return "SECURECHAT_" + strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
}

// Value is the setting's value in c.
func (s Setting) Value(c *Config) any {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *bool:
		return *p
	case *int:
		return *p
	case *float64:
		return *p
	case *time.Duration:
		return *p
	}
	panic("config: bad field type for " + s.Name)
}

// Text is the setting's value in c as a flag or environment variable takes it.
func (s Setting) Text(c *Config) string {
	switch v := s.Value(c).(type) {
	case string:
		return v
	case time.Duration:
		return formatDuration(v)
	default:
		return fmt.Sprint(v)
	}
}

// TOML is the setting's value in c as the file writes it.
func (s Setting) TOML(c *Config) string {
	switch v := s.Value(c).(type) {
	case string:
		return quote(v)
	case time.Duration:
		return quote(formatDuration(v))
	default:
		return fmt.Sprint(v)
	}
}

// formatDuration writes 10m rather than Go's 10m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func set(s Setting, c *Config, v any) {
	switch p := s.field(c).(type) {
	case *string:
		*p = v.(string)
	case *bool:
		*p = v.(bool)
	case *int:
		*p = v.(int)
	case *float64:
		*p = v.(float64)
	case *time.Duration:
		*p = v.(time.Duration)
	}
}

func intRange(lo, hi int) func(any) error {
	return func(v any) error {
		if n := v.(int); n < lo || n > hi {
			return fmt.Errorf("must be between %d and %d", lo, hi)
		}
		return nil
	}
}

func durRange(lo, hi time.Duration) func(any) error {
	return func(v any) error {
		if d := v.(time.Duration); d < lo || d > hi {
			return fmt.Errorf("must be between %s and %s", formatDuration(lo), formatDuration(hi))
		}
		return nil
	}
}

func floatRange(lo, hi float64) func(any) error {
	return func(v any) error {
		if f := v.(float64); !(f >= lo && f <= hi) {
			return fmt.Errorf("must be between %g and %g", lo, hi)
		}
		return nil
	}
}

func oneOf(choices ...string) func(any) error {
	return func(v any) error {
		for _, c := range choices {
			if v.(string) == c {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(choices, ", "))
	}
}

const (
	big    = 1_000_000
	oneDay = 24 * time.Hour
)

// Settings is every setting, in the order of --help, the example file and
// README's table.
var Settings = []Setting{
	{Name: "listen", Arg: "ADDR", Group: "Server", Restart: true, kind: kindString,
		Help:  "address to listen on",
		field: func(c *Config) any { return &c.Listen }},
	{Name: "data", Arg: "DIR", Group: "Server", Restart: true, kind: kindString,
		Help:  "data folder (host key, users, history)",
		field: func(c *Config) any { return &c.Data }},
	{Name: "hostname", Arg: "HOST", Group: "Server", Restart: true, kind: kindString,
		Help:  `the host name users type: shown in commands they copy and in hostkey's known_hosts line ("": the address each client reached)`,
		field: func(c *Config) any { return &c.Hostname }},
	{Name: "motd", Arg: "FILE", Group: "Server", Restart: true, kind: kindString,
		Help:  `file holding the message of the day, shown with the welcome; admins change it with /motd ("": DATA/motd.txt); a reload re-reads it`,
		field: func(c *Config) any { return &c.MOTD }},
	{Name: "no-register", Group: "Server", kind: kindBool,
		Help:  "refuse unknown usernames instead of registering them",
		field: func(c *Config) any { return &c.NoRegister }},
	{Name: "admin", Arg: "NAME", Group: "Server", Restart: true, kind: kindString,
		Help:  "make this existing user an admin at start",
		field: func(c *Config) any { return &c.Admin }},
	{Name: "bcrypt-cost", Arg: "N", Group: "Server", Restart: true, kind: kindInt, check: intRange(10, 14),
		Help:  "bcrypt cost for new password hashes",
		field: func(c *Config) any { return &c.BcryptCost }},
	{Name: "backlog", Arg: "N", Group: "Sessions", kind: kindInt, check: intRange(0, 10000),
		Help:  "messages shown to a joining user",
		field: func(c *Config) any { return &c.Backlog }},
	{Name: "auth-timeout", Arg: "D", Group: "Sessions", kind: kindDuration, check: durRange(time.Second, time.Hour),
		Help:  "close connections not authenticated within this time",
		field: func(c *Config) any { return &c.AuthTimeout }},
	{Name: "register-timeout", Arg: "D", Group: "Sessions", Restart: true, kind: kindDuration, check: durRange(time.Second, time.Hour),
		Help:  "time a person registering (answering the password prompts) has to finish, from connecting; at least auth-timeout",
		field: func(c *Config) any { return &c.RegisterTimeout }},
	{Name: "queue", Arg: "N", Group: "Sessions", kind: kindInt, check: intRange(16, big),
		Help:  "unread messages a session may have before it is dropped as fallen behind",
		field: func(c *Config) any { return &c.Queue }},
	{Name: "max-message", Arg: "N", Group: "Sessions", kind: kindInt, check: intRange(1, 65536),
		Help:  "longest message, in characters",
		field: func(c *Config) any { return &c.MaxMessage }},
	{Name: "fps", Arg: "N", Group: "Sessions", kind: kindInt, check: intRange(1, 120),
		Help:  "highest screen refresh rate per session",
		field: func(c *Config) any { return &c.FPS }},
	{Name: "frame-burst", Arg: "N", Group: "Sessions", kind: kindInt, check: intRange(1, 10),
		Help:  "frames a session may send back to back before they are held to --fps",
		field: func(c *Config) any { return &c.FrameBurst }},
	{Name: "idle-trim", Arg: "D", Group: "Sessions", kind: kindDuration, check: durRange(0, time.Hour),
		Help:  "once no session has started or ended for this long, return the memory connecting freed to the OS (0: never)",
		field: func(c *Config) any { return &c.IdleTrim }},
	{Name: "log-level", Arg: "LEVEL", Group: "Operations", kind: kindString, check: oneOf("debug", "info", "warn", "error"),
		Help:  "debug, info, warn or error",
		field: func(c *Config) any { return &c.LogLevel }},
	{Name: "log-format", Arg: "FORMAT", Group: "Operations", kind: kindString, check: oneOf("text", "json", "logfmt"),
		Help:  "text, json or logfmt",
		field: func(c *Config) any { return &c.LogFormat }},
	{Name: "metrics", Arg: "ADDR", Group: "Operations", Restart: true, kind: kindString,
		Help:  `serve Prometheus /metrics, /livez and /readyz on this address, e.g. 127.0.0.1:9100 ("": off)`,
		field: func(c *Config) any { return &c.Metrics }},
	{Name: "pprof", Arg: "ADDR", Group: "Operations", Restart: true, kind: kindString,
		Help:  `serve Go's profiles (net/http/pprof) on this loopback address, for benchmarks ("": off)`,
		field: func(c *Config) any { return &c.Pprof }},
	{Name: "cpuprofile", Arg: "FILE", Group: "Operations", Restart: true, kind: kindString,
		Help:  `write a CPU profile (pprof) of the whole run to this file, for benchmarks ("": off)`,
		field: func(c *Config) any { return &c.CPUProfile }},
	{Name: "limit-source-failures", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, big),
		Help:  "failed passwords from one address (IPv4, or IPv6 /64) within limit-source-window before it is blocked",
		field: func(c *Config) any { return &c.Auth.SourceFailures }},
	{Name: "limit-source-window", Arg: "D", Group: "Abuse limits", kind: kindDuration, check: durRange(time.Second, 30*oneDay),
		Help:  "window for limit-source-failures",
		field: func(c *Config) any { return &c.Auth.SourceWindow }},
	{Name: "limit-source-block", Arg: "D", Group: "Abuse limits", kind: kindDuration, check: durRange(time.Second, 30*oneDay),
		Help:  "first block of an address; doubles on each repeat",
		field: func(c *Config) any { return &c.Auth.SourceBlock }},
	{Name: "limit-source-block-max", Arg: "D", Group: "Abuse limits", kind: kindDuration, check: durRange(time.Second, 365*oneDay),
		Help:  "longest block of an address",
		field: func(c *Config) any { return &c.Auth.SourceBlockMax }},
	{Name: "limit-account-failures", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, big),
		Help:  "consecutive failed passwords on one account before it backs off",
		field: func(c *Config) any { return &c.Auth.AccountFailures }},
	{Name: "limit-account-backoff", Arg: "D", Group: "Abuse limits", kind: kindDuration, check: durRange(time.Millisecond, oneDay),
		Help:  "first account backoff; doubles per further failure",
		field: func(c *Config) any { return &c.Auth.AccountBackoff }},
	{Name: "limit-account-backoff-max", Arg: "D", Group: "Abuse limits", kind: kindDuration, check: durRange(time.Millisecond, oneDay),
		Help:  "longest account backoff",
		field: func(c *Config) any { return &c.Auth.AccountBackoffMax }},
	{Name: "limit-auth-tries", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, 100),
		Help:  "failed passwords that end a connection",
		field: func(c *Config) any { return &c.MaxAuthTries }},
	{Name: "limit-bcrypt", Arg: "N", Group: "Abuse limits", Restart: true, kind: kindInt, check: intRange(0, 1024),
		Help:  "bcrypt runs at once (0: one per CPU)",
		field: func(c *Config) any { return &c.BcryptSlots }},
	{Name: "limit-unauth-per-source", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, big),
		Help:  "unauthenticated connections per address",
		field: func(c *Config) any { return &c.Conns.MaxUnauthPerSource }},
	{Name: "limit-unauth-total", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, big),
		Help:  "unauthenticated connections in all",
		field: func(c *Config) any { return &c.Conns.MaxUnauthTotal }},
	{Name: "limit-sessions-per-source", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, big),
		Help:  "authenticated connections per address",
		field: func(c *Config) any { return &c.Conns.MaxSessionsPerSource }},
	{Name: "limit-registrations-per-source", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, big),
		Help:  "new accounts per address per limit-registrations-window",
		field: func(c *Config) any { return &c.Reg.PerSource }},
	{Name: "limit-registrations-window", Arg: "D", Group: "Abuse limits", kind: kindDuration, check: durRange(time.Second, 30*oneDay),
		Help:  "window for limit-registrations-per-source",
		field: func(c *Config) any { return &c.Reg.SourceWindow }},
	{Name: "limit-registrations-total", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, big),
		Help:  "new accounts in all per 10 minutes",
		field: func(c *Config) any { return &c.Reg.Total }},
	{Name: "limit-flood-burst", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, big),
		Help:  "messages a user may send at once",
		field: func(c *Config) any { return &c.Flood.Burst }},
	{Name: "limit-flood-rate", Arg: "R", Group: "Abuse limits", kind: kindFloat, check: floatRange(0.001, big),
		Help:  "messages per second a user may send after the burst",
		field: func(c *Config) any { return &c.Flood.PerSecond }},
	{Name: "limit-flood-strikes", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, big),
		Help:  "refused messages within 10s that mute a user",
		field: func(c *Config) any { return &c.Flood.Strikes }},
	{Name: "limit-flood-mute", Arg: "D", Group: "Abuse limits", kind: kindDuration, check: durRange(time.Second, 30*oneDay),
		Help:  "how long a flooding user is muted",
		field: func(c *Config) any { return &c.Flood.MuteFor }},
	{Name: "limit-conn-burst", Arg: "N", Group: "Abuse limits", Restart: true, kind: kindInt, check: intRange(1, big),
		Help:  "new connections one address may open at once, before the key exchange",
		field: func(c *Config) any { return &c.ConnRate.Burst }},
	{Name: "limit-conn-rate", Arg: "R", Group: "Abuse limits", Restart: true, kind: kindFloat, check: floatRange(0.001, big),
		Help:  "new connections per second one address may open after the burst",
		field: func(c *Config) any { return &c.ConnRate.PerSecond }},
	{Name: "limit-sessions-per-conn", Arg: "N", Group: "Abuse limits", Restart: true, kind: kindInt, check: intRange(1, 1000),
		Help:  "session channels open at once on one connection (OpenSSH's MaxSessions)",
		field: func(c *Config) any { return &c.Session.MaxSessionsPerConn }},
	{Name: "limit-term-cols", Arg: "N", Group: "Abuse limits", Restart: true, kind: kindInt, check: intRange(1, 4096),
		Help:  "widest terminal a client may report, in columns",
		field: func(c *Config) any { return &c.Session.MaxCols }},
	{Name: "limit-term-rows", Arg: "N", Group: "Abuse limits", Restart: true, kind: kindInt, check: intRange(1, 4096),
		Help:  "tallest terminal a client may report, in rows",
		field: func(c *Config) any { return &c.Session.MaxRows }},
	{Name: "limit-env", Arg: "N", Group: "Abuse limits", Restart: true, kind: kindInt, check: intRange(1, 1000),
		Help:  "env requests a session may make (only NO_COLOR, COLORTERM and TERM are taken)",
		field: func(c *Config) any { return &c.Session.MaxEnv }},
	{Name: "limit-env-bytes", Arg: "N", Group: "Abuse limits", Restart: true, kind: kindInt, check: intRange(16, 65536),
		Help:  "longest env request, name and value, in bytes",
		field: func(c *Config) any { return &c.Session.MaxEnvBytes }},
	{Name: "limit-exec-bytes", Arg: "N", Group: "Abuse limits", Restart: true, kind: kindInt, check: intRange(64, 1<<20),
		Help:  "longest command line (ssh HOST COMMAND), in bytes; longer text goes on standard input",
		field: func(c *Config) any { return &c.Session.MaxExecBytes }},
	{Name: "limit-input-line", Arg: "N", Group: "Abuse limits", Restart: true, kind: kindInt, check: intRange(1024, 1<<24),
		Help:  "bytes of chat input before a line end, or in one paste, before the rest is dropped; at least 4 × max-message",
		field: func(c *Config) any { return &c.Session.MaxInputLine }},
	{Name: "min-password-score", Arg: "N", Group: "Abuse limits", kind: kindInt, check: intRange(1, 4),
		Help:  "lowest zxcvbn strength (1-4) of a new password",
		field: func(c *Config) any { return &c.MinPasswordScore }},
	{Name: "cluster-name", Arg: "NAME", Group: "Cluster", Restart: true, kind: kindString,
		Help:  `run as a node of this cluster (preview; see README), recorded in the data folder ("": a single server)`,
		field: func(c *Config) any { return &c.ClusterName }},
	{Name: "node-name", Arg: "NAME", Group: "Cluster", Restart: true, kind: kindString,
		Help:  "this node's name, unique in the cluster",
		field: func(c *Config) any { return &c.NodeName }},
	{Name: "cluster-listen", Arg: "ADDR", Group: "Cluster", Restart: true, kind: kindString,
		Help:  "host:port for route connections from the other nodes",
		field: func(c *Config) any { return &c.ClusterListen }},
	{Name: "cluster-peers", Arg: "ADDRS", Group: "Cluster", Restart: true, kind: kindString,
		Help:  "the other nodes' cluster-listen addresses, comma-separated",
		field: func(c *Config) any { return &c.ClusterPeers }},
	{Name: "nats", Arg: "URLS", Group: "Cluster", Restart: true, kind: kindString,
		Help:  "use this existing NATS with JetStream (URLs, comma-separated) instead of an embedded server",
		field: func(c *Config) any { return &c.NATS }},
	{Name: "cluster-tls-cert", Arg: "FILE", Group: "Cluster", Restart: true, kind: kindString,
		Help:  "PEM certificate of this node for TLS 1.3 on routes (with cluster-tls-key and cluster-tls-ca)",
		field: func(c *Config) any { return &c.ClusterTLSCert }},
	{Name: "cluster-tls-key", Arg: "FILE", Group: "Cluster", Restart: true, kind: kindString,
		Help:  "PEM key of cluster-tls-cert",
		field: func(c *Config) any { return &c.ClusterTLSKey }},
	{Name: "cluster-tls-ca", Arg: "FILE", Group: "Cluster", Restart: true, kind: kindString,
		Help:  "PEM CA that signed every node's route certificate; only peers it signed are accepted",
		field: func(c *Config) any { return &c.ClusterTLSCA }},
}

// Defaults is the configuration with nothing set: the safe values.
func Defaults() Config {
	return Config{
		Listen:          ":8080",
		Data:            "./data",
		BcryptCost:      12,
		Backlog:         50,
		AuthTimeout:     30 * time.Second,
		RegisterTimeout: 120 * time.Second,
		Queue:           1024,
		MaxMessage:      2000,
		FPS:             30,
		FrameBurst:      4, // sshapp.DefaultFrameBurst: a quiet session's frames go out at once
		IdleTrim:        200 * time.Millisecond,
		LogLevel:        "info",
		LogFormat:       "text",
		Auth: limits.AuthConfig{
			SourceFailures: 5, SourceWindow: 10 * time.Minute, SourceBlock: 10 * time.Minute,
			SourceBlockMax: 24 * time.Hour, AccountFailures: 5, AccountBackoff: time.Second,
			AccountBackoffMax: 10 * time.Minute,
		},
		Conns:            limits.ConnConfig{MaxUnauthPerSource: 10, MaxUnauthTotal: 100, MaxSessionsPerSource: 16},
		Reg:              limits.RegConfig{PerSource: 3, SourceWindow: time.Hour, Total: 30},
		Flood:            limits.FloodConfig{Burst: 5, PerSecond: 2, Strikes: 10, MuteFor: time.Minute},
		Session:          limits.SessionConfig{}.WithDefaults(),
		ConnRate:         limits.ConnRateConfig{Burst: 20, PerSecond: 2},
		MaxAuthTries:     3,
		MinPasswordScore: 3,
	}
}

// Lookup returns the setting named name.
func Lookup(name string) (Setting, bool) {
	for _, s := range Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Set puts v, of the setting's type (string, bool, int, float64 or
// time.Duration), into c unchecked: for keeping a running value on reload.
func (s Setting) Set(c *Config, v any) { set(s, c, v) }
