package main

import (
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/ansi/parser"
	"github.com/mattn/go-runewidth"
)

// grid is a small terminal model: the characters of an xterm-compatible
// screen, without colours or attributes, fed by x/ansi's table-driven
// parser. It exists because it is cheap: vt10x allocates for every rune it
// parses (its debug logging boxes each rune even when logging is off), which
// makes the load tool cost about as much as the server it measures. grid
// allocates nothing per byte.
//
// Where terminals differ, it follows xterm (its source, not the DEC manuals):
// for example erasing and inserting cancel a pending wrap, and inserting or
// deleting lines keeps the cursor's column.
//
// It covers what full-screen programs send: printing with auto-wrap and wide
// characters, cursor movement, erasing, inserting and deleting characters
// and lines, scroll regions, index and reverse index, the alternate screen,
// saving the cursor and REP. Everything else (colours, modes, titles,
// OSC/DCS strings) changes no character and is ignored.
//
// Changed rows: a row counts as changed when a character in it is written,
// erased, inserted or deleted, since any of these can complete a token.
// Scrolling and wholly cleared rows do not: moving a row shows nothing that
// was not already on screen, and a blank row shows nothing at all. So a
// renderer that scrolls and prints one new line costs one row to scan.
type grid struct {
	cols, rows int
	main, alt  [][]rune
	cells      [][]rune // main or alt
	altOn      bool
	dirty      []bool
	x, y       int
	wrapNext   bool // the last column was written: the next rune wraps first
	top, bot   int  // scroll region, inclusive
	autowrap   bool
	savedX     int
	savedY     int
	last       rune // the last printed rune, for REP
	p          *ansi.Parser
	scrollOff  func(row []rune)
}

// blank is an empty cell; the second cell of a wide character holds 0.
const blank = ' '

func newGrid(cols, rows int) *grid {
	g := &grid{cols: cols, rows: rows, dirty: make([]bool, rows)}
	g.main, g.alt = makeCells(cols, rows), makeCells(cols, rows)
	g.reset()
	g.p = ansi.NewParser()
	g.p.SetDataSize(256) // OSC and DCS payloads are ignored: keep little
	g.p.SetHandler(ansi.Handler{
		Print:     g.print,
		Execute:   g.execute,
		HandleCsi: g.csi,
		HandleEsc: g.esc,
	})
	return g
}

func makeCells(cols, rows int) [][]rune {
	cells := make([][]rune, rows)
	for y := range cells {
		cells[y] = make([]rune, cols)
		fillBlank(cells[y])
	}
	return cells
}

func fillBlank(row []rune) {
	for i := range row {
		row[i] = blank
	}
}

// reset is RIS: main screen, cleared, cursor home, default modes.
func (g *grid) reset() {
	g.cells, g.altOn = g.main, false
	for y := range g.rows {
		fillBlank(g.main[y])
		fillBlank(g.alt[y])
		g.dirty[y] = true
	}
	g.x, g.y, g.wrapNext = 0, 0, false
	g.top, g.bot = 0, g.rows-1
	g.autowrap = true
	g.savedX, g.savedY = 0, 0
}

// write feeds bytes to the parser; UTF-8 split across writes is handled by
// the parser. Printable ASCII outside any sequence, most of what a screen
// shows, skips the parser.
func (g *grid) write(p []byte) {
	for i := 0; i < len(p); {
		if !isPrintableASCII(p[i]) || g.p.State() != parser.GroundState {
			g.p.Advance(p[i])
			i++
			continue
		}
		j := i + 1
		for j < len(p) && isPrintableASCII(p[j]) {
			j++
		}
		g.putASCII(p[i:j])
		i = j
	}
}

func isPrintableASCII(b byte) bool { return b >= 0x20 && b < 0x7f }

