package sshapp

import (
	"fmt"
	"strings"
	"time"

	"securechat/room"
)

// This file is how a Model gets onto a terminal: the frame it lays out from
// its parts, View for Bubble Tea's renderer, and, for a model that draws
// itself, painting paced by its framePacer.

// Deliver hands a model that draws itself what the room queued for it,
// straight from the session's pump: no trip through the program's event
// loop, and the frame is painted (or held back) as Update would.
func (m *Model) Deliver(msg incomingMsg) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cmd := m.incoming(&msg) // not through update: no boxing per delivery
	m.frameDue(!onlyNotices(msg.msgs))
	if cmd != nil {
		cmd() // the bell: a byte for the terminal, nothing for the model
	}
}

// onlyNotices reports whether a batch holds nothing but join and leave
// notices.
func onlyNotices(msgs []*room.Message) bool {
	for _, rm := range msgs {
		if rm.To != "" || rm.Kind != room.KindJoin && rm.Kind != room.KindLeave {
			return false
		}
	}
	return true
}

// frameDue paints now, or holds the frame back until the pacer allows it;
// a frame of join and leave notices only (urgent false) waits longer. A
// frame held back that is due by now is painted at once, before its timer
// calls; one that becomes urgent is brought forward. The caller holds
// m.mu.
func (m *Model) frameDue(urgent bool) {
	if m.scr == nil || m.quitting {
		return
	}
	if wait, notice := m.pace.wait(urgent); wait > 0 {
		m.pace.hold(wait, notice)
		return
	}
	m.pace.pending = false
	m.paint()
}

// UntilNextFrame is how long until the next frame may be painted (<= 0:
// now). Unlike the rest of the model it may be called from any goroutine.
func (m *Model) UntilNextFrame() time.Duration { return m.pace.until() }

// FrameHeld reports that the timer handed over by HandHeldFrames will wake
// the caller when the held frame may go out, so a push of messages
// (notices: join and leave notices only) needs to wake nobody. It may be
// called from any goroutine.
func (m *Model) FrameHeld(notices bool) bool { return m.pace.held(notices) }

// HoldForNextFrame arms the handed-over timer when the next frame may not
// be painted yet, and reports whether it did (or it already was): the
// caller then leaves what waits for the frame until the timer wakes it.
func (m *Model) HoldForNextFrame() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.scr == nil || m.quitting {
		return false
	}
	return m.pace.armHeld()
}

// HandHeldFrames hands the painting of held-back frames to the caller:
// from now on, when a held frame is due, wake is called (on a timer's
// goroutine; it must not block), and the caller then calls PaintHeld, until
// ReleaseHeld. The session's pump does this, so frames are drawn on a
// goroutine whose stack already fits the SSH write path; a timer's function
// runs on a new goroutine every time, which grew its stack for every held
// frame.
func (m *Model) HandHeldFrames(wake func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pace.handOver(wake)
}

// PaintHeld paints the frame held back, if there is one and it is due;
// when it is not due yet, the timer still calls for it.
func (m *Model) PaintHeld() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.pace.due() {
		return
	}
	m.pace.pending = false
	m.paint()
}

// ReleaseHeld takes back what HandHeldFrames handed over: a frame held back
// now, or later, is painted by the model's own timer.
func (m *Model) ReleaseHeld() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pace.takeBack() {
		m.frameDue(true)
	}
}

// paint draws the frame onto the terminal. A frame that sends nothing
// (a key that changed nothing on screen) uses none of the frame budget.
func (m *Model) paint() {
	if m.scr == nil || m.quitting {
		return
	}
	rows := m.frameRows()
	if n, _ := m.scr.draw(rows, m.width, m.height, m.paneHeight(), m.paneWidth()); n > 0 {
		m.pace.painted()
	}
}

// CloseScreen gives the terminal back as the session found it (a model
// that draws itself; nothing otherwise).
func (m *Model) CloseScreen() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.quitting = true // nothing more is drawn
	m.pace.stop()
	if m.scr != nil {
		m.scr.close()
	}
}

// View implements tea.Model: the frame as one string, for the renderer of
// Bubble Tea. A model that draws itself returns nothing.
func (m *Model) View() string {
	if m.scr != nil || m.quitting {
		return ""
	}
	rows := m.frameRows()
	var b strings.Builder
	b.Grow(m.lastView + 256) // one allocation per frame
	pw := m.paneWidth()
	for i, r := range rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.text)
		if r.side != "" {
			if r.width < pw {
				b.WriteString(gap(pw - r.width))
			}
			b.WriteString(r.side)
		}
	}
	m.lastView = b.Len()
	return b.String()
}

// frameRows lays out a frame: the pane's rows (with the side panel beside
// them when it is shown), the status line and the input line. The rows
// are shared strings from the format cache and the cached lines; the slice
// is reused from frame to frame.
func (m *Model) frameRows() []row {
	m.rooms.flushBurst(m.rooms.cur)
	pw, ph := m.paneWidth(), m.paneHeight()
	var who []line
	if pw != m.width {
		who = m.chrome.side(m.format.st, ph, &m.rooms)
	}
	rows := m.frame[:0]
	v := m.rooms.cur
	total := v.rows.len()
	end := total - v.shift
	start := end - ph
	for y := 0; y < ph; y++ {
		var r row
		if i := start + y; i >= 0 && i < total {
			l := v.rows.at(i)
			r.text, r.width = l.text, l.width
		}
		if who != nil {
			r.side, r.sideWidth = who[y].text, who[y].width
		}
		rows = append(rows, r)
	}
	if m.height >= 2 {
		rows = append(rows, row{text: m.chrome.status(m.format.st, m.width, &m.rooms), width: m.chrome.statusWidth})
	}
	for _, l := range m.note.view(m.width)[:m.noticeRows()] {
		rows = append(rows, row{text: l.text, width: l.width})
	}
	in, inw := m.ed.view(m.format.st, m.width)
	rows = append(rows, row{text: in, width: inw})
	m.frame = rows
	return rows
}

// blank is a run of spaces that padding slices from, so drawing a frame
// allocates no padding.
var blank = strings.Repeat(" ", 512)

func spaces(n int) string {
	if n <= len(blank) {
		return blank[:n]
	}
	return strings.Repeat(" ", n)
}

// gap moves the cursor n cells right, blanking them: for wide gaps an erase
// (ECH) and a cursor move (CUF) are a dozen bytes where spaces would be up
// to a screen's width, and every repainted row of the pane has one.
func gap(n int) string {
	if n <= 12 {
		return spaces(n)
	}
	if n < len(gapSeqs) {
		return gapSeqs[n]
	}
	return fmt.Sprintf("\x1b[%dX\x1b[%dC", n, n)
}

var gapSeqs = func() []string {
	seqs := make([]string, 320)
	for n := range seqs {
		seqs[n] = fmt.Sprintf("\x1b[%dX\x1b[%dC", n, n)
	}
	return seqs
}()
