package sshapp

import (
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/mattn/go-runewidth"
	"securechat/textsafe"
)

// sendButton is drawn at the right end of the input line; a click on it
// sends (see Model.mouse).
const sendButton = "[ Send ]"

// lineEditor is the input line: what is being typed and where the cursor
// is, the editing keys, what was typed before (Up/Down) and Tab
// completion. It knows nothing of rooms, the server or the terminal: what
// completion may offer is handed to it, and it draws itself into a string.
type lineEditor struct {
	input  []rune
	cursor int
	max    int // the longest line in characters

	// history of this user's own inputs for Up/Down; histAt indexes it
	// while recalling (len(history) when not recalling).
	history []string
	histAt  int
	// lastTab is the word the last Tab completed, so that a second Tab on
	// it does not list the candidates again.
	lastTab string

	// cache is the drawn line; it changes only when the line, the cursor,
	// the width or the theme does.
	cache      string
	cacheWidth int
	cacheKey   inputState
	cacheRunes []rune
}

// inputState is what the drawn input line depends on besides the line's
// runes, which cacheRunes keeps: comparing them needs no string built per
// frame.
type inputState struct {
	cursor int
	width  int
	theme  string
}

func newLineEditor(max int) lineEditor { return lineEditor{max: max} }

// line is what was typed, without surrounding space.
func (e *lineEditor) line() string { return strings.TrimSpace(string(e.input)) }

func (e *lineEditor) empty() bool { return len(e.input) == 0 }

// clear empties the line, keeping its storage.
func (e *lineEditor) clear() { e.input, e.cursor = e.input[:0], 0 }

// set replaces the line and puts the cursor at its end.
func (e *lineEditor) set(s string) {
	e.input = []rune(s)
	e.cursor = len(e.input)
}

// restore gives back text the program could not use (a refused message or
// command) when the line is free, so nothing typed is lost.
func (e *lineEditor) restore(s string) {
	if e.empty() {
		e.set(s)
	}
}

// edit applies an editing key and reports whether it was one; cut is set
// when typed text did not fit the message limit and was not taken.
func (e *lineEditor) edit(k tea.KeyMsg) (handled, cut bool) {
	switch k.Type {
	case tea.KeyCtrlJ:
		e.insertNewline()
	case tea.KeyLeft, tea.KeyCtrlB:
		e.cursor = max(e.cursor-1, 0)
	case tea.KeyRight, tea.KeyCtrlF:
		e.cursor = min(e.cursor+1, len(e.input))
	case tea.KeyHome, tea.KeyCtrlA:
		e.cursor = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		e.cursor = len(e.input)
	case tea.KeyBackspace, tea.KeyCtrlH:
		if e.cursor > 0 {
			e.cursor--
			e.deleteAt(e.cursor)
		}
	case tea.KeyDelete, tea.KeyCtrlD:
		e.deleteAt(e.cursor)
	case tea.KeyCtrlU:
		e.input = append(e.input[:0], e.input[e.cursor:]...)
		e.cursor = 0
	case tea.KeyCtrlK:
		e.input = e.input[:e.cursor]
	case tea.KeyCtrlW:
		i := e.cursor
		for i > 0 && e.input[i-1] == ' ' {
			i--
		}
		for i > 0 && e.input[i-1] != ' ' {
			i--
		}
		e.input = append(e.input[:i], e.input[e.cursor:]...)
		e.cursor = i
	case tea.KeyUp:
		e.recall(-1)
	case tea.KeyDown:
		e.recall(1)
	case tea.KeySpace:
		return true, e.insert([]rune{' '})
	case tea.KeyRunes:
		return true, e.insert(k.Runes)
	default:
		return false, false
	}
	return true, false
}

func (e *lineEditor) deleteAt(i int) {
	if i >= 0 && i < len(e.input) {
		e.input = append(e.input[:i], e.input[i+1:]...)
	}
}

// insert types runes at the cursor. Control characters never enter the
// line, and the line never grows past the message limit: what does not fit
// is refused and insert reports it, so the user can be told it was cut.
func (e *lineEditor) insert(rs []rune) (cut bool) {
	clean := []rune(textsafe.Sanitize(string(rs), false))
	room := e.max - len(e.input)
	if len(clean) > room {
		clean = clean[:max(room, 0)]
		cut = true
	}
	if len(clean) == 0 {
		return cut
	}
	e.input = append(e.input[:e.cursor], append(clean, e.input[e.cursor:]...)...)
	e.cursor += len(clean)
	return cut
}

func (e *lineEditor) insertNewline() {
	if len(e.input) >= e.max {
		return
	}
	e.input = append(e.input[:e.cursor], append([]rune{'\n'}, e.input[e.cursor:]...)...)
	e.cursor++
}

