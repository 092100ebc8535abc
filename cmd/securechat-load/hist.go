package main

import (
	"math"
	"math/bits"
	"sort"
	"sync/atomic"
	"time"
)

// histSubBits sets the histogram's precision: values below 2^histSubBits µs
// are counted exactly, larger ones in buckets at most 1/32 of their value
// wide (a reported percentile is within ±1.6% of the true one).
const (
	histSubBits = 6
	histHalf    = 1 << (histSubBits - 1)
	histBuckets = 64 * histHalf // enough for any duration up to 2^63 µs
)

// histogram counts durations in log-linear buckets of microseconds, the
// shape of an HDR histogram. It is safe for concurrent use without locks
// (one atomic add per value), so every session's reader records into the
// same one; memory is fixed whatever the count.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // µs
	max    atomic.Uint64 // µs, exact
}

// bucketOf maps a value in µs to its bucket.
func bucketOf(v uint64) int {
	if v < 2*histHalf {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits
	return shift*histHalf + int(v>>shift)
}

// bucketRange is the smallest and largest value (µs) counted in bucket b.
func bucketRange(b int) (lo, hi uint64) {
	if b < 2*histHalf {
		return uint64(b), uint64(b)
	}
	shift := b/histHalf - 1
	sub := uint64(b - shift*histHalf)
	lo = sub << shift
	return lo, lo + (1 << shift) - 1
}

// record counts one duration (negative durations count as 0).
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d.Microseconds(), 0))
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// count is how many values were recorded.
func (h *histogram) count() uint64 { return h.n.Load() }

// maxValue is the largest recorded value, exactly.
func (h *histogram) maxValue() time.Duration {
	return time.Duration(h.max.Load()) * time.Microsecond
}

// mean is the average recorded value.
func (h *histogram) mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load()/n) * time.Microsecond
}

// percentile returns the value below which p percent (0 < p ≤ 100) of the
// recorded values fall, by the nearest-rank rule: the middle of the bucket
// holding that rank, never above the exact maximum, which the top rank
// returns. It is 0 when empty.
func (h *histogram) percentile(p float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	if rank == n {
		return h.maxValue()
	}
	var seen uint64
	for b := range h.counts {
		seen += h.counts[b].Load()
		if seen >= rank {
			lo, hi := bucketRange(b)
			v := min(lo+(hi-lo)/2, h.max.Load())
			return time.Duration(v) * time.Microsecond
		}
	}
	return h.maxValue()
}

// exactPercentile is the nearest-rank percentile of a small sample, which it
// sorts in place. Connect and login times use it: there are few of them.
func exactPercentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := int(math.Ceil(p / 100 * float64(len(ds))))
	rank = min(max(rank, 1), len(ds))
	return ds[rank-1]
}
