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
	all  []*log.Logger
}

func newLogs(w io.Writer, level, format string) (*logs, error) {
	root := log.NewWithOptions(w, log.Options{ReportTimestamp: true, TimeFormat: time.RFC3339})
	l := &logs{root: root, all: []*log.Logger{root}}
	if err := l.set(level, format); err != nil {
		return nil, err
	}
	return l, nil
}

// sub is a logger with a prefix ("ssh", "history") that follows reloads.
func (l *logs) sub(prefix string) *log.Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.root.WithPrefix(prefix)
	l.all = append(l.all, s)
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
	for _, lg := range l.all {
		lg.SetLevel(lvl)
		lg.SetFormatter(f)
	}
	return nil
}
