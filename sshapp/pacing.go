package sshapp

import (
	"sync/atomic"
	"time"
)

// DefaultFrameBurst lets a quiet session's frames out at once: a line the
// user types, its echo from the room and a message or two from others, in
// the same few milliseconds, are each painted without waiting; only a run
// of more frames than this is held to the FPS rate. (With 1, a message
// that came within 1/FPS of the frame before waited for the rest of it:
// at 10 messages a second, over a quarter of them.)
const DefaultFrameBurst = 4

// noticeFrames: a frame that would show only join and leave notices waits
// for this many frame intervals after the last frame. A crowd reconnecting
// then costs every session a few frames a second, not FPS; a message that
// arrives meanwhile is drawn, with the notices, as any other.
const noticeFrames = 8

// framePacer decides when a model that draws itself may paint, and wakes
// it for a frame it held back. Frames are paced as a budget (GCRA): a frame
// may be painted once now >= tat - slack, and each paint moves tat on by
// every. slack 0 holds every frame until every after the last one; more
// lets a few frames out at once, so a quiet room's messages are never held
// back. A frame of notices only also waits noticeFrames intervals after
// the last frame. One timer per session paints held frames (no goroutine
// per held frame).
//
// The model's lock guards it, except for next, heldArmed and noticeHold,
// which the room's waker reads from other goroutines.
type framePacer struct {
	every, slack time.Duration
	tat          time.Time
	pending      bool  // a frame is held back; its timer is set
	dueAt        int64 // when the held frame is due, in nanoseconds after born
	lastPaint    int64 // when the last frame went out, likewise
	// next is when the next frame may be painted, in nanoseconds after
	// born.
	born time.Time
	next atomic.Int64
	// noticeHold is set while the held frame is one of notices only, due
	// later than a message's frame would be.
	noticeHold atomic.Bool

	// paintTimer paints a held frame by calling onTimer.
	paintTimer *time.Timer
	onTimer    func()
	// heldTimer, when set, wakes the session's pump to paint a held frame
	// instead (see Model.HandHeldFrames); heldArmed is set while it will.
	heldTimer *time.Timer
	heldArmed atomic.Bool
}

// newFramePacer paces frames at fps a second (default 30), burst of them
// back to back (default DefaultFrameBurst); onTimer is called when a held
// frame is due.
func newFramePacer(fps, burst int, onTimer func()) *framePacer {
	if fps <= 0 {
		fps = 30
	}
	if burst <= 0 {
		burst = DefaultFrameBurst
	}
	p := &framePacer{born: time.Now(), onTimer: onTimer}
	p.every = time.Second / time.Duration(fps)
	p.slack = time.Duration(burst-1) * p.every
	p.lastPaint = -int64(noticeFrames * p.every)
	return p
}

func (p *framePacer) sinceBorn() int64 { return int64(time.Since(p.born)) }

// until is how long until the next frame may be painted (<= 0: now). It
// may be called from any goroutine.
func (p *framePacer) until() time.Duration {
	return time.Duration(p.next.Load()) - time.Since(p.born)
}

// held reports that the handed-over timer will wake its owner when the
// held frame may go out, so a push of new messages (notices: join and leave
// notices only) needs to wake nobody. A message does need waking while the
// held frame is one of notices only, due later than a message's would be.
// Any goroutine may call it.
func (p *framePacer) held(notices bool) bool {
	if !p.heldArmed.Load() {
		return false
	}
	return notices || !p.noticeHold.Load() && p.until() > 0
}

// painted spends a frame of the budget.
func (p *framePacer) painted() {
	if now := time.Now(); p.tat.Before(now) {
		p.tat = now
	}
	p.tat = p.tat.Add(p.every)
	p.next.Store(int64(p.tat.Sub(p.born) - p.slack))
	p.lastPaint = p.sinceBorn()
}

// wait is how long the next frame must wait (<= 0: paint now), and whether
// that is a wait for notices only. A frame of notices only (urgent false)
// waits noticeFrames intervals after the last frame; a frame held already
// and due sooner carries this change too.
func (p *framePacer) wait(urgent bool) (wait time.Duration, notice bool) {
	wait = p.until()
	if !urgent {
		if w := time.Duration(p.lastPaint+int64(noticeFrames*p.every)) - time.Duration(p.sinceBorn()); w > wait {
			wait, notice = w, true
		}
	}
	if p.pending {
		if w := time.Duration(p.dueAt - p.sinceBorn()); w < wait {
			wait, notice = w, p.noticeHold.Load()
		}
	}
	return wait, notice
}

// hold holds a frame back for wait, on the handed-over timer if there is
// one and on the pacer's own otherwise; a frame held already for the same
// time keeps its timer.
func (p *framePacer) hold(wait time.Duration, notice bool) {
	due := p.sinceBorn() + int64(wait)
	if p.pending && due == p.dueAt && (p.heldTimer == nil || p.heldArmed.Load()) {
		return
	}
	p.pending, p.dueAt = true, due
	p.noticeHold.Store(notice)
	if p.heldTimer != nil {
		p.heldArmed.Store(true)
		p.heldTimer.Reset(wait)
		return
	}
	if p.paintTimer == nil {
		p.paintTimer = time.AfterFunc(wait, p.onTimer)
		return
	}
	p.paintTimer.Reset(wait)
}

// due reports whether the held frame may be painted now; when it is held
// but not due yet (its owner was woken for an earlier frame, see armHeld),
// the handed-over timer is armed again for it.
func (p *framePacer) due() bool {
	if !p.pending {
		return false
	}
	left := time.Duration(p.dueAt - p.sinceBorn())
	if left <= 0 {
		return true
	}
	if p.heldTimer != nil && !p.heldArmed.Swap(true) {
		p.heldTimer.Reset(left)
	}
	return false
}

// armHeld arms the handed-over timer when the next frame may not be
// painted yet, and reports whether it did (or it already was, for no
// later than that).
func (p *framePacer) armHeld() bool {
	wait := p.until()
	if p.heldTimer == nil || wait <= 0 {
		return false
	}
	if !p.heldArmed.Swap(true) || p.noticeHold.Load() {
		p.noticeHold.Store(false)
		p.heldTimer.Reset(wait)
	}
	return true
}

// handOver has wake called, instead of onTimer, when a held frame is due.
func (p *framePacer) handOver(wake func()) {
	if p.heldTimer == nil {
		p.heldTimer = time.AfterFunc(time.Hour, func() {
			p.noticeHold.Store(false)
			p.heldArmed.Store(false)
			wake()
		})
		p.heldTimer.Stop()
	}
}

// takeBack undoes handOver and reports whether a frame was held, which
// the caller must then see to.
func (p *framePacer) takeBack() (wasPending bool) {
	if p.heldTimer == nil {
		return false
	}
	p.heldTimer.Stop()
	p.heldTimer = nil
	p.heldArmed.Store(false)
	p.noticeHold.Store(false)
	wasPending = p.pending
	p.pending = false
	return wasPending
}

// stop stops both timers for good.
func (p *framePacer) stop() {
	if p.paintTimer != nil {
		p.paintTimer.Stop()
	}
	if p.heldTimer != nil {
		p.heldTimer.Stop()
	}
}
