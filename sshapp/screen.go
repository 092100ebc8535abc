package sshapp

import (
	"io"
	"strconv"
)

// row is one screen row of a frame: the pane's part, and the side panel's
// part drawn from column sideX when there is one. Both widths are known
// when the row is built, so drawing never measures a string.
type row struct {
	text      string
	width     int
	side      string
	sideWidth int
}

// Terminal modes a session's screen uses: the alternate screen, a hidden
// cursor (the input line draws its own), mouse reports, bracketed paste,
// and no automatic wrap (DECAWM off). The screen never relies on the
// terminal wrapping a row; it places every row itself. With wrap on, a row
// the terminal finds wider than it was measured (terminals disagree on
// some emoji: an emoji with a skin-tone modifier is two cells to the
// server and four to tmux) ran into the next row, and on the pane
// region's last row scrolled the region: the terminal no longer showed
// what the screen believed, and scrolling back drew rows out of order and
// lost one. With wrap off such a row is cut at the last column and every
// other row stays where the screen put it.
const (
	screenStart = "\x1b[?1049h\x1b[?25l\x1b[?1002h\x1b[?1006h\x1b[?2004h\x1b[?7l"
	screenEnd   = "\x1b[r\x1b[?7h\x1b[?2004l\x1b[?1006l\x1b[?1002l\x1b[?25h\x1b[?1049l"
)

// screen draws frames onto a terminal, sending only what changed since the
// frame before. When the message pane moved by whole rows it scrolls the
// terminal's pane region (DECSTBM, then line feeds or reverse index) and
// prints only the rows that came in, so a new message costs about one row's
// bytes, not a repaint of the pane. It knows what every row of the terminal
// shows, so whatever it cannot scroll it rewrites row by row, and a row that
// is unchanged costs nothing.
//
// A screen is used from one goroutine (the session's event loop).
type screen struct {
	out     io.Writer
	started bool
	valid   bool  // rows mirror the terminal; false: clear and repaint
	w, h    int   // the size rows were drawn for
	sideX   int   // the column the side panel starts at
	rows    []row // what each terminal row shows
	region  int   // the bottom of the scroll region set on the terminal (0: none)
	cy, cx  int   // the cursor, when known (cy < 0: unknown)
	buf     []byte
}

func newScreen(out io.Writer) *screen { return &screen{out: out, cy: -1} }

// invalidate makes the next draw clear the terminal and repaint it all.
func (s *screen) invalidate() { s.valid = false }

// draw brings the terminal to show next, a frame of h rows of a w-column
// screen whose first pane rows are the message pane; the side panel, if
// any, starts at column sideX. It writes everything in one Write and
// returns how many bytes that was (0: the terminal already showed next).
func (s *screen) draw(next []row, w, h, pane, sideX int) (int, error) {
	b := s.buf[:0]
	if !s.started {
		b = append(b, screenStart...)
		s.started = true
	}
	if !s.valid || w != s.w || h != s.h || sideX != s.sideX || len(next) != len(s.rows) {
		// The terminal resets its scroll region when resized; start clean.
		b = append(b, "\x1b[r\x1b[H\x1b[2J"...)
		s.w, s.h, s.sideX = w, h, sideX
		s.rows = make([]row, len(next))
		s.region = 0
		s.cy, s.cx = 0, 0
		s.valid = true
	}
	if pane >= 2 && pane <= len(next) {
		if n := shiftOf(s.rows[:pane], next[:pane]); n != 0 {
			b = s.scroll(b, pane, n)
		}
	}
	for y := range next {
		have, want := &s.rows[y], next[y]
		if *have == want {
			continue
		}
		if have.text == want.text && have.width == want.width && want.side != "" {
			// Only the side panel differs: rewrite it alone.
			b = s.moveTo(b, y, sideX)
			b = append(b, want.side...)
			if sideX+want.sideWidth < w {
				b = append(b, "\x1b[K"...)
			}
		} else {
			b = s.moveTo(b, y, 0)
			b = s.appendRow(b, want)
		}
		s.cy = -1
		*have = want
	}
	var err error
	n := len(b)
	if n > 0 {
		_, err = s.out.Write(b)
	}
	if cap(b) > 1<<10 {
		// Keep only a buffer the size of an ordinary frame (a few rows):
		// an idle session should not hold its last repaint.
		b = nil
	}
	s.buf = b[:0]
	return n, err
}

