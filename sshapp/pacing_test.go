package sshapp

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/muesli/termenv"
	"securechat/room"
)

// writeCounter counts the writes made to it: one per frame sent.
type writeCounter struct {
	mu sync.Mutex
	n  int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n++
	return len(p), nil
}

func (w *writeCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Frames are paced as a budget: FrameBurst frames go out back to back, and
// only the next one is held to the FPS rate; with a burst of 1 every frame
// after the first waits a frame interval.
func TestFrameBurst(t *testing.T) {
	for _, tc := range []struct {
		burst, immediate int
	}{{1, 1}, {2, 2}, {3, 3}} {
		t.Run(fmt.Sprintf("burst=%d", tc.burst), func(t *testing.T) {
			var out writeCounter
			// One frame a minute: nothing held back is painted during the test.
			m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.ANSI256), Width: 100, Height: 30,
				Output: &out, FPS: 1, FrameBurst: tc.burst})
			m.pace.every = time.Minute
			m.pace.slack = time.Duration(tc.burst-1) * time.Minute
			t.Cleanup(m.CloseScreen)
			m.Update(paintMsg{}) // the first frame, as Init asks for it
			for i := 1; i <= 4; i++ {
				m.Deliver(incomingMsg{msgs: ptrs(room.Message{ID: uint64(i), Time: t0, Kind: room.KindMessage, Room: "lobby",
					From: "bob", Text: fmt.Sprintf("message %d", i)})})
				want := min(i+1, tc.immediate)
				if got := out.count(); got != want {
					t.Fatalf("after message %d: %d frames sent, want %d", i, got, want)
				}
			}
			m.mu.Lock()
			pending := m.pace.pending
			m.mu.Unlock()
			if !pending {
				t.Fatal("the frame past the burst is not held back for later")
			}
		})
	}
}

// While the next frame may not go out, the pump can hold what waits for it:
// HoldForNextFrame arms the handed-over timer, FrameHeld tells the room's
// waker that nobody needs waking, and when the frame may go out the timer
// wakes the pump and the hold is over. Without a handed-over timer, or once
// the frame is due, nothing is held.
func TestHoldForNextFrame(t *testing.T) {
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.ANSI256), Width: 100, Height: 30,
		Output: io.Discard, FPS: 1})
	m.pace.every = 50 * time.Millisecond
	t.Cleanup(m.CloseScreen)
	m.Update(paintMsg{}) // a frame now: the next may wait 50 ms
	if m.HoldForNextFrame() || m.FrameHeld() {
		t.Fatal("held with no timer handed over")
	}
	woken := make(chan struct{}, 1)
	m.HandHeldFrames(func() { woken <- struct{}{} })
	t.Cleanup(m.ReleaseHeld)
	if !m.HoldForNextFrame() || !m.FrameHeld() {
		t.Fatal("not held although the next frame may not go out yet")
	}
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("the held-frame timer did not wake the pump")
	}
	if m.UntilNextFrame() > 0 {
		t.Fatalf("woken %s before the frame may go out", m.UntilNextFrame())
	}
	if m.FrameHeld() || m.HoldForNextFrame() {
		t.Fatal("still held once the frame may go out")
	}
}

// The pacer alone: burst frames may go out at once, then each waits its
// interval; a held frame waits on the pacer's own timer until the timer is
// handed over, and on the handed-over one after.
func TestFramePacer(t *testing.T) {
	fired := make(chan struct{}, 4)
	p := newFramePacer(1, 2, func() { fired <- struct{}{} })
	t.Cleanup(p.stop)
	if p.every != time.Second || p.slack != time.Second {
		t.Fatalf("every %s slack %s", p.every, p.slack)
	}
	p.every, p.slack = time.Hour, time.Hour // nothing comes due during the test
	for i := range 2 {
		if p.until() > 0 {
			t.Fatalf("frame %d of a burst of 2 held", i+1)
		}
		p.painted()
	}
	wait := p.until()
	if wait <= 0 || wait > time.Hour {
		t.Fatalf("after the burst: next in %s", wait)
	}
	if p.armHeld() || p.held() {
		t.Fatal("held on a timer never handed over")
	}
	p.hold(wait)
	if !p.pending || p.paintTimer == nil {
		t.Fatal("a held frame set no timer")
	}
	woken := make(chan struct{}, 1)
	p.handOver(func() { woken <- struct{}{} })
	if !p.armHeld() || !p.held() {
		t.Fatal("not held on the handed-over timer")
	}
	if !p.takeBack() || p.pending || p.held() {
		t.Fatal("taking the timer back forgot the held frame or kept the hold")
	}
	// Due now: the pacer's own timer fires.
	p.every, p.slack = 0, 0
	p.tat = time.Time{}
	p.painted()
	p.pending = false
	p.hold(time.Millisecond)
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("the pacer's timer did not fire")
	}
	select {
	case <-woken:
		t.Fatal("a timer taken back still woke its old owner")
	default:
	}
}
