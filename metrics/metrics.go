package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"securechat/room"
	"securechat/sshapp"
)

// Sources are what the metrics read at scrape time. Each may be nil until
// Attach.
type Sources struct {
	// Room gives the room's running totals and live rooms.
	Room interface {
		Stats() room.Stats
		Rooms() []room.RoomInfo
	}
	// Counts gives the stored users, active bans and active mutes.
	Counts func() (users, bans, mutes int)
	// DataDir is the data folder; ready needs it writable.
	DataDir string
	// History reports why the history stopped acknowledging (nil: it has not).
	History func() error
}

// Metrics are the server's metrics and health.
type Metrics struct {
	reg *prometheus.Registry

	sessions [2]prometheus.Gauge // [0] interactive, [1] exec
	logins   *prometheus.CounterVec
	regs     prometheus.Counter
	throttle *prometheus.CounterVec

	appendSec prometheus.Histogram
	syncSec   prometheus.Histogram
	batch     prometheus.Histogram

	src       atomic.Pointer[Sources]
	listening atomic.Bool
}

var _ sshapp.Observer = (*Metrics)(nil)

// New makes the metrics, with build information from the binary.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	sessions := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "securechat_sessions_open", Help: "Open SSH sessions, by kind: the chat UI (interactive) or a command (exec).",
	}, []string{"kind"})
	m.sessions[0] = sessions.WithLabelValues("interactive")
	m.sessions[1] = sessions.WithLabelValues("exec")
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "securechat_logins_total", Help: "Login decisions by method and result (ok, failed, refused).",
	}, []string{"method", "result"})
	for _, method := range []string{"password", "keyboard-interactive", "publickey", "register"} {
		for _, result := range []string{"ok", "failed", "refused"} {
			m.logins.WithLabelValues(method, result)
		}
	}
	m.regs = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "securechat_registrations_total", Help: "Accounts registered.",
	})
	m.throttle = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "securechat_throttled_total", Help: "Decisions of the abuse limits that refused or slowed something, by rule.",
	}, []string{"rule"})
	for _, r := range sshapp.Rules {
		m.throttle.WithLabelValues(r)
	}
	m.appendSec = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "securechat_history_append_seconds", Help: "Time to make one batch of messages durable (write and fsync).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	m.syncSec = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "securechat_history_fsync_seconds", Help: "Time of the fsync of one batch.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "securechat_history_batch_messages", Help: "Messages per group-commit batch.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 12),
	})
	stat := func(f func(room.Stats) uint64) func() float64 {
		return func() float64 {
			s := m.src.Load()
			if s == nil || s.Room == nil {
				return 0
			}
			return float64(f(s.Room.Stats()))
		}
	}
	count := func(i int) func() float64 {
		return func() float64 {
			s := m.src.Load()
			if s == nil || s.Counts == nil {
				return 0
			}
			u, b, mu := s.Counts()
			return float64([]int{u, b, mu}[i])
		}
	}
	version, revision := build()
	m.reg.MustRegister(
		sessions, m.logins, m.regs, m.throttle, m.appendSec, m.syncSec, m.batch,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "securechat_messages_posted_total",
			Help: "Messages users posted (lines, actions, sealed messages) that were stored."}, stat(func(s room.Stats) uint64 { return s.Posted })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "securechat_messages_sealed_total",
			Help: "Sealed messages stored."}, stat(func(s room.Stats) uint64 { return s.Sealed })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "securechat_messages_delivered_total",
			Help: "Messages queued for a session: one message shown to 100 sessions counts 100."}, stat(func(s room.Stats) uint64 { return s.Delivered })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "securechat_sessions_dropped_total",
			Help: "Sessions ended because they fell behind (their queue of unread messages filled)."}, stat(func(s room.Stats) uint64 { return s.Dropped })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "securechat_users", Help: "Registered accounts."}, count(0)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "securechat_bans", Help: "Accounts under an active ban."}, count(1)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "securechat_mutes", Help: "Accounts under an active mute."}, count(2)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "securechat_rooms", Help: "Rooms with someone in them."}, func() float64 {
			s := m.src.Load()
			if s == nil || s.Room == nil {
				return 0
			}
			return float64(len(s.Room.Rooms()))
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "securechat_build_info", Help: "Always 1; the labels say which build runs.",
			ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": goVersion()}}, func() float64 { return 1 }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.GoVersion
	}
	return "unknown"
}

func build() (version, revision string) {
	version, revision = "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return version, revision
}

// Attach gives the metrics what they read at scrape time.
func (m *Metrics) Attach(s Sources) { m.src.Store(&s) }

// Listening marks the server as accepting connections (or not).
func (m *Metrics) Listening(ok bool) { m.listening.Store(ok) }

// SessionStarted implements sshapp.Observer.
func (m *Metrics) SessionStarted(exec bool) { m.sessions[b2i(exec)].Inc() }

// SessionEnded implements sshapp.Observer.
func (m *Metrics) SessionEnded(exec bool) { m.sessions[b2i(exec)].Dec() }

// Login implements sshapp.Observer.
func (m *Metrics) Login(method, result string) { m.logins.WithLabelValues(method, result).Inc() }

// Registered implements sshapp.Observer.
func (m *Metrics) Registered() { m.regs.Inc() }

// Throttled implements sshapp.Observer.
func (m *Metrics) Throttled(rule string) { m.throttle.WithLabelValues(rule).Inc() }

// HistoryBatch is history.Options.Observe.
func (m *Metrics) HistoryBatch(entries int, appendTook, syncTook time.Duration) {
	m.appendSec.Observe(appendTook.Seconds())
	m.syncSec.Observe(syncTook.Seconds())
	m.batch.Observe(float64(entries))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Ready says why the server is not ready, or nil: it must be listening, its
// data folder writable, and its history still acknowledging.
func (m *Metrics) Ready() error {
	if !m.listening.Load() {
		return errors.New("not listening")
	}
	s := m.src.Load()
	if s == nil {
		return errors.New("starting")
	}
	if s.History != nil {
		if err := s.History(); err != nil {
			return fmt.Errorf("history is not acknowledging messages: %w", err)
		}
	}
	if s.DataDir != "" {
		f, err := os.CreateTemp(s.DataDir, ".readyz-*")
		if err != nil {
			return fmt.Errorf("data folder not writable: %w", err)
		}
		name := f.Name()
		_ = f.Close()
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
	}
	return nil
}

// Handler serves /metrics, /livez and /readyz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := m.Ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// Server serves the handler on one listener.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen starts serving on addr (e.g. 127.0.0.1:9100).
func (m *Metrics) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen on %s: %w", addr, err)
	}
	s := &Server{ln: ln, srv: &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is where the server listens.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}