// remember keeps what the user typed for Up/Down, without repeats in a row.
func (e *lineEditor) remember(text string) {
	if n := len(e.history); n == 0 || e.history[n-1] != text {
		e.history = append(e.history, text)
		if len(e.history) > 100 {
			e.history = slices.Delete(e.history, 0, len(e.history)-100)
		}
	}
	e.histAt = len(e.history)
}

// recall moves through earlier inputs: -1 older, +1 newer; past the newest
// the line is empty again.
func (e *lineEditor) recall(dir int) {
	if len(e.history) == 0 {
		return
	}
	at := min(max(e.histAt+dir, 0), len(e.history))
	e.histAt = at
	if at == len(e.history) {
		e.set("")
		return
	}
	e.set(e.history[at])
}

// completions are what Tab may offer: commands after a leading "/", the
// rooms after "#", and the names of the people here otherwise. rooms is
// called only when a room is being completed.
type completions struct {
	commands []string
	rooms    func() []string
	members  []string
}

// complete finishes the word before the cursor: a command after a leading
// "/", a room after "#", otherwise a username (with or without "@"). One
// match is completed; several are completed to their common prefix, and
// list returns them the first time that word is completed.
func (e *lineEditor) complete(c completions) (list string) {
	start := e.cursor
	for start > 0 && e.input[start-1] != ' ' && e.input[start-1] != '\n' {
		start--
	}
	word := strings.ToLower(string(e.input[start:e.cursor]))
	var pool []string
	prefix := word
	switch {
	case start == 0 && strings.HasPrefix(word, "/"):
		pool = c.commands
	case strings.HasPrefix(word, "#"):
		if c.rooms != nil {
			pool = c.rooms()
		}
	case strings.HasPrefix(word, "@"):
		prefix = word[1:]
		pool = c.members
	default:
		pool = c.members
	}
	var matches []string
	for _, m := range pool {
		if strings.HasPrefix(m, prefix) {
			matches = append(matches, m)
		}
	}
	if len(matches) == 0 {
		return ""
	}
	common := matches[0]
	for _, m := range matches[1:] {
		for !strings.HasPrefix(m, common) {
			common = common[:len(common)-1]
		}
	}
	fill := common[len(prefix):]
	if len(matches) == 1 {
		fill += " "
	} else if e.lastTab != word {
		list = strings.Join(matches, "  ")
	}
	e.lastTab = word
	rs := []rune(fill)
	e.input = append(e.input[:e.cursor], append(rs, e.input[e.cursor:]...)...)
	e.cursor += len(rs)
	return list
}

// invalidate makes the next view draw the line again (after a change of
// styles).
func (e *lineEditor) invalidate() { e.cache = "" }

// view is the drawn line and its width, drawn again only when something it
// shows changed: idle frames cost no styling.
func (e *lineEditor) view(st *Styles, width int) (string, int) {
	k := inputState{cursor: e.cursor, width: width, theme: st.Theme()}
	if k != e.cacheKey || e.cache == "" || !slices.Equal(e.input, e.cacheRunes) {
		e.cache, e.cacheKey = e.draw(st, width), k
		e.cacheRunes = append(e.cacheRunes[:0], e.input...)
		e.cacheWidth = ansi.StringWidth(e.cache)
	}
	return e.cache, e.cacheWidth
}

// draw draws "> text" with a block cursor, scrolled horizontally so the
// cursor is always visible, and the Send button at the right edge.
func (e *lineEditor) draw(st *Styles, width int) string {
	prompt := "> "
	field := width - len(prompt) - len(sendButton) - 1
	if field < 4 {
		return st.Prompt.Render(prompt)
	}
	// Find the first rune to show so the cursor fits in the field.
	start := 0
	w := 1 // room for the cursor cell
	for i := e.cursor - 1; i >= 0; i-- {
		rw := cellWidth(e.input[i])
		if w+rw > field {
			start = i + 1
			break
		}
		w += rw
	}
	var b strings.Builder
	b.WriteString(st.Prompt.Render(prompt))
	used := 0
	for i := start; i < len(e.input); i++ {
		r := e.input[i]
		rw := cellWidth(r)
		if used+rw > field {
			break
		}
		shown := string(r)
		if r == '\n' {
			shown = "↵" // a line break inside a multi-line message
		}
		if i == e.cursor {
			b.WriteString(st.Cursor.Render(shown))
		} else {
			b.WriteString(shown)
		}
		used += rw
	}
	if e.cursor == len(e.input) && used < field {
		b.WriteString(st.Cursor.Render(" "))
		used++
	}
	b.WriteString(strings.Repeat(" ", field-used+1))
	b.WriteString(st.Button.Render(sendButton))
	return b.String()
}

// cellWidth is how many cells a rune of the input line takes; a line break
// shows as one "↵".
func cellWidth(r rune) int {
	if r == '\n' {
		return 1
	}
	return runewidth.RuneWidth(r)
}
