package sshapp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/hinshun/vt10x"
)

var sgrSeq = regexp.MustCompile("\x1b\\[[0-9;]*m")

// paneSim is a message pane as the model keeps one: rows appended at the
// bottom, a window of them on screen, a side panel that may come and go.
type paneSim struct {
	rng        *rand.Rand
	w, h       int
	lines      []row
	shift      int
	side       []row
	panel      bool
	status, in row
}

func (p *paneSim) pw() int {
	if p.panel {
		return p.w - 10
	}
	return p.w
}

// text makes a row of plain width n, sometimes styled.
func (p *paneSim) text(n int) row {
	var b strings.Builder
	for b.Len() < n {
		b.WriteByte(byte('a' + p.rng.IntN(26)))
		if p.rng.IntN(5) == 0 {
			b.WriteByte(' ')
		}
	}
	s := b.String()[:n]
	if p.rng.IntN(3) == 0 && n > 2 {
		s = "\x1b[1;35m" + s[:2] + "\x1b[0m" + s[2:]
	}
	return row{text: s, width: n}
}

func (p *paneSim) widthOf() int {
	switch p.rng.IntN(4) {
	case 0:
		return p.pw() // a row that fills the pane: the cursor waits on its last cell
	case 1:
		return 0
	}
	return 1 + p.rng.IntN(p.pw())
}

func (p *paneSim) frame() []row {
	ph := p.h - 2
	var rows []row
	end := len(p.lines) - p.shift
	for y := 0; y < ph; y++ {
		var r row
		if i := end - ph + y; i >= 0 && i < end {
			r = p.lines[i]
		}
		if p.panel {
			r.side, r.sideWidth = p.side[y].text, p.side[y].width
		}
		rows = append(rows, r)
	}
	return append(rows, p.status, p.in)
}

func (p *paneSim) newSide() {
	p.side = make([]row, p.h-2)
	for y := range p.side {
		n := p.rng.IntN(10)
		s := "|" + strings.Repeat("x", max(n-1, 0))
		if n == 0 {
			s = ""
		}
		p.side[y] = row{text: s, width: len(s)}
		if s == "" {
			p.side[y] = row{text: "|", width: 1}
		}
	}
}

// step changes the pane as a session would: new messages, scrolling back
// and forth, the status or input line, the side panel.
func (p *paneSim) step() (resized bool) {
	switch p.rng.IntN(12) {
	case 0, 1, 2, 3:
		for range 1 + p.rng.IntN(3) {
			if p.panel && p.widthOf() > p.pw() {
				continue
			}
			l := p.text(p.widthOf())
			l.width = min(l.width, p.pw())
			p.lines = append(p.lines, l)
		}
	case 4:
		p.shift = min(p.shift+1+p.rng.IntN(p.h), max(len(p.lines)-(p.h-2), 0))
	case 5:
		p.shift = max(p.shift-1-p.rng.IntN(p.h), 0)
	case 6:
		p.status = p.text(p.w - p.rng.IntN(2)*p.rng.IntN(p.w))
	case 7:
		p.in = p.text(p.rng.IntN(p.w + 1))
	case 8:
		p.panel = !p.panel
		p.newSide()
		p.lines = nil // the model re-wraps its rows for the new width
		for range p.h {
			p.lines = append(p.lines, p.text(p.rng.IntN(p.pw()+1)))
		}
		p.shift = 0
	case 9:
		if p.panel {
			y := p.rng.IntN(len(p.side))
			p.side[y] = row{text: "|yy", width: 3}
		}
	case 10:
		if len(p.lines) > 0 {
			// A row changes in place (a topic, a restyle).
			i := p.rng.IntN(len(p.lines))
			p.lines[i] = p.text(p.rng.IntN(p.pw() + 1))
		}
	case 11:
		if p.rng.IntN(4) == 0 {
			p.w, p.h = 20+p.rng.IntN(40), 4+p.rng.IntN(12)
			p.newSide()
			p.lines = nil
			p.shift = 0
			p.status, p.in = p.text(p.w), p.text(1)
			return true
		}
	}
	return false
}

