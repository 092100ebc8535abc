package limits

import (
	"fmt"
	"testing"
)

func TestConnUnauthLimits(t *testing.T) {
	tests := []struct {
		name string
		cfg  ConnConfig
		// opens are sources, in order; wantOK per open.
		opens  func(i int) string
		n      int
		wantOK func(i int) bool
	}{
		{
			name:   "10 per source",
			opens:  func(int) string { return "127.0.0.2" },
			n:      12,
			wantOK: func(i int) bool { return i < 10 },
		},
		{
			name: "another source unaffected",
			opens: func(i int) string {
				if i < 11 {
					return "127.0.0.2"
				}
				return "127.0.0.3"
			},
			n:      12,
			wantOK: func(i int) bool { return i != 10 },
		},
		{
			name:   "100 in total",
			opens:  func(i int) string { return nthIPv4(i/5 + 1).Addr().String() },
			n:      105,
			wantOK: func(i int) bool { return i < 100 },
		},
		{
			name:   "ipv6 /64 is one source",
			opens:  func(i int) string { return fmt.Sprintf("2001:db8::%x", i+1) },
			n:      11,
			wantOK: func(i int) bool { return i < 10 },
		},
		{
			name:   "custom limits",
			cfg:    ConnConfig{MaxUnauthPerSource: 2, MaxUnauthTotal: 3},
			opens:  func(i int) string { return nthIPv4(i / 2).Addr().String() },
			n:      4,
			wantOK: func(i int) bool { return i < 3 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewConnLimiter(tt.cfg)
			var conns []*Conn
			for i := range tt.n {
				c, ok := l.Open(src(t, tt.opens(i)))
				if ok != tt.wantOK(i) {
					t.Fatalf("open %d from %s: ok = %v, want %v", i, tt.opens(i), ok, !ok)
				}
				if ok {
					conns = append(conns, c)
				} else if c != nil {
					t.Fatal("refused Open returned a Conn")
				}
			}
			if got := l.Counts(); got != len(conns) {
				t.Fatalf("Counts = %d, want %d", got, len(conns))
			}
			for _, c := range conns {
				c.Close()
			}
			if got := l.Counts(); got != 0 {
				t.Fatalf("Counts = %d after closing all", got)
			}
		})
	}
}

func TestConnAuthenticated(t *testing.T) {
	l := NewConnLimiter(ConnConfig{})
	a := src(t, "127.0.0.2")

	c, ok := l.Open(a)
	if !ok {
		t.Fatal("Open refused")
	}
	if un, au := l.sourceCounts(a); un != 1 || au != 0 {
		t.Fatalf("before auth: unauth %d, authed %d", un, au)
	}
	for range 2 { // idempotent
		if !c.Authenticated() {
			t.Fatal("Authenticated refused")
		}
	}
	if un, au := l.sourceCounts(a); un != 0 || au != 1 || l.Counts() != 0 {
		t.Fatalf("after auth: unauth %d, authed %d, total unauth %d", un, au, l.Counts())
	}
	// Authenticated connections no longer hold unauth slots: ten more may open.
	var more []*Conn
	for range 10 {
		m, ok := l.Open(a)
		if !ok {
			t.Fatal("authenticated connection still held an unauth slot")
		}
		more = append(more, m)
	}
	for range 2 { // idempotent
		c.Close()
	}
	if _, au := l.sourceCounts(a); au != 0 {
		t.Fatalf("authed %d after Close", au)
	}
	if c.Authenticated() {
		t.Fatal("Authenticated succeeded on a closed connection")
	}
	for _, m := range more {
		m.Close()
		m.Close()
	}
	if un, au := l.sourceCounts(a); un != 0 || au != 0 || l.Counts() != 0 {
		t.Fatalf("after closing all: unauth %d, authed %d, total %d", un, au, l.Counts())
	}
	if len(l.unauth) != 0 || len(l.authed) != 0 {
		t.Fatalf("maps not empty after closing all: %v %v", l.unauth, l.authed)
	}
}

func TestConnSessionsPerSource(t *testing.T) {
	l := NewConnLimiter(ConnConfig{})
	a, b := src(t, "127.0.0.2"), src(t, "127.0.0.3")
	var sessions []*Conn
	for i := range 16 {
		c, ok := l.Open(a)
		if !ok || !c.Authenticated() {
			t.Fatalf("session %d refused", i+1)
		}
		sessions = append(sessions, c)
	}
	extra, ok := l.Open(a)
	if !ok {
		t.Fatal("unauth Open refused while only sessions are open")
	}
	if extra.Authenticated() {
		t.Fatal("17th session from one source accepted")
	}
	if un, au := l.sourceCounts(a); un != 1 || au != 16 {
		t.Fatalf("after refused auth: unauth %d, authed %d; want 1, 16", un, au)
	}
	other, ok := l.Open(b)
	if !ok || !other.Authenticated() {
		t.Fatal("another source's session refused")
	}
	extra.Close()
	// One session ends: there is room for one more.
	sessions[0].Close()
	again, ok := l.Open(a)
	if !ok || !again.Authenticated() {
		t.Fatal("session refused after one closed")
	}
	for _, c := range append(sessions, again, other) {
		c.Close()
	}
	if l.Counts() != 0 || len(l.unauth) != 0 || len(l.authed) != 0 {
		t.Fatalf("counts left after closing all: %d %v %v", l.Counts(), l.unauth, l.authed)
	}
}
