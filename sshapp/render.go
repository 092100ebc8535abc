package sshapp

import (
	"fmt"
	"securechat/textsafe"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"securechat/room"
)

// line is one screen row of the message pane, already styled, with its
// display width measured once so drawing never measures again.
type line struct {
	text  string
	width int
}

// formatMessage renders one room message into rows of at most width cells.
// Wrapped rows are indented under the text, not the name. Every string a peer
// controls is sanitised again here, so nothing in an old history file can
// reach the terminal raw.
func formatMessage(st *Styles, me, inboxHint string, m room.Message, width int, loc *time.Location, stamps string) []line {
	if width < 8 {
		width = 8
	}
	ts := timestamp(m.Time.In(loc), stamps)
	from := textsafe.Sanitize(m.From, false)
	text := textsafe.Sanitize(m.Text, true)
	var prefix, plainPrefix string
	var body func(string) string
	switch m.Kind {
	case room.KindMessage:
		plainPrefix = ts + from + ": "
		nameStyle := st.Name(from)
		prefix = st.Time.Render(ts) + nameStyle.Render(from) + ": "
		if from != me && mentions(text, me) {
			body = func(s string) string { return st.Mention.Render(s) }
		}
	case room.KindEmote:
		plainPrefix = ts + "* " + from + " "
		prefix = st.Time.Render(ts) + "* " + st.Name(from).Render(from) + " "
		if from != me && mentions(text, me) {
			body = func(s string) string { return st.Mention.Render(s) }
		}
	case room.KindJoin, room.KindLeave:
		arrow := "→ "
		if m.Kind == room.KindLeave {
			arrow = "← "
		}
		plainPrefix = ts + arrow
		prefix = st.Time.Render(ts) + st.Notice.Render(arrow)
		body = func(s string) string { return st.Notice.Render(s) }
	case room.KindPrivate:
		to := textsafe.Sanitize(m.To, false)
		label := "[private] " + from + " → " + to + ": "
		if from == me {
			label = "[private to " + to + "] "
		}
		plainPrefix = ts + label
		prefix = st.Time.Render(ts) + st.Private.Render(label)
		body = func(s string) string { return st.Private.Render(s) }
	case room.KindSealed:
		// Never the ciphertext: a line that says what it is and how to open it.
		switch {
		case m.To == me:
			text = fmt.Sprintf("#%d from %s. Open it on your machine: %s --since %d | securechat-decrypt", m.ID, from, inboxHint, m.ID-1)
		default:
			// Only what holds for every sealed message: one relayed with dm
			// was sealed on the sender's machine, to keys the server does
			// not know (securechat-decrypt --encrypt includes the sender's).
			text = fmt.Sprintf("#%d to %s sent, sealed; the server keeps only ciphertext (inbox --sent lists your copy)", m.ID, textsafe.Sanitize(m.To, false))
		}
		plainPrefix = ts + "[sealed] "
		prefix = st.Time.Render(ts) + st.Private.Render("[sealed] ")
		body = func(s string) string { return st.Private.Render(s) }
	case room.KindTopic:
		if text == "" {
			text = from + " cleared the topic"
		} else {
			text = from + " set the topic: " + text
		}
		plainPrefix = ts + "* "
		prefix = st.Time.Render(ts) + st.Notice.Render("* ")
		body = func(s string) string { return st.Notice.Render(s) }
	default: // system notices
		plainPrefix = ts + "* "
		prefix = st.Time.Render(ts) + st.Notice.Render("* ")
		body = func(s string) string { return st.Notice.Render(s) }
	}
	return wrapWithPrefix(prefix, plainPrefix, text, width, body)
}

// localLine renders a notice that only this session sees (help, errors).
func localLines(style func(string) string, text string, width int) []line {
	return wrapWithPrefix("", "", textsafe.Sanitize(text, true), width, style)
}

func wrapWithPrefix(prefix, plainPrefix, text string, width int, body func(string) string) []line {
	pw := ansi.StringWidth(plainPrefix)
	avail := width - pw
	indent := pw
	if avail < 10 {
		// Too narrow to indent under the text: wrap under the prefix.
		avail, indent = width, 0
	}
	var rows []string
	if indent == 0 && pw > 0 {
		rows = strings.Split(ansi.Wrap(plainPrefix+text, width, ""), "\n")
		prefix = "" // the prefix is part of the wrapped text, unstyled
	} else {
		rows = strings.Split(ansi.Wrap(text, avail, ""), "\n")
	}
	out := make([]line, 0, len(rows))
	pad := strings.Repeat(" ", indent)
	for i, r := range rows {
		// ansi.Wrap can end a row with the space before a word that starts
		// with "-" (as in "(inbox --sent"), one cell past the width.
		r = strings.TrimRight(r, " ")
		w := ansi.StringWidth(r)
		styled := r
		if body != nil && r != "" {
			styled = body(r)
		}
		if i == 0 {
			out = append(out, line{text: prefix + styled, width: pw*boolInt(prefix != "") + w})
			continue
		}
		out = append(out, line{text: pad + styled, width: indent + w})
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// timestamp renders a message time as the user chose: "time" (HH:MM, the
// default), "datetime" or "off".
func timestamp(t time.Time, mode string) string {
	switch mode {
	case "off":
		return ""
	case "datetime":
		return t.Format("2006-01-02 15:04") + " "
	}
	return t.Format("15:04") + " "
}

// mentions reports whether text names user as a word ("alice", "@alice",
// "Alice:"), case-insensitively; "malice" does not mention alice.
func mentions(text, user string) bool {
	n := len(user)
	if n == 0 || len(text) < n {
		return false
	}
	// Usernames are lower-case ASCII, so compare bytes folding ASCII case:
	// no allocation on this per-message, per-session path.
	for i := 0; i+n <= len(text); i++ {
		if !equalFoldASCII(text[i:i+n], user) {
			continue
		}
		before := i == 0 || !nameByte(lowerASCII(text[i-1]))
		after := i+n == len(text) || !nameByte(lowerASCII(text[i+n]))
		if before && after {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldASCII(s, lower string) bool {
	for i := 0; i < len(lower); i++ {
		if lowerASCII(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

// nameByte reports bytes that can be part of a username, so a mention must
// not touch one on either side. A trailing "." ends a sentence, not a name.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
