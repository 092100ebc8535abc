package main

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"
)

// TestBucketsTile: every value falls in the bucket whose range holds it,
// the ranges follow one another without gaps, and no bucket is wider than
// 1/32 of its smallest value.
func TestBucketsTile(t *testing.T) {
	var prevHi uint64
	for b := 0; b < histBuckets; b++ {
		lo, hi := bucketRange(b)
		if b > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", b, lo, prevHi)
		}
		if lo >= 64 && float64(hi-lo+1) > float64(lo)/32 {
			t.Fatalf("bucket %d [%d, %d] too wide", b, lo, hi)
		}
		for _, v := range []uint64{lo, hi, lo + (hi-lo)/2} {
			if got := bucketOf(v); got != b {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, got, b)
			}
		}
		if hi == math.MaxUint64 {
			return
		}
		prevHi = hi
	}
	t.Fatal("buckets end before the largest value")
}

func TestPercentileSmallValuesExact(t *testing.T) {
	var h histogram
	for v := 1; v <= 50; v++ {
		h.record(time.Duration(v) * time.Microsecond)
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{50, 25 * time.Microsecond},
		{90, 45 * time.Microsecond},
		{99, 50 * time.Microsecond},
		{100, 50 * time.Microsecond},
		{0.1, 1 * time.Microsecond},
	}
	for _, tt := range tests {
		if got := h.percentile(tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if h.count() != 50 || h.maxValue() != 50*time.Microsecond || h.mean() != 25*time.Microsecond {
		t.Errorf("count %d, max %v, mean %v", h.count(), h.maxValue(), h.mean())
	}
}

// TestPercentileAccuracy compares against exact percentiles of a wide,
// skewed sample: every answer within 1/64 of the truth.
func TestPercentileAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	var all []time.Duration
	for range 100000 {
		d := time.Duration(math.Exp(rng.Float64()*14)) * time.Microsecond // 1 µs to ~1.2 s
		h.record(d)
		all = append(all, d.Truncate(time.Microsecond))
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
		want := exactPercentile(all, p)
		got := h.percentile(p)
		if diff := math.Abs(float64(got - want)); diff > float64(want)/64+float64(time.Microsecond) {
			t.Errorf("p%v = %v, exact %v", p, got, want)
		}
	}
	if h.maxValue() != all[len(all)-1] {
		t.Errorf("max %v, want %v", h.maxValue(), all[len(all)-1])
	}
}

func TestHistogramEdges(t *testing.T) {
	var h histogram
	if h.percentile(50) != 0 || h.mean() != 0 || h.maxValue() != 0 {
		t.Error("empty histogram should report zeros")
	}
	h.record(-time.Second)
	h.record(time.Hour)
	if h.percentile(50) != 0 || h.maxValue() != time.Hour || h.percentile(100) != time.Hour {
		t.Errorf("p50 %v, p100 %v, max %v", h.percentile(50), h.percentile(100), h.maxValue())
	}
}

func TestHistogramConcurrent(t *testing.T) {
	var h histogram
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				h.record(time.Duration(g*1000+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if h.count() != 8000 || h.maxValue() != 7999*time.Microsecond {
		t.Errorf("count %d, max %v", h.count(), h.maxValue())
	}
}

func TestExactPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {20, 1}, {21, 2}, {50, 3}, {99, 5}, {100, 5}} {
		if got := exactPercentile(ds, tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if exactPercentile(nil, 50) != 0 {
		t.Error("empty sample should give 0")
	}
}
