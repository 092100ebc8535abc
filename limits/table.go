package limits

import (
	"slices"
	"time"
)

// expirer is an entry that knows when it stops mattering: from then on it is
// indistinguishable from no entry at all and may be dropped.
type expirer interface {
	expiresAt() time.Time
}

// table is a map with a cap on its size. Entries expire lazily: get drops an
// expired entry it finds, and add, when the table is full, sweeps out every
// expired entry and, if that frees too little, the entries that would expire
// soonest. It sweeps down to 7/8 of the cap at once, so a flood of new keys
// costs amortised O(log n) per key rather than a sweep per key.
type table[K comparable, V expirer] struct {
	m     map[K]V
	limit int
}

func newTable[K comparable, V expirer](limit int) *table[K, V] {
	return &table[K, V]{m: make(map[K]V), limit: max(limit, 1)}
}

// get returns the live entry for k, dropping it if it has expired.
func (t *table[K, V]) get(k K, now time.Time) (V, bool) {
	v, ok := t.m[k]
	if ok && !now.Before(v.expiresAt()) {
		delete(t.m, k)
		var zero V
		return zero, false
	}
	return v, ok
}

// add stores v under k, making room first when k is new and the table full.
func (t *table[K, V]) add(k K, v V, now time.Time) {
	if _, ok := t.m[k]; !ok && len(t.m) >= t.limit {
		t.shrink(now)
	}
	t.m[k] = v
}

func (t *table[K, V]) remove(k K) { delete(t.m, k) }

func (t *table[K, V]) len() int { return len(t.m) }

// shrink drops expired entries, then the soonest-expiring ones until the
// table is at 7/8 of its cap.
func (t *table[K, V]) shrink(now time.Time) {
	for k, v := range t.m {
		if !now.Before(v.expiresAt()) {
			delete(t.m, k)
		}
	}
	target := t.limit - max(1, t.limit/8)
	if len(t.m) <= target {
		return
	}
	type entry struct {
		k   K
		exp time.Time
	}
	all := make([]entry, 0, len(t.m))
	for k, v := range t.m {
		all = append(all, entry{k, v.expiresAt()})
	}
	slices.SortFunc(all, func(a, b entry) int { return a.exp.Compare(b.exp) })
	for _, e := range all[:len(all)-target] {
		delete(t.m, e.k)
	}
}

// window holds the times of recent events, oldest first, for counting events
// in a sliding window. Callers keep it short by acting once it reaches their
// limit.
type window []time.Time

// prune forgets events at or before now-d: an event at t counts while
// now < t+d.
func (w *window) prune(now time.Time, d time.Duration) {
	i := 0
	for i < len(*w) && !now.Before((*w)[i].Add(d)) {
		i++
	}
	if i > 0 {
		*w = append((*w)[:0], (*w)[i:]...)
	}
}

// last is the newest event, or the zero time.
func (w window) last() time.Time {
	if len(w) == 0 {
		return time.Time{}
	}
	return w[len(w)-1]
}

// doubled is base × 2^n, capped at limit, without overflow.
func doubled(base time.Duration, n int, limit time.Duration) time.Duration {
	d := base
	for ; n > 0 && d < limit; n-- {
		if d > limit/2 {
			d = limit
		} else {
			d *= 2
		}
	}
	return min(d, limit)
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
