package sshapp

import (
	"sync/atomic"
	"time"
)

// framePacer decides when a model that draws itself may paint, and wakes
// it for a frame it held back. Frames are paced as a budget (GCRA): a frame
// may be painted once now >= tat - slack, and each paint moves tat on by
// every. slack 0 holds every frame until every after the last one; more
// lets a few frames out at once, so a quiet room's messages are never held
// back. One timer per session paints held frames (no goroutine per held
// frame).
//
// The model's lock guards it, except for next and heldArmed, which the
// room's waker reads from other goroutines.
type framePacer struct {
	every, slack time.Duration
	tat          time.Time
	pending      bool // a frame is held back; its timer is set
	// next is when the next frame may be painted, in nanoseconds after
	// born.
	born time.Time
	next atomic.Int64

	// paintTimer paints a held frame by calling onTimer.
	paintTimer *time.Timer
	onTimer    func()
	// heldTimer, when set, wakes the session's pump to paint a held frame
	// instead (see Model.HandHeldFrames); heldArmed is set while it will.
	heldTimer *time.Timer
	heldArmed atomic.Bool
}

// newFramePacer paces frames at fps a second (default 30), burst of them
// back to back (default 1); onTimer is called when a held frame is due.
func newFramePacer(fps, burst int, onTimer func()) *framePacer {
	if fps <= 0 {
		fps = 30
	}
	p := &framePacer{born: time.Now(), onTimer: onTimer}
	p.every = time.Second / time.Duration(fps)
	p.slack = time.Duration(max(burst, 1)-1) * p.every
	return p
}

// until is how long until the next frame may be painted (<= 0: now). It
// may be called from any goroutine.
func (p *framePacer) until() time.Duration {
	return time.Duration(p.next.Load()) - time.Since(p.born)
}

// held reports that the next frame may not be painted yet and the handed
// over timer will wake its owner when it may. Any goroutine may call it.
func (p *framePacer) held() bool {
	return p.heldArmed.Load() && p.until() > 0
}

// painted spends a frame of the budget.
func (p *framePacer) painted() {
	if now := time.Now(); p.tat.Before(now) {
		p.tat = now
	}
	p.tat = p.tat.Add(p.every)
	p.next.Store(int64(p.tat.Sub(p.born) - p.slack))
}

// hold holds a frame back for wait, on the handed-over timer if there is
// one and on the pacer's own otherwise; a frame already held keeps its
// timer.
func (p *framePacer) hold(wait time.Duration) {
	if p.pending {
		return
	}
	p.pending = true
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

// armHeld arms the handed-over timer when the next frame may not be
// painted yet, and reports whether it did (or it already was).
func (p *framePacer) armHeld() bool {
	wait := p.until()
	if p.heldTimer == nil || wait <= 0 {
		return false
	}
	if !p.heldArmed.Swap(true) {
		p.heldTimer.Reset(wait)
	}
	return true
}

// handOver has wake called, instead of onTimer, when a held frame is due.
func (p *framePacer) handOver(wake func()) {
	if p.heldTimer == nil {
		p.heldTimer = time.AfterFunc(time.Hour, func() {
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