// appendRow writes one whole row from the cursor at its column 0.
func (s *screen) appendRow(b []byte, r row) []byte {
	b = append(b, r.text...)
	w := r.width
	if r.side != "" {
		if w < s.sideX {
			b = append(b, gap(s.sideX-w)...)
		}
		b = append(b, r.side...)
		w = s.sideX + r.sideWidth
	}
	if w < s.w {
		// Erase what an older, longer row left. Not on a row that fills
		// the width: there the cursor waits on the last cell, which an
		// erase would blank.
		b = append(b, "\x1b[K"...)
	}
	return b
}

// moveTo moves the cursor to row y, column x (from 0), unless it is there.
func (s *screen) moveTo(b []byte, y, x int) []byte {
	if s.cy == y && s.cx == x {
		return b
	}
	b = append(b, "\x1b["...)
	b = strconv.AppendInt(b, int64(y+1), 10)
	if x > 0 {
		b = append(b, ';')
		b = strconv.AppendInt(b, int64(x+1), 10)
	}
	return append(b, 'H')
}

// scroll moves the terminal's rows [0, pane) up by n rows (down for n < 0)
// inside a scroll region, and mirrors that in s.rows: the rows that come in
// are blank.
func (s *screen) scroll(b []byte, pane, n int) []byte {
	if s.region != pane {
		b = append(b, "\x1b[1;"...)
		b = strconv.AppendInt(b, int64(pane), 10)
		b = append(b, 'r')
		s.region = pane
		s.cy = -1 // DECSTBM homes the cursor
	}
	rows := s.rows[:pane]
	if n > 0 {
		b = s.moveTo(b, pane-1, 0)
		for range n {
			b = append(b, '\n') // at the bottom margin: scroll the region up
		}
		copy(rows, rows[n:])
		clear(rows[pane-n:])
		s.cy, s.cx = pane-1, 0
		return b
	}
	n = -n
	b = s.moveTo(b, 0, 0)
	for range n {
		b = append(b, "\x1bM"...) // reverse index at the top margin: scroll down
	}
	copy(rows[n:], rows)
	clear(rows[:n])
	s.cy, s.cx = 0, 0
	return b
}

// shiftOf finds how far the pane's content moved between two frames: n > 0
// when every row that stays moved up n rows (new messages at the bottom),
// n < 0 when it moved down (scrolling back), 0 when it did not move or did
// not move as a whole. Only the pane's part of a row counts: the side panel
// is rewritten where it differs.
func shiftOf(old, next []row) int {
	h := len(next)
	moved := false
	for i := range next {
		if old[i].text != next[i].text || old[i].width != next[i].width {
			moved = true
			break
		}
	}
	if !moved {
		return 0
	}
	for n := 1; n < h; n++ {
		if samePane(old[n:], next[:h-n]) {
			return n
		}
	}
	for n := 1; n < h; n++ {
		if samePane(old[:h-n], next[n:]) {
			return -n
		}
	}
	return 0
}

func samePane(a, b []row) bool {
	for i := range a {
		if a[i].text != b[i].text || a[i].width != b[i].width {
			return false
		}
	}
	return true
}

// close puts the terminal back as the session found it: no scroll region,
// the cursor shown, mouse reports and bracketed paste off, the main screen.
func (s *screen) close() {
	if s.started {
		_, _ = io.WriteString(s.out, screenEnd)
		s.started = false
	}
}
