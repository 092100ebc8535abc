package main

import (
	"strings"

	"github.com/charmbracelet/log"

	"securechat/config"
)

// reloader applies a re-read config file to the running server (SIGHUP,
// systemctl reload). What cannot change live is named in a warning and keeps
// its value; a file that does not load is rejected whole.
type reloader struct {
	cur   *config.Loaded
	logs  *logs
	log   *log.Logger
	note  notifier
	apply func(c config.Config) // applies the live settings to the server
}

func (r *reloader) reload() {
	r.note.reloading()
	defer r.note.ready("serving")
	next, err := r.cur.Reload()
	if err != nil {
		r.log.Error("reload rejected: keeping the running configuration", "err", err)
		return
	}
	var changed, restart []string
	for _, s := range config.Settings {
		if s.TOML(&r.cur.Config) == s.TOML(&next.Config) {
			continue
		}
		if s.Restart {
			restart = append(restart, s.Name)
			// Keep the running value, and say so in config terms.
			next.Sources[s.Name] = r.cur.Sources[s.Name]
			restore(s, &next.Config, &r.cur.Config)
			continue
		}
		changed = append(changed, s.Name)
	}
	if len(restart) > 0 {
		r.log.Warn("reload: these keys need a restart and keep their running values", "keys", strings.Join(restart, ","))
	}
	// Said before the log settings change, in the format and at the level
	// the operator had when asking for the reload.
	if len(changed) == 0 {
		r.log.Info("reloaded: nothing changed", "file", next.File)
	} else {
		r.log.Info("reloaded", "file", next.File, "changed", strings.Join(changed, ","))
	}
	c := next.Config
	if err := r.logs.set(c.LogLevel, c.LogFormat); err != nil {
		// Unreachable: config checks both values.
		r.log.Error("reload: log settings kept", "err", err)
	}
	r.apply(c)
	r.cur = next
}

// restore copies s's value from old into c.
func restore(s config.Setting, c, old *config.Config) {
	s.Set(c, s.Value(old))
}
