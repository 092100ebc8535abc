package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// With --log-format json every line the real server writes is a JSON
// object with time, level and msg, and keeps its fields (user, remote).
func TestLogFormatJSON(t *testing.T) {
	t.Parallel()
	srv := startServerEnv(t, filepath.Join(t.TempDir(), "data"), nil, "--log-format", "json")
	c := newSSHClient(t)
	if r := c.run(t, srv.port, "violet stapler orbit 1", filepath.Join(c.dir, "askpass.log"), "-T", "alice@127.0.0.1", "who"); r.code != 0 {
		t.Fatalf("register: %s", r)
	}
	srv.stop(t)
	var sawLogin, sawListening bool
	for _, line := range strings.Split(strings.TrimSpace(srv.stderr.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line without %q: %s", k, line)
			}
		}
		switch m["msg"] {
		case "registered", "login":
			if m["user"] != "alice" || !strings.HasPrefix(m["remote"].(string), "127.0.0.1:") {
				t.Fatalf("login line lost its fields: %s", line)
			}
			sawLogin = true
		case "securechat listening":
			sawListening = m["addr"] != nil && m["hostkey"] != nil
		}
	}
	if !sawLogin || !sawListening {
		t.Fatalf("login line %v, listening line with addr and hostkey %v:\n%s", sawLogin, sawListening, srv.stderr.String())
	}
}

// logfmt lines carry the same keys as key=value pairs.
func TestLogFormatLogfmt(t *testing.T) {
	t.Parallel()
	srv := startServerEnv(t, filepath.Join(t.TempDir(), "data"), nil, "--log-format", "logfmt")
	srv.stop(t)
	for _, line := range strings.Split(strings.TrimSpace(srv.stderr.String()), "\n") {
		if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=") || !strings.Contains(line, " msg=") {
			t.Fatalf("not a logfmt line with time, level, msg: %q", line)
		}
	}
}
