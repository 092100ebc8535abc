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
	first := wrapRows(text, width)[0]
	if indent == 0 || first == "" || !strings.HasPrefix(text, first) {
		return wrapRows(text, width)
	}
	rest := strings.TrimLeft(text[len(first):], " ")
	rows := []string{strings.TrimRight(first, " ")}
	if rest == "" {
		return rows
	}
	pad := spaces(indent)
	for _, r := range wrapRows(rest, width-indent) {
		rows = append(rows, pad+r)
	}
	return rows
}

// wrapRows word-wraps one line of text (no line breaks) into rows of at
// most width cells. ansi.Wrap can leave a row too wide (seen with U+FFFD
// inside a long word) and add empty rows: such a row is cut hard, and the
// empty ones dropped.
func wrapRows(text string, width int) []string {
	var rows []string
	for _, r := range strings.Split(ansi.Wrap(text, width, ""), "\n") {
		switch {
		case r == "":
		case ansi.StringWidth(r) > width:
			rows = append(rows, strings.Split(ansi.Hardwrap(r, width, true), "\n")...)
		default:
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return []string{""}
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
