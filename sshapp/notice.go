package sshapp

import (
	"github.com/charmbracelet/x/ansi"
)

// maxNoticeRows bounds the notice line: a longer notice is cut with "…".
const maxNoticeRows = 3

// noticeLine is this session's own short feedback: a setting changed, a
// usage error, Tab's candidates. It is shown apart from the conversation,
// between the status line and the input, never enters a room's scrollback,
// and is gone with the next key (which may put the next notice there).
type noticeLine struct {
	text  string
	style func(string) string
	// rows are the drawn rows for width; nil when they must be drawn again.
	rows  []line
	width int
}

// set shows text in the notice line, replacing what was there.
func (n *noticeLine) set(style func(string) string, text string) {
	n.text, n.style, n.rows = text, style, nil
}

// clear empties the notice line and reports whether it held something.
func (n *noticeLine) clear() bool {
	if n.text == "" {
		return false
	}
	n.text, n.style, n.rows = "", nil, nil
	return true
}

// invalidate draws the notice again with the next frame (new looks).
func (n *noticeLine) invalidate() { n.rows = nil }

// view is the notice's rows for a terminal width cells wide: none when
// there is no notice.
func (n *noticeLine) view(width int) []line {
	if n.text == "" {
		return nil
	}
	if n.rows != nil && n.width == width {
		return n.rows
	}
	rows := localLines(n.style, n.text, width)
	if len(rows) > maxNoticeRows {
		last := rows[maxNoticeRows-1]
		cut := ansi.Truncate(last.text, max(width-1, 0), "") + "…"
		rows = append(rows[:maxNoticeRows-1:maxNoticeRows-1], line{text: cut, width: ansi.StringWidth(cut)})
	}
	n.rows, n.width = rows, width
	return rows
}

// notify shows a notice of this session's own in the notice line, and
// gives the pane what the notice does not take.
func (m *Model) notify(style func(string) string, text string) {
	m.note.set(style, text)
	m.rooms.resize(m.paneWidth(), m.paneHeight())
}

// clearNotice empties the notice line, giving its rows back to the pane.
func (m *Model) clearNotice() {
	if m.note.clear() {
		m.rooms.resize(m.paneWidth(), m.paneHeight())
	}
}

// noticeRows is how many rows the notice line takes: none without a
// notice, and never the last rows a pane needs on a small terminal.
func (m *Model) noticeRows() int {
	n := len(m.note.view(m.width))
	return min(n, max(m.height-3, 0))
}

// transientResults are the commands whose one-line result is feedback for
// the notice line rather than something to keep in the room's scrollback.
var transientResults = map[string]bool{
	"theme": true, "timestamps": true, "bell": true, "panel": true,
	"ignore": true, "unignore": true, "away": true, "back": true, "msg": true,
}