// putASCII writes a run of printable ASCII, a row's worth at a time.
func (g *grid) putASCII(run []byte) {
	for len(run) > 0 {
		if g.wrapNext {
			g.put(rune(run[0]), 1)
			run = run[1:]
			continue
		}
		row := g.cells[g.y]
		n := min(len(run), g.cols-g.x)
		g.breakWide(row, g.x)
		g.breakWide(row, g.x+n-1)
		for i, b := range run[:n] {
			row[g.x+i] = rune(b)
		}
		g.dirty[g.y] = true
		g.last = rune(run[n-1])
		g.x += n
		if g.x >= g.cols {
			g.x, g.wrapNext = g.cols-1, g.autowrap
		}
		run = run[n:]
	}
}

// changedRows visits the changed rows top to bottom and forgets them.
func (g *grid) changedRows(fn func(y int, row []rune)) {
	for y, d := range g.dirty {
		if d {
			g.dirty[y] = false
			fn(y, g.cells[y])
		}
	}
}

func (g *grid) forget() { clear(g.dirty) }

func (g *grid) onScrollOff(fn func(row []rune)) { g.scrollOff = fn }

func (g *grid) rowText(y int) []rune { return g.cells[y] }

func (g *grid) size() (int, int) { return g.cols, g.rows }

// print puts r at the cursor.
func (g *grid) print(r rune) {
	if w := runewidth.RuneWidth(r); w > 0 { // combining marks get no cell
		g.put(r, w)
	}
}

// put writes r, w cells wide, at the cursor, wrapping first if the last
// column was written, as xterm does.
func (g *grid) put(r rune, w int) {
	if g.wrapNext || (w == 2 && g.x == g.cols-1) {
		if !g.autowrap {
			g.x = g.cols - w
		} else {
			g.x = 0
			g.index()
		}
		g.wrapNext = false
	}
	row := g.cells[g.y]
	g.breakWide(row, g.x)
	row[g.x] = r
	if w == 2 && g.x+1 < g.cols {
		g.breakWide(row, g.x+1)
		row[g.x+1] = 0
	}
	g.dirty[g.y] = true
	g.last = r
	if g.x+w < g.cols {
		g.x += w
	} else {
		g.x = g.cols - 1
		g.wrapNext = g.autowrap
	}
}

// breakWide blanks the other half of a wide character that a write at x
// would split.
func (g *grid) breakWide(row []rune, x int) {
	if row[x] == 0 && x > 0 {
		row[x-1] = blank
	}
	if x+1 < len(row) && row[x+1] == 0 {
		row[x+1] = blank
	}
}

// execute handles C0 controls.
func (g *grid) execute(b byte) {
	switch b {
	case ansi.BS:
		if g.x > 0 {
			g.x--
		}
		g.wrapNext = false
	case ansi.HT:
		g.x = min((g.x/8+1)*8, g.cols-1)
		g.wrapNext = false
	case ansi.LF, ansi.VT, ansi.FF:
		g.index()
		g.wrapNext = false
	case ansi.CR:
		g.x, g.wrapNext = 0, false
	}
}

// index moves the cursor down a row, scrolling the region up at its bottom.
func (g *grid) index() {
	switch {
	case g.y == g.bot:
		g.scrollUp(g.top, 1)
	case g.y < g.rows-1:
		g.y++
	}
}

// reverseIndex moves the cursor up a row, scrolling the region down at its
// top.
func (g *grid) reverseIndex() {
	switch {
	case g.y == g.top:
		g.scrollDown(g.top, 1)
	case g.y > 0:
		g.y--
	}
}

// scrollUp moves rows from+n..bot up to from, blanking n rows at the bottom.
func (g *grid) scrollUp(from, n int) {
	n = min(n, g.bot-from+1)
	if n <= 0 {
		return
	}
	moved := g.cells[from : g.bot+1]
	rotate(moved, n)
	// A row not yet observed stays so where it moved to: a token written
	// and scrolled up within one read still counts as shown.
	flags := g.dirty[from : g.bot+1]
	rotate(flags, n)
	for i, row := range moved[len(moved)-n:] {
		if flags[len(flags)-n+i] && g.scrollOff != nil {
			g.scrollOff(row) // pushed off the top before it was looked at
		}
		fillBlank(row)
		flags[len(flags)-n+i] = false
	}
}

