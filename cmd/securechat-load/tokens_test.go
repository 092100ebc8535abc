package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestScanTokens(t *testing.T) {
	tests := []struct {
		name string
		row  string
		want []string // "sender-seq-rand"
	}{
		{"message row", "15:04 load0003: t3-17-k9x2q", []string{"3-17-k9x2q"}},
		{"padded, online list", "15:04 load0003: t12-0-abcde        │ load0001", []string{"12-0-abcde"}},
		{"border right after", "15:04 a: t1-2-abcde│ x", []string{"1-2-abcde"}},
		{"input line", "> t3-17-k9x2q                     [ Send ]", nil},
		{"no colon", "15:04 load0003 t3-17-k9x2q", nil},
		{"tail too short", "15:04 a: t3-17-k9x2", nil},
		{"tail too long", "15:04 a: t3-17-k9x2qq", nil},
		{"upper case tail", "15:04 a: t3-17-K9X2Q", nil},
		{"missing seq", "15:04 a: t3--k9x2q", nil},
		{"two in a row", "a: t1-1-aaaaa b: t2-2-bbbbb", []string{"1-1-aaaaa", "2-2-bbbbb"}},
		{"time stamp is not a token", "15:04 → load0001 joined", nil},
		{"at row end", "x: t0-0-00000", []string{"0-0-00000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			scanTokens([]rune(tt.row), func(f foundToken) {
				got = append(got, strings.Join([]string{itoa(f.sender), itoa(f.seq), string(f.rnd)}, "-"))
			})
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestTokenRoundTrip(t *testing.T) {
	reg := newTokenReg(20, 50, 7)
	seen := map[string]bool{}
	for s := range 20 {
		for q := range 50 {
			text := reg.text(s, q)
			if seen[text] {
				t.Fatalf("token %s twice", text)
			}
			seen[text] = true
			var got []foundToken
			scanTokens([]rune("12:00 load0001: "+text), func(f foundToken) { got = append(got, f) })
			if len(got) != 1 || got[0].sender != s || got[0].seq != q {
				t.Fatalf("%s parsed as %+v", text, got)
			}
			if _, ok := reg.lookup(s, q, got[0].rnd); ok {
				t.Fatalf("%s found before it was sent", text)
			}
			reg.markSent(s, q, 1, false)
			if i, ok := reg.lookup(s, q, got[0].rnd); !ok || i != reg.index(s, q) {
				t.Fatalf("%s not found after it was sent", text)
			}
		}
	}
	other := newTokenReg(20, 50, 8)
	other.markSent(3, 4, 1, true)
	var f foundToken
	scanTokens([]rune("a: "+reg.text(3, 4)), func(x foundToken) { f = x })
	if _, ok := other.lookup(3, 4, f.rnd); ok {
		t.Error("a token of another run was taken for this run's")
	}
	if _, ok := reg.lookup(20, 0, f.rnd); ok {
		t.Error("sender out of range accepted")
	}
}

// TestTrackerOrder: first sightings count once; a token seen after a later
// one from the same sender is a violation, whether across updates or above
// it on the same screen.
func TestTrackerOrder(t *testing.T) {
	const ms = int64(time.Millisecond)
	reg := newTokenReg(2, 10, 1)
	for q := range 5 {
		reg.markSent(0, q, 100*ms, true)
		reg.markSent(1, q, 100*ms, q >= 2)
	}
	stats := &runStats{}
	tr := newTracker(reg, stats)
	row := func(s, q int) []rune { return []rune("12:00 u: " + reg.text(s, q)) }
	tr.observe(row(0, 0), 101*ms)
	tr.observe(row(0, 0), 102*ms) // again: not a new delivery
	tr.observe(row(0, 2), 103*ms)
	tr.observe(row(1, 0), 103*ms) // warm-up token: not counted
	tr.observe(row(0, 1), 104*ms) // after 2: violation
	tr.observe(row(1, 3), 105*ms)
	tr.observe(row(1, 2), 105*ms) // same update, shown below 3: violation
	if got := stats.delivered.Load(); got != 5 {
		t.Errorf("delivered %d, want 5", got)
	}
	if got := stats.violations.Load(); got != 2 {
		t.Errorf("violations %d, want 2", got)
	}
	if tr.nSeen != 6 || !tr.pending() {
		t.Errorf("seen %d, pending %v", tr.nSeen, tr.pending())
	}
	h := &stats.latency
	if h.count() != 5 || h.maxValue() != 5*time.Millisecond || (h.percentile(1)-time.Millisecond).Abs() > time.Millisecond/64 {
		t.Errorf("latencies: count %d, min %v, max %v", h.count(), h.percentile(1), h.maxValue())
	}
}
