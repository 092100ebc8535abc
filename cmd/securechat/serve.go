package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/charmbracelet/log"

	"securechat/accounts"
	"securechat/backup"
	"securechat/config"
	"securechat/history"
	"securechat/hostkeys"
	"securechat/metrics"
	"securechat/sshapp"
)

// limitsOf turns the configuration's abuse limits into the server's.
func limitsOf(c config.Config) sshapp.Limits {
	return sshapp.Limits{
		Auth:             c.Auth,
		Conns:            c.Conns,
		Reg:              c.Reg,
		Flood:            c.Flood,
		Session:          c.Session,
		ConnRate:         c.ConnRate,
		BcryptSlots:      c.BcryptSlots,
		MaxAuthTries:     c.MaxAuthTries,
		MinPasswordScore: c.MinPasswordScore,
	}
}

// liveOf is what a reload changes in the running server.
func liveOf(c config.Config) sshapp.Live {
	return sshapp.Live{
		AllowRegister: !c.NoRegister,
		Backlog:       c.Backlog,
		AuthTimeout:   c.AuthTimeout,
		QueueSize:     c.Queue,
		MaxMessage:    c.MaxMessage,
		FPS:           c.FPS,
		FrameBurst:    c.FrameBurst,
		Limits:        limitsOf(c),
	}
}

func serve(loaded *config.Loaded, logs *logs) error {
	o := loaded.Config
	logger := logs.root
	// Take the port first: a start that cannot have it (in use) fails
	// before making anything. Any later failure before serving removes what
	// this start made in the data folder (startstate.go).
	l, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Listen, err)
	}
	serving := false
	defer func() {
		if !serving {
			l.Close()
		}
	}()
	before := recordDataFolder(o.Data)
	lock, saved, err := prepareData(o.Data)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	defer func() {
		if !serving {
			if err := before.undo(); err != nil {
				logger.Warn("start failed; could not remove what it made", "err", err)
			}
		}
	}()
	if saved != "" {
		logger.Warn("data folder upgraded to the current format; the old one is backed up", "format", backup.CurrentFormat, "backup", saved)
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if o.Pprof != "" {
		if err := servePprof(o.Pprof, logger); err != nil {
			return err
		}
	}

	signer, err := hostkeys.LoadOrCreate(filepath.Join(o.Data, hostkeys.FileName))
	if err != nil {
		return err
	}
	users, err := accounts.Open(filepath.Join(o.Data, "users.json"), accounts.Options{
		Cost: o.BcryptCost, Logger: logs.subAtLeast("accounts", log.WarnLevel),
	})
	if err != nil {
		return err
	}
	if o.Admin != "" {
		name := accounts.Normalize(o.Admin)
		if !users.Exists(name) {
			return fmt.Errorf("--admin %s: no such user; register it first, or use: securechat user add %s", o.Admin, name)
		}
		if err := users.SetRole(name, accounts.RoleAdmin); err != nil {
			return fmt.Errorf("--admin %s: %w", o.Admin, err)
		}
		logger.Info("admin", "user", name)
	}
	var obs sshapp.Observer
	histOpts := history.Options{Logger: logs.sub("history")}
	var mets *metrics.Metrics
	if o.Metrics != "" {
		mets = metrics.New()
		obs = mets
		histOpts.Observe = mets.HistoryBatch
	}
	hist, err := openHistory(o, histOpts, logger)
	if err != nil {
		return err
	}
	defer hist.Close()

	srv, err := sshapp.New(sshapp.Config{
		Addr:            o.Listen,
		HostSigner:      signer,
		AllowRegister:   !o.NoRegister,
		Backlog:         o.Backlog,
		AuthTimeout:     o.AuthTimeout,
		RegisterTimeout: o.RegisterTimeout,
		QueueSize:       o.Queue,
		MaxMessage:      o.MaxMessage,
		FPS:             o.FPS,
		FrameBurst:      o.FrameBurst,
		IdleTrim:        o.IdleTrim,
		PublicHost:      o.Hostname,
		MOTDPath:        motdPath(o),
		TopicsPath:      filepath.Join(o.Data, "topics.json"),
		Limits:          limitsOf(o),
		Logger:          logs.sub("ssh"),
		Observer:        obs,
		Backup: func(w io.Writer, zip bool) error {
			_, err := backup.Write(w, o.Data, hist.Size(), zip)
			return err
		},
	}, depsFor(users, hist))
	if err != nil {
		return err
	}
	runPresence(hist, srv, logger)
	if mets != nil {
		mets.Attach(metrics.Sources{Room: srv.Room(), Counts: countsOf(users), DataDir: o.Data, History: hist.Err})
		ms, err := mets.Listen(o.Metrics)
		if err != nil {
			return err
		}
		defer ms.Close()
		logger.Info("metrics", "url", "http://"+ms.Addr()+"/metrics")
	}
	serving = true
	logger.Info("securechat listening", "addr", l.Addr().String(), "data", o.Data, "hostkey", srv.Fingerprint())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(l) }()
	if mets != nil {
		mets.Listening(true)
	}

	note := notifier{log: logger}
	rl := &reloader{cur: loaded, logs: logs, log: logger, note: note, apply: func(c config.Config) { srv.SetLive(liveOf(c)) }}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	note.ready("serving")
	wdCtx, stopWatchdog := context.WithCancel(context.Background())
	defer stopWatchdog()
	note.watchdog(wdCtx, func() error { return alive(srv) })
wait:
	for {
		select {
		case err := <-serveErr:
			note.stopping()
			srv.Close()
			return err
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				rl.reload()
				continue
			}
			logger.Info("shutting down", "signal", sig.String())
			break wait
		}
	}
	stopWatchdog()
	note.stopping()
	if mets != nil {
		mets.Listening(false)
	}
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGHUP {
				logger.Warn("second signal: exiting at once")
				os.Exit(1)
			}
		}
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

func motdPath(o config.Config) string {
	if o.MOTD != "" {
		return o.MOTD
	}
	return filepath.Join(o.Data, "motd.txt")
}

// alive reports whether the server's core still answers: the room's lock is
// free within a second. The watchdog pings only while it is.
func alive(srv *sshapp.Server) error {
	done := make(chan struct{})
	go func() {
		srv.Room().Rooms()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(time.Second):
		return errors.New("the room did not answer within 1s")
	}
}

// countsOf counts users, active bans and active mutes for the metrics, at
// scrape time.
func countsOf(users *accounts.Store) func() (int, int, int) {
	return func() (int, int, int) {
		now := time.Now()
		all := users.List()
		mutes := 0
		for _, u := range all {
			if u.MutedUntil.After(now) {
				mutes++
			}
		}
		return len(all), len(users.Bans(now)), mutes
	}
}
