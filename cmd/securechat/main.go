package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/charmbracelet/log"
	"github.com/gofrs/flock"

	"securechat/accounts"
	"securechat/history"
	"securechat/hostkeys"
	"securechat/sshapp"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	listen      string
	data        string
	noRegister  bool
	bcryptCost  int
	backlog     int
	authTimeout time.Duration
	queueSize   int
	maxMessage  int
	fps         int
	frameBurst  int
	logLevel    string
	cpuProfile  string
	pprofAddr   string
	publicHost  string
	admin       string
	motd        string
	lim         sshapp.Limits
	floodRate   float64
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func parse(args []string, stderr io.Writer) (options, []string, error) {
	var o options
	fs := flag.NewFlagSet("securechat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: securechat [flags]            run the server\n"+
			"       securechat [flags] hostkey    print the host key fingerprint and a known_hosts line\n"+
			"       securechat [flags] user list|add NAME|passwd NAME|del NAME|role NAME admin|user\n"+
			"                                     administer accounts while the server is stopped\n\nflags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.listen, "listen", envOr("SECURECHAT_LISTEN", ":8080"), "address to listen on (env SECURECHAT_LISTEN)")
	fs.StringVar(&o.data, "data", envOr("SECURECHAT_DATA", "./data"), "data folder (env SECURECHAT_DATA)")
	fs.BoolVar(&o.noRegister, "no-register", false, "refuse unknown usernames instead of registering them")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", accounts.DefaultCost, "bcrypt cost for new password hashes (10 to 14)")
	fs.IntVar(&o.backlog, "backlog", 50, "messages shown to a joining user")
	fs.DurationVar(&o.authTimeout, "auth-timeout", 30*time.Second, "close connections not authenticated within this time")
	fs.IntVar(&o.queueSize, "queue", 1024, "unread messages a session may have before it is dropped as fallen behind")
	fs.IntVar(&o.maxMessage, "max-message", 2000, "longest message, in characters")
	fs.IntVar(&o.fps, "fps", 30, "highest screen refresh rate per session")
	fs.IntVar(&o.frameBurst, "frame-burst", 1, "frames a session may send back to back before they are held to --fps")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the whole run to this file, for benchmarks")
	fs.StringVar(&o.pprofAddr, "pprof", "", "serve Go's profiles (net/http/pprof) on this loopback address, e.g. 127.0.0.1:6060, for benchmarks")
	fs.StringVar(&o.admin, "admin", "", "make this existing user an admin at start")
	fs.StringVar(&o.motd, "motd", "", "file holding the message of the day, shown with the welcome; admins change it with /motd (default DATA/motd.txt)")
	fs.StringVar(&o.publicHost, "hostname", "", "host name shown to users in commands to copy (default: this machine's name)")
	// Abuse limits: the defaults are the safe values; tests and load runs
	// relax them.
	l := &o.lim
	fs.IntVar(&l.Auth.SourceFailures, "limit-source-failures", 5, "failed passwords from one address (IPv4, or IPv6 /64) within --limit-source-window before it is blocked")
	fs.DurationVar(&l.Auth.SourceWindow, "limit-source-window", 10*time.Minute, "window for --limit-source-failures")
	fs.DurationVar(&l.Auth.SourceBlock, "limit-source-block", 10*time.Minute, "first block of an address; doubles on each repeat")
	fs.DurationVar(&l.Auth.SourceBlockMax, "limit-source-block-max", 24*time.Hour, "longest block of an address")
	fs.IntVar(&l.Auth.AccountFailures, "limit-account-failures", 5, "consecutive failed passwords on one account before it backs off")
	fs.DurationVar(&l.Auth.AccountBackoff, "limit-account-backoff", time.Second, "first account backoff; doubles per further failure")
	fs.DurationVar(&l.Auth.AccountBackoffMax, "limit-account-backoff-max", 10*time.Minute, "longest account backoff")
	fs.IntVar(&l.MaxAuthTries, "limit-auth-tries", 3, "failed passwords that end a connection")
	fs.IntVar(&l.BcryptSlots, "limit-bcrypt", runtime.NumCPU(), "bcrypt runs at once")
	fs.IntVar(&l.Conns.MaxUnauthPerSource, "limit-unauth-per-source", 10, "unauthenticated connections per address")
	fs.IntVar(&l.Conns.MaxUnauthTotal, "limit-unauth-total", 100, "unauthenticated connections in all")
	fs.IntVar(&l.Conns.MaxSessionsPerSource, "limit-sessions-per-source", 16, "authenticated connections per address")
	fs.IntVar(&l.Reg.PerSource, "limit-registrations-per-source", 3, "new accounts per address per --limit-registrations-window")
	fs.DurationVar(&l.Reg.SourceWindow, "limit-registrations-window", time.Hour, "window for --limit-registrations-per-source")
	fs.IntVar(&l.Reg.Total, "limit-registrations-total", 30, "new accounts in all per 10 minutes")
	fs.IntVar(&l.Flood.Burst, "limit-flood-burst", 5, "messages a user may send at once")
	fs.Float64Var(&o.floodRate, "limit-flood-rate", 2, "messages per second a user may send after the burst")
	fs.IntVar(&l.Flood.Strikes, "limit-flood-strikes", 10, "refused messages within 10s that mute a user")
	fs.DurationVar(&l.Flood.MuteFor, "limit-flood-mute", time.Minute, "how long a flooding user is muted")
	fs.IntVar(&l.MinPasswordScore, "min-password-score", 3, "lowest zxcvbn strength (1-4) of a new password")
	if err := fs.Parse(args); err != nil {
		return o, nil, err
	}
	if o.bcryptCost < 10 || o.bcryptCost > 14 {
		return o, nil, fmt.Errorf("--bcrypt-cost %d: must be between 10 and 14", o.bcryptCost)
	}
	if o.backlog < 0 || o.backlog > 10000 {
		return o, nil, fmt.Errorf("--backlog %d: must be between 0 and 10000", o.backlog)
	}
	if o.authTimeout < time.Second {
		return o, nil, fmt.Errorf("--auth-timeout %s: must be at least 1s", o.authTimeout)
	}
	if o.queueSize < 16 {
		return o, nil, fmt.Errorf("--queue %d: must be at least 16", o.queueSize)
	}
	if o.maxMessage < 1 || o.maxMessage > 65536 {
		return o, nil, fmt.Errorf("--max-message %d: must be between 1 and 65536", o.maxMessage)
	}
	if o.fps < 1 || o.fps > 120 {
		return o, nil, fmt.Errorf("--fps %d: must be between 1 and 120", o.fps)
	}
	if o.frameBurst < 1 || o.frameBurst > 10 {
		return o, nil, fmt.Errorf("--frame-burst %d: must be between 1 and 10", o.frameBurst)
	}
	o.lim.Flood.PerSecond = o.floodRate
	for name, v := range map[string]int{
		"--limit-source-failures": l.Auth.SourceFailures, "--limit-account-failures": l.Auth.AccountFailures,
		"--limit-auth-tries": l.MaxAuthTries, "--limit-bcrypt": l.BcryptSlots,
		"--limit-unauth-per-source": l.Conns.MaxUnauthPerSource, "--limit-unauth-total": l.Conns.MaxUnauthTotal,
		"--limit-sessions-per-source": l.Conns.MaxSessionsPerSource, "--limit-registrations-per-source": l.Reg.PerSource,
		"--limit-registrations-total": l.Reg.Total, "--limit-flood-burst": l.Flood.Burst, "--limit-flood-strikes": l.Flood.Strikes,
	} {
		if v < 1 {
			return o, nil, fmt.Errorf("%s %d: must be at least 1", name, v)
		}
	}
	for name, v := range map[string]time.Duration{
		"--limit-source-window": l.Auth.SourceWindow, "--limit-source-block": l.Auth.SourceBlock, "--limit-source-block-max": l.Auth.SourceBlockMax,
		"--limit-account-backoff": l.Auth.AccountBackoff, "--limit-account-backoff-max": l.Auth.AccountBackoffMax,
		"--limit-registrations-window": l.Reg.SourceWindow, "--limit-flood-mute": l.Flood.MuteFor,
	} {
		if v <= 0 {
			return o, nil, fmt.Errorf("%s %s: must be positive", name, v)
		}
	}
	if o.floodRate <= 0 {
		return o, nil, fmt.Errorf("--limit-flood-rate %v: must be positive", o.floodRate)
	}
	if l.MinPasswordScore < 1 || l.MinPasswordScore > 4 {
		return o, nil, fmt.Errorf("--min-password-score %d: must be between 1 and 4", l.MinPasswordScore)
	}
	return o, fs.Args(), nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, rest, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "securechat:", err)
		return 2
	}
	logger := log.NewWithOptions(stderr, log.Options{ReportTimestamp: true, TimeFormat: time.RFC3339})
	if lvl, err := log.ParseLevel(o.logLevel); err == nil {
		logger.SetLevel(lvl)
	} else {
		fmt.Fprintf(stderr, "securechat: --log-level %q: %v\n", o.logLevel, err)
		return 2
	}
	if len(rest) > 0 {
		switch rest[0] {
		case "hostkey":
			return hostkeyCommand(o, stdout, stderr)
		case "user":
			return userCommand(o.data, o.bcryptCost, rest[1:], os.Stdin, stdout, stderr)
		default:
			fmt.Fprintf(stderr, "securechat: unknown command %q (try --help)\n", rest[0])
			return 2
		}
	}
	if err := serve(o, logger); err != nil {
		logger.Error("securechat stopped", "err", err)
		return 1
	}
	return 0
}