// scrollDown moves rows from..bot-n down by n, blanking n rows at from.
func (g *grid) scrollDown(from, n int) {
	n = min(n, g.bot-from+1)
	if n <= 0 {
		return
	}
	moved := g.cells[from : g.bot+1]
	rotate(moved, len(moved)-n)
	flags := g.dirty[from : g.bot+1]
	rotate(flags, len(flags)-n)
	for i, row := range moved[:n] {
		if flags[i] && g.scrollOff != nil {
			g.scrollOff(row) // pushed off the bottom before it was looked at
		}
		fillBlank(row)
		flags[i] = false
	}
}

// rotate turns rows left by k, reusing the row buffers.
func rotate[T any](rows []T, k int) {
	reverse(rows[:k])
	reverse(rows[k:])
	reverse(rows)
}

func reverse[T any](rows []T) {
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
}

// esc handles ESC sequences.
func (g *grid) esc(cmd ansi.Cmd) {
	if cmd.Intermediate() != 0 {
		return // charsets and the like
	}
	switch cmd.Final() {
	case 'D':
		g.index()
		g.wrapNext = false
	case 'E':
		g.x = 0
		g.index()
		g.wrapNext = false
	case 'M':
		g.reverseIndex()
		g.wrapNext = false
	case '7':
		g.saveCursor()
	case '8':
		g.restoreCursor()
	case 'c':
		g.reset()
	}
}

func (g *grid) saveCursor() { g.savedX, g.savedY = g.x, g.y }

func (g *grid) restoreCursor() {
	g.moveTo(g.savedX, g.savedY)
}

// moveTo puts the cursor at (x, y), clamped to the screen.
func (g *grid) moveTo(x, y int) {
	g.x = min(max(x, 0), g.cols-1)
	g.y = min(max(y, 0), g.rows-1)
	g.wrapNext = false
}

// csi handles CSI sequences; n is the first parameter with 0 taken as 1.
func (g *grid) csi(cmd ansi.Cmd, params ansi.Params) {
	arg := func(i, def int) int {
		v, _, _ := params.Param(i, def)
		return v
	}
	n := max(arg(0, 1), 1)
	switch cmd.Prefix() {
	case '?':
		g.privateMode(cmd.Final(), params)
		return
	case 0:
	default:
		return
	}
	if cmd.Intermediate() != 0 {
		return
	}
	if g.cursorCSI(cmd.Final(), n, arg) {
		return
	}
	g.editCSI(cmd.Final(), n, arg)
}

// cursorCSI handles the CSI sequences that only move the cursor or set the
// scroll region; false if final is not one of them.
func (g *grid) cursorCSI(final byte, n int, arg func(i, def int) int) bool {
	switch final {
	case 'A': // CUU: up, stopping at the top margin when inside the region
		g.moveTo(g.x, max(g.y-n, g.upperBound()))
	case 'B', 'e': // CUD, VPR
		g.moveTo(g.x, min(g.y+n, g.lowerBound()))
	case 'C', 'a': // CUF, HPR
		g.moveTo(g.x+n, g.y)
	case 'D': // CUB
		g.moveTo(g.x-n, g.y)
	case 'E': // CNL
		g.moveTo(0, min(g.y+n, g.lowerBound()))
	case 'F': // CPL
		g.moveTo(0, max(g.y-n, g.upperBound()))
	case 'G', '`': // CHA, HPA
		g.moveTo(n-1, g.y)
	case 'd': // VPA
		g.moveTo(g.x, n-1)
	case 'H', 'f': // CUP, HVP
		g.moveTo(max(arg(1, 1), 1)-1, n-1)
	case 'r': // DECSTBM
		top, bot := max(arg(0, 1), 1)-1, arg(1, g.rows)-1
		if bot <= 0 || bot >= g.rows {
			bot = g.rows - 1
		}
		if top < bot {
			g.top, g.bot = top, bot
			g.moveTo(0, 0)
		}
	case 's':
		g.saveCursor()
	case 'u':
		g.restoreCursor()
	default:
		return false
	}
	return true
}

func (g *grid) upperBound() int {
	if g.y >= g.top {
		return g.top
	}
	return 0
}

func (g *grid) lowerBound() int {
	if g.y <= g.bot {
		return g.bot
	}
	return g.rows - 1
}

