package limits

import (
	"fmt"
	"testing"
	"time"
)

func TestFloodRate(t *testing.T) {
	type step struct {
		advance time.Duration
		n       int // messages sent after advancing
		want    Verdict
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"burst of 5", []step{{0, 5, Allowed}, {0, 1, Refused}}},
		{"refill 2/s", []step{
			{0, 5, Allowed}, {0, 1, Refused},
			{500 * time.Millisecond, 1, Allowed}, {0, 1, Refused},
			{499 * time.Millisecond, 1, Refused},
			{time.Millisecond, 1, Allowed},
			{time.Second, 2, Allowed}, {0, 1, Refused},
		}},
		{"refill caps at the burst", []step{{0, 5, Allowed}, {time.Hour, 5, Allowed}, {0, 1, Refused}}},
		{"steady 2/s is fine", []step{
			{0, 5, Allowed},
			{500 * time.Millisecond, 1, Allowed}, {500 * time.Millisecond, 1, Allowed},
			{500 * time.Millisecond, 1, Allowed}, {500 * time.Millisecond, 1, Allowed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := NewFlood(FloodConfig{Now: c.Now})
			for i, s := range tt.steps {
				c.Advance(s.advance)
				for j := range s.n {
					if v, _ := f.Allow("alice"); v != s.want {
						t.Fatalf("step %d message %d: %v, want %v", i, j+1, v, s.want)
					}
				}
			}
		})
	}
}

func TestFloodMute(t *testing.T) {
	c := newClock()
	f := NewFlood(FloodConfig{Now: c.Now})
	for range 5 {
		f.Allow("alice")
	}
	// Nine refusals are strikes; the tenth within 10s mutes. Messages the
	// refill lets through in between are not strikes and do not clear them.
	for i := range 9 {
		if v, _ := f.Allow("alice"); v != Refused {
			t.Fatalf("refusal %d: %v", i+1, v)
		}
		if i == 4 {
			c.Advance(500 * time.Millisecond)
			if v, _ := f.Allow("alice"); v != Allowed {
				t.Fatalf("refilled token: %v", v)
			}
		}
	}
	start := c.Now()
	v, until := f.Allow("alice")
	if v != Muted || !until.Equal(start.Add(60*time.Second)) {
		t.Fatalf("tenth strike: %v until +%v, want Muted until +60s", v, until.Sub(start))
	}
	if v, _ := f.Allow("bob"); v != Allowed {
		t.Fatalf("bob: %v", v)
	}
	for _, at := range []time.Duration{0, time.Second, 30 * time.Second, 60*time.Second - time.Nanosecond} {
		c.Set(start.Add(at))
		if v, u := f.Allow("alice"); v != StillMuted || !u.Equal(until) {
			t.Fatalf("at +%v: %v until %v, want StillMuted until %v", at, v, u, until)
		}
	}
	c.Set(until)
	for i := range 5 {
		if v, _ := f.Allow("alice"); v != Allowed {
			t.Fatalf("after the mute, message %d: %v (the mute should not have used tokens)", i+1, v)
		}
	}
	// Strikes started again from zero with the mute.
	if v, _ := f.Allow("alice"); v != Refused {
		t.Fatalf("first refusal after a mute: %v, want Refused", v)
	}
}

func TestFloodStrikeWindowSlides(t *testing.T) {
	c := newClock()
	f := NewFlood(FloodConfig{Now: c.Now})
	for range 5 {
		f.Allow("alice")
	}
	for range 9 {
		f.Allow("alice")
	}
	c.Advance(10 * time.Second) // the nine strikes age out (and the bucket refills)
	for range 5 {
		if v, _ := f.Allow("alice"); v != Allowed {
			t.Fatalf("after refill: %v", v)
		}
	}
	for i := range 9 {
		if v, _ := f.Allow("alice"); v != Refused {
			t.Fatalf("strike %d after the window moved: %v, want Refused", i+1, v)
		}
	}
	if v, _ := f.Allow("alice"); v != Muted {
		t.Fatalf("tenth strike in the new window: %v", v)
	}
}

func TestFloodUsersIndependent(t *testing.T) {
	c := newClock()
	f := NewFlood(FloodConfig{Now: c.Now})
	for range 20 {
		f.Allow("alice")
	}
	for _, u := range []string{"bob", "carol"} {
		for i := range 5 {
			if v, _ := f.Allow(u); v != Allowed {
				t.Fatalf("%s message %d: %v", u, i+1, v)
			}
		}
	}
}

func TestFloodCustomConfig(t *testing.T) {
	c := newClock()
	f := NewFlood(FloodConfig{Burst: 1, PerSecond: 10, Strikes: 2, StrikeWindow: time.Second, MuteFor: 5 * time.Second, Now: c.Now})
	want := []Verdict{Allowed, Refused, Muted, StillMuted}
	for i, w := range want {
		if v, _ := f.Allow("alice"); v != w {
			t.Fatalf("message %d: %v, want %v", i+1, v, w)
		}
	}
	c.Advance(5 * time.Second)
	if v, _ := f.Allow("alice"); v != Allowed {
		t.Fatalf("after mute: %v", v)
	}
}

func TestFloodMemoryBound(t *testing.T) {
	c := newClock()
	f := NewFlood(FloodConfig{Now: c.Now, MaxUsers: 100})
	for range 10 {
		f.Allow("muted")
	}
	for range 10 {
		f.Allow("muted")
	}
	if v, _ := f.Allow("muted"); v != StillMuted {
		t.Fatalf("setup: %v", v)
	}
	for i := range 20000 {
		f.Allow(fmt.Sprintf("user%d", i))
		if n := f.size(); n > 100 {
			t.Fatalf("tracking %d users, cap 100", n)
		}
	}
	if v, _ := f.Allow("muted"); v != StillMuted {
		t.Fatalf("a muted user was forgotten before users with full buckets: %v", v)
	}
}

func TestVerdictString(t *testing.T) {
	for v, want := range map[Verdict]string{Allowed: "Allowed", Refused: "Refused", Muted: "Muted", StillMuted: "StillMuted", Wait: "Wait", 9: "Verdict(?)"} {
		if v.String() != want {
			t.Errorf("%d.String() = %q", int(v), v.String())
		}
	}
}
