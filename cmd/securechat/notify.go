package main

import (
	"context"
	"time"

	"github.com/charmbracelet/log"
	"github.com/coreos/go-systemd/v22/daemon"
)

// notifier tells systemd (Type=notify) what the server is doing, through
// $NOTIFY_SOCKET; without that variable every call does nothing.
type notifier struct {
	log *log.Logger
}

func (n notifier) send(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.log.Warn("sd_notify", "state", state, "err", err)
	}
}

// ready: listening and serving; also the end of a reload.
func (n notifier) ready(status string) {
	n.send(daemon.SdNotifyReady + "\nSTATUS=" + status)
}

// reloading: a reload has started. systemd wants the monotonic time with it.
func (n notifier) reloading() {
	n.send(daemon.SdNotifyReloading + "\n" + daemon.SdNotifyMonotonicUsec() + "STATUS=reloading")
}

// stopping: the shutdown has begun.
func (n notifier) stopping() {
	n.send(daemon.SdNotifyStopping + "\nSTATUS=stopping")
}

// watchdog pings systemd at half the unit's WatchdogSec until ctx ends, as
// long as healthy says the server still works: a server that stops
// answering, or whose history stopped acknowledging, is restarted.
func (n notifier) watchdog(ctx context.Context, healthy func() error) {
	every, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Warn("watchdog", "err", err)
		return
	}
	if every <= 0 {
		return
	}
	n.log.Info("watchdog", "interval", every.String())
	t := time.NewTicker(every / 2)
	go func() {
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := healthy(); err != nil {
					n.log.Error("watchdog: not pinging", "err", err)
					continue
				}
				n.send(daemon.SdNotifyWatchdog)
			}
		}
	}()
}
