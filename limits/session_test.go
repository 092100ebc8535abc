package limits

import (
	"errors"
	"strings"
	"testing"
)

func TestClampWindow(t *testing.T) {
	c := SessionConfig{}.WithDefaults()
	for _, tc := range []struct {
		cols, rows uint32
		w, h       int
	}{
		{80, 24, 80, 24},
		{0, 0, 0, 0},
		{4294967295, 4294967295, 1000, 500},
		{1001, 501, 1000, 500},
		{1000, 500, 1000, 500},
	} {
		if w, h := c.ClampWindow(tc.cols, tc.rows); w != tc.w || h != tc.h {
			t.Errorf("ClampWindow(%d, %d) = %d, %d; want %d, %d", tc.cols, tc.rows, w, h, tc.w, tc.h)
		}
	}
}

func TestCheckEnv(t *testing.T) {
	c := SessionConfig{}.WithDefaults()
	for _, tc := range []struct {
		name, value string
		accepted    int
		ok          bool
	}{
		{"NO_COLOR", "1", 0, true},
		{"TERM", "xterm", 7, true},
		{"COLORTERM", "truecolor", 0, true},
		{"LANG", "C.UTF-8", 0, false},
		{"LD_PRELOAD", "x", 0, false},
		{"TERM", strings.Repeat("x", 300), 0, false},
		{"NO_COLOR", "1", 8, false},
	} {
		err := c.CheckEnv(tc.name, tc.value, tc.accepted)
		if (err == nil) != tc.ok {
			t.Errorf("CheckEnv(%q, %d bytes, %d) = %v, want ok %v", tc.name, len(tc.value), tc.accepted, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrEnvRefused) {
			t.Errorf("error %v is not ErrEnvRefused", err)
		}
	}
}