// prepareData makes the data folder (0700) and takes its lock, so that only
// one process ever owns it.
func prepareData(dir string) (*flock.Flock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("data folder %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("data folder %s is not a folder", dir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("chmod data folder %s: %w", dir, err)
	}
	lock := flock.New(filepath.Join(dir, ".lock"))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock data folder %s: %w", dir, err)
	}
	if !ok {
		return nil, fmt.Errorf("data folder %s is in use by another securechat process", dir)
	}
	_ = os.Chmod(lock.Path(), 0o600)
	return lock, nil
}

func hostkeyCommand(o options, stdout, stderr io.Writer) int {
	keyPath := filepath.Join(o.data, hostkeys.FileName)
	if _, err := os.Stat(keyPath); err != nil {
		// Creating the key: hold the folder's lock so a server starting at
		// the same moment cannot make a different one.
		lock, err := prepareData(o.data)
		if err != nil {
			fmt.Fprintln(stderr, "securechat:", err)
			return 1
		}
		defer lock.Unlock()
	}
	signer, err := hostkeys.LoadOrCreate(keyPath)
	if err != nil {
		fmt.Fprintln(stderr, "securechat:", err)
		return 1
	}
	host, port, err := net.SplitHostPort(o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "securechat: --listen %q: %v\n", o.listen, err)
		return 2
	}
	if host == "" || net.ParseIP(host).IsUnspecified() {
		host = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	if _, err := strconv.Atoi(port); err != nil {
		fmt.Fprintf(stderr, "securechat: --listen %q: bad port\n", o.listen)
		return 2
	}
	line, err := hostkeys.KnownHostsLine(net.JoinHostPort(host, port), signer.PublicKey())
	if err != nil {
		fmt.Fprintln(stderr, "securechat:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s (ED25519)\n", hostkeys.Fingerprint(signer.PublicKey()), host)
	fmt.Fprintln(stdout, line)
	return 0
}

func serve(o options, logger *log.Logger) error {
	lock, err := prepareData(o.data)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if o.pprofAddr != "" {
		if err := servePprof(o.pprofAddr, logger); err != nil {
			return err
		}
	}

	signer, err := hostkeys.LoadOrCreate(filepath.Join(o.data, hostkeys.FileName))
	if err != nil {
		return err
	}
	users, err := accounts.Open(filepath.Join(o.data, "users.json"), accounts.Options{
		Cost: o.bcryptCost, Logger: logger.WithPrefix("accounts"),
	})
	if err != nil {
		return err
	}
	if o.admin != "" {
		name := accounts.Normalize(o.admin)
		if !users.Exists(name) {
			return fmt.Errorf("--admin %s: no such user; register it first, or use: securechat user add %s", o.admin, name)
		}
		if err := users.SetRole(name, accounts.RoleAdmin); err != nil {
			return fmt.Errorf("--admin %s: %w", o.admin, err)
		}
		logger.Info("admin", "user", name)
	}
	hist, err := history.Open(filepath.Join(o.data, "message_history.jsonl"), history.Options{
		Logger: logger.WithPrefix("history"),
	})
	if err != nil {
		return err
	}
	defer hist.Close()

	srv, err := sshapp.New(sshapp.Config{
		Addr:          o.listen,
		HostSigner:    signer,
		AllowRegister: !o.noRegister,
		Backlog:       o.backlog,
		AuthTimeout:   o.authTimeout,
		QueueSize:     o.queueSize,
		MaxMessage:    o.maxMessage,
		FPS:           o.fps,
		FrameBurst:    o.frameBurst,
		PublicHost:    o.publicHost,
		MOTDPath:      motdPath(o),
		TopicsPath:    filepath.Join(o.data, "topics.json"),
		Limits:        o.lim,
		Logger:        logger.WithPrefix("ssh"),
	}, sshapp.Deps{Accounts: users, History: hist})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	logger.Info("securechat listening", "addr", l.Addr().String(), "data", o.data, "hostkey", srv.Fingerprint())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(l) }()

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-serveErr:
		srv.Close()
		return err
	case sig := <-sigs:
		logger.Info("shutting down", "signal", sig.String())
	}
	go func() {
		<-sigs
		logger.Warn("second signal: exiting at once")
		os.Exit(1)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("shutdown", "err", err)
	}
	srv.Close()
	<-serveErr
	if err := hist.Close(); err != nil {
		return fmt.Errorf("close history: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func motdPath(o options) string {
	if o.motd != "" {
		return o.motd
	}
	return filepath.Join(o.data, "motd.txt")
}
