package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"
)

// Exit statuses: 0 the run completed and every token reached every screen
// in order; 1 the run could not be done; 2 bad usage; 3 the run completed
// but deliveries were missing or out of order, or setup failed for a user.
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitShortfall = 3
)

// run is the whole command; main only exits with its status.
func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "securechat-load:", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t, err := resolveLoopback(ctx, cfg.addr)
	if err != nil {
		fmt.Fprintln(stderr, "securechat-load:", err)
		return exitUsage
	}
	if cfg.serverPID > 0 {
		if _, err := readProc(cfg.serverPID); err != nil {
			fmt.Fprintf(stderr, "securechat-load: --server-pid %d: %v\n", cfg.serverPID, err)
			return exitUsage
		}
	}
	if cfg.cpuProfile != "" {
		stopProfile, err := startCPUProfile(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "securechat-load:", err)
			return exitUsage
		}
		defer stopProfile()
	}
	prog := newProgress(stderr)
	rep, runErr := execute(ctx, &cfg, t, prog)
	if cfg.json {
		rep.writeTable(stderr)
		if err := rep.writeJSON(stdout); err != nil {
			fmt.Fprintln(stderr, "securechat-load:", err)
			return exitError
		}
	} else {
		rep.writeTable(stdout)
	}
	switch {
	case runErr != nil:
		fmt.Fprintln(stderr, "securechat-load:", runErr)
		return exitError
	case rep.shortfall():
		return exitShortfall
	}
	return exitOK
}

// execute runs the phases asked for, in order: setup, login bench, load
// run. It returns whatever was measured, even when a phase fails.
func execute(ctx context.Context, cfg *config, t target, prog *progress) (*report, error) {
	rep := &report{Target: t.String()}
	d := &dialer{t: t, pin: &hostKeyPin{}, per: cfg.perSource, tout: min(cfg.connectTimeout, 30*time.Second)}
	if t.ip.To4() == nil {
		prog.printf("IPv6 target: all connections come from ::1, so the server's per-source limits apply to all of them")
	}
	if cfg.setup {
		rep.Setup = runSetup(ctx, cfg, d, prog)
	}
	if cfg.loginBench > 0 {
		prog.printf("login bench: %d key logins, %d at a time", cfg.loginBench, loginConcurrency)
		bctx, cancel := context.WithTimeout(ctx, cfg.connectTimeout)
		rep.LoginBench = keyLogins(bctx, d, cfg.loginBench, func(i int) string { return cfg.userName(i % cfg.sessions) }, cfg.signerFor)
		cancel()
	}
	if cfg.duration > 0 {
		var err error
		rep.Run, err = runLoad(ctx, cfg, d, prog)
		if err != nil {
			rep.Errors = append(rep.Errors, err.Error())
			return rep, err
		}
	}
	return rep, ctx.Err()
}

// shortfall reports whether anything was lost: a user not set up, a login
// that failed, a delivery missing or out of order, a session lost.
func (r *report) shortfall() bool {
	if s := r.Setup; s != nil && (s.Failed > 0 || (s.KeyLogins != nil && s.KeyLogins.Failed > 0)) {
		return true
	}
	if b := r.LoginBench; b != nil && b.Failed > 0 {
		return true
	}
	if x := r.Run; x != nil {
		crowdFailed := x.Crowd != nil && x.Crowd.Failed > 0
		return x.Delivered < x.Expected || x.OrderViolations > 0 || x.SessionsLost > 0 || x.Connect.Failed > 0 || crowdFailed
	}
	return false
}

// startCPUProfile profiles the load tool itself into path, to see where its
// own CPU goes under a heavy workload.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
