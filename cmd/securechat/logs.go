package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/charmbracelet/log"
)

// logs are the process's loggers: the root and one per prefix. A reload
// sets the level and format of all of them at once (charmbracelet/log's
// children are copies, not views of their parent).
type logs struct {
	root *log.Logger
	mu   sync.Mutex
	all  []leveled
}

// leveled is a logger and the least severe level it ever writes.
type leveled struct {
	lg    *log.Logger
	floor log.Level
}

func newLogs(w io.Writer, level, format string) (*logs, error) {
	root := log.NewWithOptions(w, log.Options{ReportTimestamp: true, TimeFormat: time.RFC3339})
	l := &logs{root: root, all: []leveled{{lg: root, floor: log.DebugLevel}}}
	if err := l.set(level, format); err != nil {
		return nil, err
	}
	return l, nil
}

// sub is a logger with a prefix ("ssh", "history") that follows reloads.
func (l *logs) sub(prefix string) *log.Logger {
	return l.subAtLeast(prefix, log.DebugLevel)
}

// subAtLeast is sub for a logger that never writes below floor, whatever
// --log-level says: the account store's info lines repeat what the SSH
// layer logs with the remote address, so it logs only warnings and errors.
func (l *logs) subAtLeast(prefix string, floor log.Level) *log.Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.root.WithPrefix(prefix)
	s.SetLevel(max(floor, l.root.GetLevel()))
	l.all = append(l.all, leveled{lg: s, floor: floor})
	return s
}

// set changes the level and format of every logger.
func (l *logs) set(level, format string) error {
	lvl, err := log.ParseLevel(level)
	if err != nil {
		return fmt.Errorf("--log-level %q: %w", level, err)
	}
	var f log.Formatter
	switch format {
	case "text":
		f = log.TextFormatter
	case "json":
		f = log.JSONFormatter
	case "logfmt":
		f = log.LogfmtFormatter
	default:
		return fmt.Errorf("--log-format %q: must be text, json or logfmt", format)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.all {
		x.lg.SetLevel(max(lvl, x.floor))
		x.lg.SetFormatter(f)
	}
	return nil
}