// want is the text a terminal should show for a frame.
func (p *paneSim) want(rows []row) string {
	var b strings.Builder
	for y, r := range rows {
		s := sgrSeq.ReplaceAllString(r.text, "")
		if r.side != "" && y < p.h-2 {
			s += strings.Repeat(" ", p.pw()-r.width) + r.side
		}
		b.WriteString(strings.TrimRight(s, " "))
		b.WriteByte('\n')
	}
	return b.String()
}

func terminalRows(term vt10x.Terminal) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(term.String(), "\n"), "\n") {
		b.WriteString(strings.TrimRight(l, " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestScreenMatchesTerminal draws thousands of frames a session could
// show (messages arriving, scrolling back, the side panel, resizes, rows
// that fill the width) through the screen into a terminal emulator, and
// checks after every frame that the terminal shows exactly the frame.
func TestScreenMatchesTerminal(t *testing.T) {
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 7))
		p := &paneSim{rng: rng, w: 20 + rng.IntN(60), h: 4 + rng.IntN(20), panel: rng.IntN(3) == 0}
		p.newSide()
		p.status, p.in = p.text(p.w), p.text(3)
		term := vt10x.New(vt10x.WithSize(p.w, p.h))
		var out bytes.Buffer
		s := newScreen(&out)
		for step := range 80 {
			if p.step() {
				term.Resize(p.w, p.h)
				s.invalidate()
			}
			frame := p.frame()
			if _, err := s.draw(frame, p.w, p.h, p.h-2, p.pw()); err != nil {
				t.Fatal(err)
			}
			_, _ = term.Write(out.Bytes())
			sent := out.String()
			out.Reset()
			if got, want := terminalRows(term), p.want(frame); got != want {
				t.Fatalf("seed %d step %d (%dx%d, panel %v): the terminal shows\n%s\nwant\n%s\nsent %q", seed, step, p.w, p.h, p.panel, got, want, sent)
			}
		}
	}
}

// TestScreenScrollsForNewMessages checks what a new message costs: the
// pane scrolls and only the new row is written, not the rows that moved.
func TestScreenScrollsForNewMessages(t *testing.T) {
	const w, h = 80, 24
	var out bytes.Buffer
	s := newScreen(&out)
	rows := make([]row, h)
	for y := range h - 2 {
		rows[y] = row{text: fmt.Sprintf("09:30 bob: message %d", y), width: 21}
	}
	rows[h-2] = row{text: strings.Repeat("s", w), width: w}
	rows[h-1] = row{text: "> ", width: 2}
	if _, err := s.draw(rows, w, h, h-2, w); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	next := append([]row(nil), rows[1:h-2]...)
	next = append(next, row{text: "09:31 carol: the newest", width: 23}, rows[h-2], rows[h-1])
	if _, err := s.draw(next, w, h, h-2, w); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	want := "\x1b[1;22r\x1b[22H\n09:31 carol: the newest\x1b[K"
	if got != want {
		t.Fatalf("a new message sent %q, want %q", got, want)
	}
	// The region is set once: the next message is a move, a line feed and
	// the row.
	out.Reset()
	next2 := append(append([]row(nil), next[1:h-2]...), row{text: "09:31 dave: again", width: 17}, rows[h-2], rows[h-1])
	if _, err := s.draw(next2, w, h, h-2, w); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "\x1b[22H\n09:31 dave: again\x1b[K" {
		t.Fatalf("second message sent %q", got)
	}
	// Nothing changed: nothing is sent.
	out.Reset()
	if _, err := s.draw(next2, w, h, h-2, w); err != nil || out.Len() != 0 {
		t.Fatalf("an unchanged frame sent %q (%v)", out.String(), err)
	}
}
