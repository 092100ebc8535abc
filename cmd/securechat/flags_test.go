package main

import (
	"io"
	"strings"
	"testing"

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
