package main

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hinshun/vt10x"
)

// termModel is a model of one session's terminal screen that remembers
// which rows may show something new since it was last asked.
type termModel interface {
	// write feeds bytes the server sent.
	write(p []byte)
	// changedRows calls fn with each changed row, top to bottom, and
	// forgets the changes. The slice is only valid during the call.
	changedRows(fn func(y int, row []rune))
	// forget drops the record of changes.
	forget()
	// rowText is row y's characters, one per cell (valid until the next
	// call).
	rowText(y int) []rune
	size() (cols, rows int)
	// onScrollOff sets fn to be called with each changed row, not yet
	// visited by changedRows, that a scroll is about to push off the
	// region: it was on screen, however briefly, when one read carried
	// several frames. Models that cannot tell ignore it.
	onScrollOff(fn func(row []rune))
}

// Emulators --emulator chooses from.
const (
	emulatorGrid  = "grid"
	emulatorVT10x = "vt10x"
)

// newTermModel makes a cols×rows screen of the given kind.
func newTermModel(kind string, cols, rows int) (termModel, error) {
	switch kind {
	case emulatorGrid:
		return newGrid(cols, rows), nil
	case emulatorVT10x:
		return newVTModel(cols, rows), nil
	}
	return nil, fmt.Errorf("unknown emulator %q (want %s or %s)", kind, emulatorGrid, emulatorVT10x)
}

// screenText is the whole screen, rows separated by newlines and trailing
// spaces trimmed: for readiness checks and error reports.
func screenText(m termModel) string {
	_, rows := m.size()
	var b strings.Builder
	var line []rune
	for y := range rows {
		line = line[:0]
		for _, r := range m.rowText(y) {
			if r != 0 { // the second half of a wide character
				line = append(line, r)
			}
		}
		b.WriteString(strings.TrimRight(string(line), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// vtModel is the reference model: github.com/hinshun/vt10x, a complete
// emulator, through its exported API only. It is correct but costly (an
// allocation per rune parsed, two map lookups per cell read), and it cannot
// say which rows changed, so after any change every row counts as changed.
// --emulator vt10x uses it to cross-check grid.
type vtModel struct {
	term       vt10x.Terminal
	cols, rows int
	row        []rune
	pending    []byte // an incomplete UTF-8 sequence held for the next write
}

func newVTModel(cols, rows int) *vtModel {
	return &vtModel{term: vt10x.New(vt10x.WithSize(cols, rows)), cols: cols, rows: rows, row: make([]rune, cols)}
}

// write feeds the emulator. vt10x drops a multi-byte character split
// across two writes, so an incomplete one at the end waits for the next.
func (v *vtModel) write(p []byte) {
	if len(v.pending) > 0 {
		p = append(v.pending, p...)
		v.pending = nil
	}
	cut := len(p)
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				cut = i
			}
			break
		}
	}
	_, _ = v.term.Write(p[:cut])
	v.pending = append(v.pending, p[cut:]...)
}

func (v *vtModel) changedRows(fn func(y int, row []rune)) {
	if !v.changed() {
		return
	}
	for y := range v.rows {
		fn(y, v.rowText(y))
	}
}

// changed reports and clears vt10x's "screen changed" flag.
func (v *vtModel) changed() bool {
	v.term.Lock()
	defer v.term.Unlock() // Unlock clears the flags
	if c, ok := v.term.(interface{ Changed(vt10x.ChangeFlag) bool }); ok {
		return c.Changed(vt10x.ChangedScreen)
	}
	return true
}

func (v *vtModel) forget() { v.changed() }

func (v *vtModel) rowText(y int) []rune {
	for x := range v.cols {
		v.row[x] = v.term.Cell(x, y).Char
	}
	return v.row
}

func (v *vtModel) size() (int, int) { return v.cols, v.rows }

// onScrollOff is not supported by vt10x, which does not say what scrolled.
func (v *vtModel) onScrollOff(func(row []rune)) {}