// editCSI handles the CSI sequences that change characters.
func (g *grid) editCSI(final byte, n int, arg func(i, def int) int) {
	row := g.cells[g.y]
	switch final {
	case 'J': // ED
		g.eraseDisplay(arg(0, 0))
	case 'K': // EL
		g.eraseLine(arg(0, 0))
	case 'X': // ECH
		g.erase(g.y, g.x, g.x+n)
	case '@': // ICH
		g.breakWide(row, g.x)
		copy(row[min(g.x+n, g.cols):], row[g.x:])
		fillBlank(row[g.x:min(g.x+n, g.cols)])
		g.dirty[g.y] = true
		g.wrapNext = false
	case 'P': // DCH
		g.breakWide(row, g.x)
		k := copy(row[g.x:], row[min(g.x+n, g.cols):])
		fillBlank(row[g.x+k:])
		g.dirty[g.y] = true
		g.wrapNext = false
	case 'L': // IL: the column stays, as in xterm
		if g.y >= g.top && g.y <= g.bot {
			g.scrollDown(g.y, n)
			g.wrapNext = false
		}
	case 'M': // DL
		if g.y >= g.top && g.y <= g.bot {
			g.scrollUp(g.y, n)
			g.wrapNext = false
		}
	case 'S': // SU
		g.scrollUp(g.top, n)
	case 'T': // SD
		g.scrollDown(g.top, n)
	case 'b': // REP
		for range min(n, g.cols*g.rows) {
			g.print(g.last)
		}
	}
}

// eraseDisplay is ED: 0 from the cursor to the end, 1 from the start to the
// cursor, 2 and 3 everything.
func (g *grid) eraseDisplay(mode int) {
	switch mode {
	case 0:
		g.erase(g.y, g.x, g.cols)
		for y := g.y + 1; y < g.rows; y++ {
			fillBlank(g.cells[y])
		}
	case 1:
		for y := 0; y < g.y; y++ {
			fillBlank(g.cells[y])
		}
		g.erase(g.y, 0, g.x+1)
	case 2, 3:
		for y := range g.rows {
			fillBlank(g.cells[y])
		}
		g.wrapNext = false
	}
}

// eraseLine is EL: 0 from the cursor to the end of the row, 1 from the
// start to the cursor, 2 the whole row.
func (g *grid) eraseLine(mode int) {
	switch mode {
	case 0:
		g.erase(g.y, g.x, g.cols)
	case 1:
		g.erase(g.y, 0, g.x+1)
	case 2:
		g.erase(g.y, 0, g.cols)
	}
}

// erase blanks columns [from, to) of row y.
func (g *grid) erase(y, from, to int) {
	row := g.cells[y]
	from, to = max(from, 0), min(to, g.cols)
	if from >= to {
		return
	}
	g.breakWide(row, from)
	g.breakWide(row, to-1)
	fillBlank(row[from:to])
	g.dirty[y] = true
	g.wrapNext = false
}

// privateMode handles DECSET and DECRST (CSI ? … h / l): the alternate
// screen and auto-wrap; other modes change no character.
func (g *grid) privateMode(final byte, params ansi.Params) {
	if final != 'h' && final != 'l' {
		return
	}
	set := final == 'h'
	for i := range params {
		switch params[i].Param(0) {
		case 7:
			g.autowrap = set
		case 47, 1047:
			g.useAlt(set, false)
		case 1049:
			g.useAlt(set, true)
		}
	}
}

// useAlt switches to the alternate screen, cleared (and back), saving and
// restoring the cursor if asked, as xterm's mode 1049 does.
func (g *grid) useAlt(on, cursor bool) {
	if on == g.altOn {
		return
	}
	g.altOn = on
	if on {
		if cursor {
			g.saveCursor()
		}
		g.cells = g.alt
		for y := range g.rows {
			fillBlank(g.alt[y])
		}
	} else {
		g.cells = g.main
		if cursor {
			g.restoreCursor()
		}
	}
	// Every row now shows something else.
	for y := range g.dirty {
		g.dirty[y] = true
	}
}
