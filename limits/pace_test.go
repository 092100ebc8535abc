package limits

import (
	"testing"
	"time"
)

// Pace keeps the rate Allow keeps, but a sender over it is told how long
// to wait and is never muted, however often it asks.
func TestFloodPace(t *testing.T) {
	c := newClock()
	f := NewFlood(FloodConfig{Now: c.Now, Strikes: 3})
	for i := range 5 {
		if v, _, _ := f.Pace("alice"); v != Allowed {
			t.Fatalf("message %d of the burst: %v", i+1, v)
		}
	}
	for i := range 50 { // far more than Strikes
		v, wait, _ := f.Pace("alice")
		if v != Wait || wait <= 0 || wait > 501*time.Millisecond {
			t.Fatalf("ask %d over the rate: %v, wait %v", i+1, v, wait)
		}
	}
	_, wait, _ := f.Pace("alice")
	c.Advance(wait)
	if v, _, _ := f.Pace("alice"); v != Allowed {
		t.Fatalf("after waiting %v: %v", wait, v)
	}
	// Pace and Allow share the bucket: what Pace took, Allow cannot.
	if v, _ := f.Allow("alice"); v != Refused {
		t.Fatalf("Allow after Pace emptied the bucket: %v", v)
	}
	// A mute (from Allow's strikes) holds Pace too.
	f.Allow("alice")
	if v, until := f.Allow("alice"); v != Muted || until.IsZero() {
		t.Fatalf("third strike: %v", v)
	}
	if v, _, until := f.Pace("alice"); v != StillMuted || until.IsZero() {
		t.Fatalf("Pace while muted: %v", v)
	}
}
