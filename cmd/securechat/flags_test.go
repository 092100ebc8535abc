package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"securechat/config"
)

func noEnv(string) (string, bool) { return "", false }

// The frame pacing flags take their safe range and say what is wrong with
// anything else.
func TestFramePacingFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		fps     int
		burst   int
	}{
		{args: nil, fps: 30, burst: 4},
		{args: []string{"--fps", "60", "--frame-burst", "3"}, fps: 60, burst: 3},
		{args: []string{"--fps", "0"}, wantErr: "--fps 0: must be between 1 and 120"},
		{args: []string{"--frame-burst", "0"}, wantErr: "--frame-burst 0: must be between 1 and 10"},
		{args: []string{"--frame-burst", "11"}, wantErr: "--frame-burst 11: must be between 1 and 10"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			l, _, err := config.Load(tc.args, noEnv, io.Discard, usage)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Load(%q) error %v, want %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%q): %v", tc.args, err)
			}
			if l.Config.FPS != tc.fps || l.Config.FrameBurst != tc.burst {
				t.Fatalf("Load(%q): fps %d, burst %d; want %d, %d", tc.args, l.Config.FPS, l.Config.FrameBurst, tc.fps, tc.burst)
			}
		})
	}
}

// The limits of issue 14 have flags with their safe defaults, and refuse
// values that would switch them off.
func TestSessionLimitFlags(t *testing.T) {
	l, _, err := config.Load(nil, noEnv, io.Discard, usage)
	if err != nil {
		t.Fatal(err)
	}
	c := l.Config
	s := c.Session
	if c.ConnRate.Burst != 20 || c.ConnRate.PerSecond != 2 || s.MaxSessionsPerConn != 10 || s.MaxCols != 1000 ||
		s.MaxRows != 500 || s.MaxEnv != 8 || s.MaxEnvBytes != 256 || s.MaxExecBytes != 4096 || s.MaxInputLine != 32768 ||
		c.RegisterTimeout != 120*time.Second {
		t.Fatalf("defaults: %+v %+v %s", c.ConnRate, s, c.RegisterTimeout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--limit-term-cols", "5000"}, "--limit-term-cols 5000: must be between 1 and 4096"},
		{[]string{"--limit-sessions-per-conn", "0"}, "--limit-sessions-per-conn 0: must be between 1 and 1000"},
		{[]string{"--limit-conn-rate", "0"}, "--limit-conn-rate 0: must be between 0.001 and 1e+06"},
		{[]string{"--limit-exec-bytes", "-1"}, "--limit-exec-bytes -1: must be between 64 and 1048576"},
		{[]string{"--max-message", "10000"}, "limit-input-line 32768: must be at least 4 × max-message (40000)"},
		{[]string{"--register-timeout", "10s"}, "register-timeout 10s: must be at least auth-timeout (30s)"},
	} {
		if _, _, err := config.Load(tc.args, noEnv, io.Discard, usage); err == nil || err.Error() != tc.want {
			t.Errorf("Load(%q) = %v, want %q", tc.args, err, tc.want)
		}
	}
}
