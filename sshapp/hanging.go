package sshapp

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// minHangText is the least room a hanging indent must leave for the text
// beside it; narrower, wrapped rows start at column 0.
const minHangText = 20

// hangingWrap wraps one line of text to width cells. Rows after the first
// hang under it: under the second column of a two-column line such as
// "  /join #room     enter a room" (the text after a run of two or more
// spaces), or otherwise two cells in from the line's own indentation.
func hangingWrap(text string, width int) []string {
	if ansi.StringWidth(text) <= width {
		return []string{text}
	}
	indent := hangIndent(text, width)
	first := strings.SplitN(ansi.Wrap(text, width, ""), "\n", 2)[0]
	if indent == 0 || !strings.HasPrefix(text, first) {
		return strings.Split(ansi.Wrap(text, width, ""), "\n")
	}
	rest := strings.TrimLeft(text[len(first):], " ")
	rows := []string{strings.TrimRight(first, " ")}
	if rest == "" {
		return rows
	}
	pad := spaces(indent)
	for _, r := range strings.Split(ansi.Wrap(rest, width-indent, ""), "\n") {
		rows = append(rows, pad+r)
	}
	return rows
}

// hangIndent is where the rows after a line's first hang, in cells (0:
// at column 0, when the width leaves too little room).
func hangIndent(text string, width int) int {
	lead := len(text) - len(strings.TrimLeft(text, " "))
	indent := lead + 2
	if i := strings.Index(text[lead:], "  "); i > 0 {
		col := lead + i
		col += len(text[col:]) - len(strings.TrimLeft(text[col:], " "))
		if w := ansi.StringWidth(text[:col]); w <= width/2 {
			indent = w
		}
	}
	if width-indent < minHangText {
		return 0
	}
	return indent
}
