package limits

import (
	"strings"
	"testing"
	"time"
)

func TestRegPerSource(t *testing.T) {
	type step struct {
		at     time.Duration // since the start
		from   string
		wantOK bool
		reason string // substring of the refusal
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"three an hour", []step{
			{0, "127.0.0.2", true, ""},
			{0, "127.0.0.2", true, ""},
			{0, "127.0.0.2", true, ""},
			{0, "127.0.0.2", false, "from your address; try again in 60 minutes"},
			{0, "127.0.0.3", true, ""},
			{59 * time.Minute, "127.0.0.2", false, "try again in 1 minute"},
			{time.Hour - time.Second, "127.0.0.2", false, "try again in 1 second"},
			{time.Hour, "127.0.0.2", true, ""},
			{time.Hour, "127.0.0.2", true, ""},
			{time.Hour, "127.0.0.2", true, ""},
			{time.Hour, "127.0.0.2", false, "in 60 minutes"},
		}},
		{"window slides", []step{
			{0, "127.0.0.2", true, ""},
			{20 * time.Minute, "127.0.0.2", true, ""},
			{40 * time.Minute, "127.0.0.2", true, ""},
			{42 * time.Minute, "127.0.0.2", false, "try again in 18 minutes"},
			{60 * time.Minute, "127.0.0.2", true, ""},
			{60 * time.Minute, "127.0.0.2", false, "try again in 20 minutes"},
			{80 * time.Minute, "127.0.0.2", true, ""},
		}},
		{"ipv6 /64 is one source", []step{
			{0, "2001:db8::1", true, ""},
			{0, "2001:db8::2", true, ""},
			{0, "2001:db8::3", true, ""},
			{0, "2001:db8::4", false, "from your address"},
			{0, "2001:db8:0:1::1", true, ""},
		}},
		{"mapped is ipv4", []step{
			{0, "127.0.0.2", true, ""},
			{0, "::ffff:127.0.0.2", true, ""},
			{0, "127.0.0.2", true, ""},
			{0, "::ffff:127.0.0.2", false, "from your address"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			start := c.Now()
			r := NewRegLimiter(RegConfig{Now: c.Now})
			for i, s := range tt.steps {
				c.Set(start.Add(s.at))
				ok, reason := r.Allow(src(t, s.from))
				if ok != s.wantOK || !strings.Contains(reason, s.reason) || ok != (reason == "") {
					t.Fatalf("step %d (%v, %s): Allow = %v, %q; want %v, %q", i, s.at, s.from, ok, reason, s.wantOK, s.reason)
				}
			}
		})
	}
}

func TestRegTotal(t *testing.T) {
	c := newClock()
	start := c.Now()
	r := NewRegLimiter(RegConfig{Now: c.Now})
	// 30 accounts from 30 sources over 5 minutes.
	for i := range 30 {
		c.Set(start.Add(time.Duration(i) * 10 * time.Second))
		if ok, reason := r.Allow(nthIPv4(i + 1)); !ok {
			t.Fatalf("registration %d refused: %s", i+1, reason)
		}
	}
	ok, reason := r.Allow(nthIPv4(100))
	if ok || !strings.Contains(reason, "right now; try again in 6 minutes") {
		t.Fatalf("31st: Allow = %v, %q", ok, reason)
	}
	// The window slides: once the first has aged out, one more fits.
	c.Set(start.Add(10 * time.Minute))
	if ok, reason := r.Allow(nthIPv4(100)); !ok {
		t.Fatalf("after the first aged out: %s", reason)
	}
	if ok, _ := r.Allow(nthIPv4(101)); ok {
		t.Fatal("two fitted where one aged out")
	}
	// At 15m all of the first 30 (the last was at 4m50s) have aged out;
	// only the one at 10m is left, so 29 more fit and then no more.
	c.Set(start.Add(15 * time.Minute))
	for i := range 29 {
		if ok, reason := r.Allow(nthIPv4(200 + i)); !ok {
			t.Fatalf("at 15m, registration %d refused: %s", i+1, reason)
		}
	}
	if ok, _ := r.Allow(nthIPv4(300)); ok {
		t.Fatal("a 31st in the window was allowed")
	}
}

func TestRegRefusalNotRecorded(t *testing.T) {
	c := newClock()
	r := NewRegLimiter(RegConfig{Now: c.Now, PerSource: 1, Total: 2})
	a := src(t, "127.0.0.2")
	r.Allow(a)
	for range 10 {
		if ok, _ := r.Allow(a); ok {
			t.Fatal("second from one source allowed")
		}
	}
	// Refusals did not use up the total.
	if ok, reason := r.Allow(src(t, "127.0.0.3")); !ok {
		t.Fatalf("refusals counted towards the total: %s", reason)
	}
}

func TestRegMemoryBound(t *testing.T) {
	c := newClock()
	r := NewRegLimiter(RegConfig{Now: c.Now, MaxSources: 100, Total: 1 << 30})
	for i := range 20000 {
		r.Allow(nthIPv4(i))
		if n := r.sources.len(); n > 100 {
			t.Fatalf("tracking %d sources, cap 100", n)
		}
	}
}

func TestWaitWords(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "1 second"},
		{time.Millisecond, "1 second"},
		{time.Second, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
		{59 * time.Second, "59 seconds"},
		{59*time.Second + 1, "1 minute"},
		{time.Minute, "1 minute"},
		{42 * time.Minute, "42 minutes"},
		{41*time.Minute + time.Second, "42 minutes"},
		{2 * time.Hour, "120 minutes"},
		{2*time.Hour + time.Second, "3 hours"},
		{24 * time.Hour, "24 hours"},
	}
	for _, tt := range tests {
		if got := waitWords(tt.d); got != tt.want {
			t.Errorf("waitWords(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
