package main

import (
	"sync/atomic"
	"time"
)

// runStats are the counters every session's reader adds to. All atomic:
// readers run concurrently and the run reads totals while they do.
type runStats struct {
	delivered  atomic.Int64 // first sightings of measured tokens
	violations atomic.Int64 // tokens first seen after a later one from the same sender
	bytes      atomic.Int64 // bytes read by all sessions
	latency    histogram    // seen - sent, measured tokens only
}

// tracker is one session's record of which tokens its screen has shown.
// Only that session's reader uses it.
type tracker struct {
	reg     *tokenReg
	stats   *runStats
	seen    []uint64 // bit per token slot
	lastSeq []int    // per sender: highest sequence number seen so far
	nSeen   int64
}

func newTracker(reg *tokenReg, stats *runStats) *tracker {
	t := &tracker{
		reg:     reg,
		stats:   stats,
		seen:    make([]uint64, (reg.senders*reg.perSender+63)/64),
		lastSeq: make([]int, reg.senders),
	}
	for i := range t.lastSeq {
		t.lastSeq[i] = -1
	}
	return t
}

// pending reports whether a token has been sent that this screen has not
// shown yet; only then is it worth looking.
func (t *tracker) pending() bool { return t.reg.sent.Load() > t.nSeen }

// observe records the tokens on one changed row. now is when the bytes
// that changed it arrived. Rows come top to bottom and the room shows
// messages oldest first, so taking tokens in row order checks their order
// within one screen update as well as across updates.
func (t *tracker) observe(row []rune, now int64) {
	scanTokens(row, func(f foundToken) {
		i, ok := t.reg.lookup(f.sender, f.seq, f.rnd)
		if !ok || t.seen[i/64]&(1<<(i%64)) != 0 {
			return
		}
		t.seen[i/64] |= 1 << (i % 64)
		t.nSeen++
		if f.seq < t.lastSeq[f.sender] {
			t.stats.violations.Add(1)
		} else {
			t.lastSeq[f.sender] = f.seq
		}
		if t.reg.measured[i].Load() {
			t.stats.delivered.Add(1)
			t.stats.latency.record(time.Duration(now - t.reg.sentAt[i].Load()))
		}
	})
}
