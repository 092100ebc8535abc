package limits

import (
	"net/netip"
	"testing"
	"time"
)

func TestConnRate(t *testing.T) {
	clk := newClock()
	r := NewConnRate(ConnRateConfig{Burst: 3, PerSecond: 1, Now: clk.Now})
	a := netip.MustParsePrefix("192.0.2.1/32")
	b := netip.MustParsePrefix("192.0.2.2/32")
	for i := range 3 {
		if ok, _ := r.Allow(a); !ok {
			t.Fatalf("connection %d of the burst refused", i)
		}
	}
	if ok, first := r.Allow(a); ok || !first {
		t.Fatalf("over the burst: ok %v first %v", ok, first)
	}
	if ok, first := r.Allow(a); ok || first {
		t.Fatalf("second refusal: ok %v first %v", ok, first)
	}
	if ok, _ := r.Allow(b); !ok {
		t.Fatal("another source was refused")
	}
	clk.Advance(time.Second)
	if ok, _ := r.Allow(a); !ok {
		t.Fatal("the rate did not refill")
	}
	if ok, first := r.Allow(a); ok || !first {
		t.Fatalf("after a refill: ok %v first %v", ok, first)
	}
}

func TestConnRateMemoryIsBounded(t *testing.T) {
	clk := newClock()
	r := NewConnRate(ConnRateConfig{MaxSources: 100, Now: clk.Now})
	for i := range 10000 {
		r.Allow(netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32))
	}
	if n := r.sources.len(); n > 100 {
		t.Fatalf("%d sources tracked, cap 100", n)
	}
}
