package sshapp

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
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
		Output: io.Discard, FPS: 1, FrameBurst: 1})
	m.pace.every, m.pace.slack = 50*time.Millisecond, 0
	t.Cleanup(m.CloseScreen)
	m.Update(paintMsg{}) // a frame now: the next may wait 50 ms
	if m.HoldForNextFrame() || m.FrameHeld(false) {
		t.Fatal("held with no timer handed over")
	}
	woken := make(chan struct{}, 1)
	m.HandHeldFrames(func() { woken <- struct{}{} })
	t.Cleanup(m.ReleaseHeld)
	if !m.HoldForNextFrame() || !m.FrameHeld(false) {
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
	if m.FrameHeld(false) || m.HoldForNextFrame() {
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
	if p.armHeld() || p.held(false) {
		t.Fatal("held on a timer never handed over")
	}
	p.hold(wait, false)
	if !p.pending || p.paintTimer == nil {
		t.Fatal("a held frame set no timer")
	}
	woken := make(chan struct{}, 1)
	p.handOver(func() { woken <- struct{}{} })
	if !p.armHeld() || !p.held(false) {
		t.Fatal("not held on the handed-over timer")
	}
	if !p.takeBack() || p.pending || p.held(false) {
		t.Fatal("taking the timer back forgot the held frame or kept the hold")
	}
	// Due now: the pacer's own timer fires.
	p.every, p.slack = 0, 0
	p.tat = time.Time{}
	p.painted()
	p.pending = false
	p.hold(time.Millisecond, false)
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

// A quiet session paints at once: after a quiet spell, the frames of a
// line being typed, its echo from the room and a message from someone
// else all go out without waiting, and only a frame past the budget
// (DefaultFrameBurst) is held. A key that changes nothing on screen sends
// nothing and uses no budget. Measured on the model's pacing state: one
// frame interval is a minute, so nothing refills during the test.
func TestQuietSessionPaintsAtOnce(t *testing.T) {
	var out writeCounter
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.ANSI256), Width: 100, Height: 30, Output: &out})
	m.pace.every = time.Minute
	m.pace.slack = (DefaultFrameBurst - 1) * time.Minute
	t.Cleanup(m.CloseScreen)
	held := func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.pace.pending
	}
	m.Update(paintMsg{}) // the first frame, as Init asks for it
	budget := m.UntilNextFrame()
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU}) // the input line is empty already
	if got := out.count(); got != 1 || held() {
		t.Fatalf("a key that changed nothing: %d frames sent (want 1), held %v", got, held())
	}
	if m.UntilNextFrame() > budget {
		t.Fatal("a frame that sent nothing used the frame budget")
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("hello")})
	for i, from := range []string{"alice", "bob"} { // the echo, then bob
		m.Deliver(incomingMsg{msgs: ptrs(room.Message{ID: uint64(i + 1), Time: t0, Kind: room.KindMessage, Room: "lobby", From: from, Text: "hi"})})
	}
	if got := out.count(); got != 1+3 || held() {
		t.Fatalf("after typing and two messages: %d frames sent, want 4, none held (held %v)", got, held())
	}
	m.Deliver(incomingMsg{msgs: ptrs(room.Message{ID: 3, Time: t0, Kind: room.KindMessage, Room: "lobby", From: "carol", Text: "one more"})})
	if got := out.count(); got != 4 || !held() {
		t.Fatalf("the frame past the burst: %d frames sent (want 4), held %v (want true)", got, held())
	}
}

// Join and leave notices alone wait noticeFrames frame intervals after the
// last frame, and tell the room's waker that nobody needs waking for more
// notices meanwhile; a message that arrives then is drawn at once, notices
// and all.
func TestNoticeFramesWait(t *testing.T) {
	var out writeCounter
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.ANSI256), Width: 100, Height: 30, Output: &out})
	m.pace.every = time.Minute
	m.pace.slack = (DefaultFrameBurst - 1) * time.Minute
	t.Cleanup(m.CloseScreen)
	m.HandHeldFrames(func() {})
	t.Cleanup(m.ReleaseHeld)
	m.Update(paintMsg{})
	join := func(id uint64, who string) incomingMsg {
		return incomingMsg{msgs: ptrs(room.Message{ID: id, Time: t0, Kind: room.KindJoin, Room: "lobby", From: who, Text: who + " joined"})}
	}
	m.Deliver(join(1, "bob"))
	m.Deliver(join(2, "carol"))
	if got := out.count(); got != 1 {
		t.Fatalf("notices alone were drawn at once: %d frames sent, want 1", got)
	}
	if !m.FrameHeld(true) {
		t.Fatal("more notices would wake the session although a frame of notices is held")
	}
	if m.FrameHeld(false) {
		t.Fatal("a message would not wake the session while only notices are held")
	}
	m.Deliver(incomingMsg{msgs: ptrs(room.Message{ID: 3, Time: t0, Kind: room.KindMessage, Room: "lobby", From: "bob", Text: "hello"})})
	if got := out.count(); got != 2 {
		t.Fatalf("the message was not drawn at once: %d frames sent, want 2", got)
	}
	var screen strings.Builder
	for _, r := range m.frameRows() {
		screen.WriteString(ansi.Strip(r.text) + "\n")
	}
	if !strings.Contains(screen.String(), "bob and carol joined") || !strings.Contains(screen.String(), "hello") {
		t.Fatalf("the frame lacks the notices or the message:\n%s", screen.String())
	}
}

// A frame held back for the budget that is due by the time notices arrive
// goes out then, notices and all: the notices' longer wait does not hold
// back what was already waiting (its timer may have woken the pump for
// exactly this delivery).
func TestHeldFrameDueWhenNoticesArrive(t *testing.T) {
	var out writeCounter
	m := NewModel(ModelConfig{User: "alice", Styles: testStyles(termenv.ANSI256), Width: 100, Height: 30, Output: &out, FrameBurst: 1})
	m.pace.every, m.pace.slack = 20*time.Millisecond, 0
	t.Cleanup(m.CloseScreen)
	m.HandHeldFrames(func() {}) // the pump's timer: it wakes nobody here
	t.Cleanup(m.ReleaseHeld)
	m.Update(paintMsg{})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("typed")}) // held: the budget is spent
	if got := out.count(); got != 1 {
		t.Fatalf("%d frames sent, want the typed line held back", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for m.UntilNextFrame() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the next frame never became due")
		}
		time.Sleep(time.Millisecond) // polling the pacer's clock, not waiting for an event
	}
	m.Deliver(incomingMsg{msgs: ptrs(room.Message{ID: 1, Time: t0, Kind: room.KindJoin, Room: "lobby", From: "bob", Text: "bob joined"})})
	if got := out.count(); got != 2 {
		t.Fatalf("the held frame, due, was not painted when notices came: %d frames sent, want 2", got)
	}
}
