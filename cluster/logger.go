package cluster

import (
	"fmt"
	"strings"
	"sync"

	"github.com/charmbracelet/log"
	"github.com/nats-io/nats-server/v2/server"
)

// natsLogger passes the embedded server's logs on and watches them for the
// one thing the server reports only there: a peer whose cluster name is not
// ours (the server closes that route and keeps retrying it forever).
type natsLogger struct {
	log        *log.Logger
	once       sync.Once
	conflicted chan struct{} // closed at the first conflict
	mu         sync.Mutex
	err        error
}

func newNATSLogger(l *log.Logger) *natsLogger {
	return &natsLogger{log: l, conflicted: make(chan struct{})}
}

func (l *natsLogger) conflict() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *natsLogger) watch(msg string) {
	// The dialling side logs the close reason; the dialled side, the
	// rejection ("cluster name %q does not match %q").
	if !strings.Contains(msg, server.ClusterNameConflict.String()) && !(strings.Contains(msg, "cluster name") && strings.Contains(msg, "does not match")) {
		return
	}
	l.mu.Lock()
	if l.err == nil {
		l.err = fmt.Errorf("cluster: a peer %w (the server said: %s)", ErrOtherCluster, msg)
	}
	l.mu.Unlock()
	l.once.Do(func() { close(l.conflicted) })
}

func (l *natsLogger) Noticef(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.watch(msg)
	l.log.Info(msg)
}

func (l *natsLogger) Warnf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.watch(msg)
	l.log.Warn(msg)
}

func (l *natsLogger) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.watch(msg)
	l.log.Error(msg)
}

// Fatalf logs only: the embedded server must never end this process.
func (l *natsLogger) Fatalf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }

func (l *natsLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }

func (l *natsLogger) Tracef(format string, v ...any) {}
