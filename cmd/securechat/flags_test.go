package main

import (
	"io"
	"strings"
	"testing"
)

// The frame pacing flags take their safe range and say what is wrong with
// anything else.
func TestFramePacingFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		fps     int
		burst   int
	}{
		{args: nil, fps: 30, burst: 1},
		{args: []string{"--fps", "60", "--frame-burst", "3"}, fps: 60, burst: 3},
		{args: []string{"--fps", "0"}, wantErr: "--fps 0: must be between 1 and 120"},
		{args: []string{"--frame-burst", "0"}, wantErr: "--frame-burst 0: must be between 1 and 10"},
		{args: []string{"--frame-burst", "11"}, wantErr: "--frame-burst 11: must be between 1 and 10"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o, _, err := parse(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("parse(%q) error %v, want %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse(%q): %v", tc.args, err)
			}
			if o.fps != tc.fps || o.frameBurst != tc.burst {
				t.Fatalf("parse(%q): fps %d, burst %d; want %d, %d", tc.args, o.fps, o.frameBurst, tc.fps, tc.burst)
			}
		})
	}
}

// The limits of issue 14 have flags with their safe defaults, and refuse
// values that would switch them off.
func TestSessionLimitFlags(t *testing.T) {
	o, _, err := parse(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := o.lim.Session
	if o.lim.ConnRate.Burst != 20 || o.lim.ConnRate.PerSecond != 2 || s.MaxSessionsPerConn != 10 || s.MaxCols != 1000 ||
		s.MaxRows != 500 || s.MaxEnv != 8 || s.MaxEnvBytes != 256 || s.MaxExecBytes != 4096 || s.MaxInputLine != 32768 {
		t.Fatalf("defaults: %+v %+v", o.lim.ConnRate, s)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--limit-term-cols", "5000"}, "--limit-term-cols 5000: must be at most 4096"},
		{[]string{"--limit-sessions-per-conn", "0"}, "--limit-sessions-per-conn 0: must be at least 1"},
		{[]string{"--limit-conn-rate", "0"}, "--limit-conn-rate 0: must be positive"},
		{[]string{"--limit-exec-bytes", "-1"}, "--limit-exec-bytes -1: must be at least 1"},
		{[]string{"--max-message", "10000"}, "--limit-input-line 32768: must be at least 4 × --max-message (40000)"},
	} {
		if _, _, err := parse(tc.args, io.Discard); err == nil || err.Error() != tc.want {
			t.Errorf("parse(%q) = %v, want %q", tc.args, err, tc.want)
		}
	}
}
