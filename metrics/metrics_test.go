package metrics

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
	"securechat/history"
	"securechat/hostkeys"
	"securechat/sshapp"
)

// failSync makes the history's fsyncs fail on demand, as a dying disk does.
type failSync struct {
	mu  sync.Mutex
	err error
}

func (f *failSync) set(err error) { f.mu.Lock(); f.err = err; f.mu.Unlock() }
func (f *failSync) get() error    { f.mu.Lock(); defer f.mu.Unlock(); return f.err }

type rig struct {
	addr    string // SSH
	metrics string // HTTP
}

// startRig runs the real server on 127.0.0.1:0 with metrics on another
// loopback port, on stores in a temp folder whose history fsync can fail.
func startRig(t *testing.T, faults *failSync) rig {
	t.Helper()
	dir := t.TempDir()
	signer, err := hostkeys.LoadOrCreate(filepath.Join(dir, hostkeys.FileName))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := accounts.Open(filepath.Join(dir, "users.json"), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	m := New()
	hist, err := history.Open(filepath.Join(dir, "message_history.jsonl"), history.Options{
		Observe: m.HistoryBatch,
		SyncHook: func(f *os.File) error {
			if err := faults.get(); err != nil {
				return err
			}
			return f.Sync()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sshapp.New(sshapp.Config{
		HostSigner: signer, AllowRegister: true, Observer: m,
		Limits: sshapp.Limits{MinPasswordScore: -1},
	}, sshapp.Deps{Accounts: acc, History: hist})
	if err != nil {
		t.Fatal(err)
	}
	m.Attach(Sources{Room: srv.Room(), DataDir: dir, History: hist.Err, Counts: func() (int, int, int) {
		return len(acc.List()), len(acc.Bans(time.Now())), 0
	}})
	ms, err := m.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = srv.Serve(ln); close(done) }()
	m.Listening(true)
	t.Cleanup(func() {
		srv.Close()
		<-done
		ms.Close()
		hist.Close()
	})
	return rig{addr: ln.Addr().String(), metrics: ms.Addr()}
}

func login(t *testing.T, addr, user, pw string) *gossh.Client {
	t.Helper()
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: user, Auth: []gossh.AuthMethod{gossh.Password(pw)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c *gossh.Client, text string) error {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return s.Run("send " + text)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape reads /metrics and parses it as Prometheus does.
func scrape(t *testing.T, r rig) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + r.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the value of the family's sample whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == want[i] && l.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func waitMetric(t *testing.T, r rig, what string, ok func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := scrape(t, r)
		if ok(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// After real logins and messages the scraped metrics count them, and no
// label carries a username or an address.
func TestMetricsAfterRealTraffic(t *testing.T) {
	r := startRig(t, &failSync{})
	alice := login(t, r.addr, "alice", "violet stapler orbit 1")
	bob := login(t, r.addr, "bob", "copper lantern drift 7")
	if _, err := gossh.Dial("tcp", r.addr, &gossh.ClientConfig{
		User: "alice", Auth: []gossh.AuthMethod{gossh.Password("wrong-password")},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	}); err == nil {
		t.Fatal("a wrong password logged in")
	}
	// bob watches the room in the chat UI.
	ui, err := bob.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	ui.Stdout, ui.Stderr = io.Discard, io.Discard
	if err := ui.RequestPty("xterm", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := ui.Shell(); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, r, "bob's UI session", func(f map[string]*dto.MetricFamily) bool {
		return value(f, "securechat_sessions_open", "kind", "interactive") == 1
	})
	for _, text := range []string{"one", "two", "three"} {
		if err := send(t, alice, text); err != nil {
			t.Fatalf("send %s: %v", text, err)
		}
	}
	fams := waitMetric(t, r, "the messages to reach bob", func(f map[string]*dto.MetricFamily) bool {
		return value(f, "securechat_messages_delivered_total") >= 3
	})
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"securechat_logins_total", []string{"method", "register", "result", "ok"}, 2},
		{"securechat_logins_total", []string{"method", "password", "result", "failed"}, 1},
		{"securechat_registrations_total", nil, 2},
		{"securechat_messages_posted_total", nil, 3},
		{"securechat_messages_sealed_total", nil, 0},
		{"securechat_sessions_open", []string{"kind", "interactive"}, 1},
		{"securechat_sessions_open", []string{"kind", "exec"}, 0},
		{"securechat_sessions_dropped_total", nil, 0},
		{"securechat_users", nil, 2},
		{"securechat_bans", nil, 0},
		{"securechat_rooms", nil, 1},
		{"securechat_build_info", nil, 1},
		{"securechat_throttled_total", []string{"rule", "flood"}, 0},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Three sends: at least one batch, each with its fsync timed.
	for _, h := range []string{"securechat_history_append_seconds", "securechat_history_fsync_seconds", "securechat_history_batch_messages"} {
		if n := value(fams, h); n < 1 {
			t.Errorf("%s has %v observations", h, n)
		}
	}
	for name, f := range fams {
		if !strings.HasPrefix(name, "securechat_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("metric %s is not securechat_*", name)
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if v := l.GetValue(); strings.Contains(v, "alice") || strings.Contains(v, "bob") || strings.Contains(v, "127.0.0.1") {
					t.Errorf("%s has label %s=%q: a username or address", name, l.GetName(), v)
				}
			}
		}
	}
	if code, body := get(t, "http://"+r.metrics+"/livez"); code != 200 {
		t.Fatalf("/livez %d %s", code, body)
	}
}

// /readyz answers 200 while the history acknowledges, and 503 with the
// reason once an fsync has failed (the server then refuses messages).
func TestReadyzFlipsOnFsyncFailure(t *testing.T) {
	faults := &failSync{}
	r := startRig(t, faults)
	if code, body := get(t, "http://"+r.metrics+"/readyz"); code != 200 {
		t.Fatalf("/readyz before the fault: %d %s", code, body)
	}
	alice := login(t, r.addr, "alice", "violet stapler orbit 1")
	if err := send(t, alice, "before"); err != nil {
		t.Fatal(err)
	}
	faults.set(syscall.EIO)
	var exit *gossh.ExitError
	if err := send(t, alice, "during"); !errors.As(err, &exit) {
		t.Fatalf("send during a failing fsync: %v", err)
	}
	code, body := get(t, "http://"+r.metrics+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "history is not acknowledging") || !strings.Contains(body, "input/output error") {
		t.Fatalf("/readyz after the fault: %d %q", code, body)
	}
	if code, _ := get(t, "http://"+r.metrics+"/livez"); code != 200 {
		t.Fatalf("/livez after the fault: %d", code)
	}
}
