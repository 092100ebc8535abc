package sshapp

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// The outbox: what the user sends goes out one line at a time, in order,
// at the rate the room allows. Lines typed or pasted faster than the
// user's flood allowance wait here, counted beside the input, instead of
// being refused (and the sender muted) as they used to be: a paste of 200
// lines without bracketed paste arrives as 200 Enters, and every one is
// kept. Esc takes the waiting lines back into the input as one multi-line
// draft. A message longer than one message may be (a bracketed paste)
// goes as several, split at line breaks. Nothing is dropped: what cannot
// be sent is given back to the input, and the user is told.

// draftMessages is how many messages' worth of text the input and the
// outbox each hold at most (ModelConfig.MaxDraft's default): enough for a
// long paste, bounded so a client cannot grow a session's memory.
const draftMessages = 10

// outLine is one message waiting to be sent, to the room it was typed in.
type outLine struct{ room, text string }

// outbox holds the lines not sent yet; the first is the one being sent
// (busy) or waiting for the rate to allow it (waiting).
type outbox struct {
	lines   []outLine
	size    int  // characters waiting, bounded by ModelConfig.MaxDraft
	busy    bool // a send of lines[0] is under way or scheduled
	waiting bool // lines[0] waits for the rate
	told    bool // the user was told lines wait, since the outbox was last empty
	// warned: the user was told lines still wait when they asked to
	// leave; asking again leaves without them.
	warned bool
	// gen numbers the retries, so a retry scheduled before Esc emptied
	// the outbox cannot send a line a second time.
	gen int
}

// outboxRetryMsg: the wait the room asked for is over; send again.
type outboxRetryMsg struct{ gen int }

// retry sends the first line again when its wait is over.
func (m *Model) retry(msg outboxRetryMsg) tea.Cmd {
	if msg.gen != m.out.gen || !m.out.waiting {
		return nil
	}
	return m.sendHead()
}

// queue sends text to a room through the outbox, split into messages the
// room takes. When the outbox is full the text stays in the input, ending
// with a line break so what is typed next does not run into it.
func (m *Model) queue(room, text string) tea.Cmd {
	n := len([]rune(text))
	if m.out.size+n > m.cfg.MaxDraft {
		m.ed.takeBack(text + "\n")
		m.addLocal(m.format.errorStyle, fmt.Sprintf("%s wait to be sent, as much as the outbox holds: this one stays in the input (Esc takes the waiting ones back too)",
			plural(len(m.out.lines), "line", "lines")))
		return nil
	}
	parts := splitMessage(text, m.cfg.MaxMessage)
	if len(parts) > 1 {
		m.addLocal(m.format.notice, fmt.Sprintf("That is %d characters, more than one message holds (%d): it goes as %d messages, split at line breaks.",
			n, m.cfg.MaxMessage, len(parts)))
	}
	for _, p := range parts {
		m.out.lines = append(m.out.lines, outLine{room: room, text: p})
		m.out.size += len([]rune(p))
	}
	m.showOutbox()
	if m.out.busy {
		return nil
	}
	return m.sendHead()
}

// quit leaves, unless lines still wait to be sent: then the user is told
// once, and leaving needs asking again, so a paste still going out is not
// thrown away by a reflex Ctrl+C.
func (m *Model) quit() tea.Cmd {
	if n := len(m.out.lines); n > 0 && !m.out.warned {
		m.out.warned = true
		m.addLocal(m.format.errorStyle, fmt.Sprintf("%s still to send: Ctrl+C (or /quit) again leaves without %s; Esc takes %s back into the input.",
			plural(n, "line is", "lines are"), them(n), them(n)))
		return nil
	}
	m.quitting = true
	return tea.Quit
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// saySplit tells the user, before anything is sent, when the input just
// grew past what one message holds (a paste, usually): Enter will send it
// as several messages.
func (m *Model) saySplit(before int) {
	n := len(m.ed.input)
	if before > m.cfg.MaxMessage || n <= m.cfg.MaxMessage {
		return
	}
	m.addLocal(m.format.notice, fmt.Sprintf("The input holds %d characters, more than one message holds (%d): Enter sends it as %d messages, split at line breaks.",
		n, m.cfg.MaxMessage, len(splitMessage(string(m.ed.input), m.cfg.MaxMessage))))
}

// sendHead sends the first waiting line.
func (m *Model) sendHead() tea.Cmd {
	m.out.waiting = false
	if len(m.out.lines) == 0 || m.cfg.Chat == nil {
		m.out.busy = false
		m.showOutbox()
		return nil
	}
	m.out.busy = true
	m.showOutbox()
	m.sending++
	chat, l := m.cfg.Chat, m.out.lines[0]
	return func() tea.Msg { return sentMsg{text: l.text, err: chat.Send(l.room, l.text)} }
}

// sent takes the outcome of sending the first line: the next goes, or the
// same one again once the rate allows, or on a refusal the line and all
// that wait behind it go back to the input and the user is told why.
func (m *Model) sent(msg sentMsg) tea.Cmd {
	m.sending--
	var slow slowDown
	switch {
	case msg.err == nil:
		m.pop()
		return m.sendHead()
	case errors.As(msg.err, &slow):
		m.out.waiting = true
		if !m.out.told {
			m.out.told = true
			m.addLocal(m.format.notice, "You are sending faster than the room allows: your lines wait their turn and go out at the allowed rate (counted left of the input). Esc takes the waiting ones back into the input.")
		}
		m.showOutbox()
		m.out.gen++
		gen := m.out.gen
		return tea.Tick(slow.wait, func(time.Time) tea.Msg { return outboxRetryMsg{gen: gen} })
	}
	back := m.takeAll(0)
	m.addLocal(m.format.errorStyle, "not sent: "+userError(msg.err))
	if back > 1 {
		m.addLocal(m.format.notice, fmt.Sprintf("The %d lines not sent are back in the input.", back))
	}
	return nil
}

// takeBackWaiting (Esc) moves the lines that wait, all but one being sent
// right now, back into the input as one draft.
func (m *Model) takeBackWaiting() {
	from := 0
	if m.out.busy && !m.out.waiting {
		from = 1 // on its way: it cannot be called back
	}
	if n := m.takeAll(from); n > 0 {
		m.addLocal(m.format.notice, fmt.Sprintf("%s taken back into the input, line breaks kept: Enter sends them as one message (or as few as the limit allows).",
			plural(n, "waiting line", "waiting lines")))
	}
}

// takeAll moves lines[from:] back into the input and reports how many.
func (m *Model) takeAll(from int) int {
	if from >= len(m.out.lines) {
		return 0
	}
	texts := make([]string, 0, len(m.out.lines)-from)
	for _, l := range m.out.lines[from:] {
		texts = append(texts, l.text)
		m.out.size -= len([]rune(l.text))
	}
	clear(m.out.lines[from:])
	m.out.lines = m.out.lines[:from]
	if from == 0 {
		m.out = outbox{gen: m.out.gen}
	}
	m.ed.takeBack(strings.Join(texts, "\n"))
	m.showOutbox()
	return len(texts)
}

func (m *Model) pop() {
	if len(m.out.lines) == 0 {
		return
	}
	m.out.size -= len([]rune(m.out.lines[0].text))
	m.out.lines[0] = outLine{}
	m.out.lines = m.out.lines[1:]
	if len(m.out.lines) == 0 {
		m.out = outbox{gen: m.out.gen}
	}
}

// showOutbox counts the lines still to send beside the input while any
// wait (a line sent at once is not worth a flicker).
func (m *Model) showOutbox() {
	n := len(m.out.lines)
	if n > 1 || m.out.waiting {
		m.ed.setPrefix(fmt.Sprintf("[%d to send] ", n))
		return
	}
	m.ed.setPrefix("")
}

// splitMessage cuts text into messages of at most max characters, at
// line breaks where it can, else at the last space, else anywhere.
func splitMessage(text string, max int) []string {
	rs := []rune(text)
	var out []string
	for len(rs) > max {
		cut := -1
		for i := max; i > 0; i-- {
			if rs[i] == '\n' {
				cut = i
				break
			}
		}
		if cut <= 0 {
			for i := max; i > 0; i-- {
				if rs[i] == ' ' {
					cut = i
					break
				}
			}
		}
		if cut <= 0 {
			cut = max
		}
		if p := strings.TrimSpace(string(rs[:cut])); p != "" {
			out = append(out, p)
		}
		rs = rs[cut:]
		for len(rs) > 0 && (rs[0] == '\n' || rs[0] == ' ') {
			rs = rs[1:]
		}
	}
	if p := strings.TrimSpace(string(rs)); p != "" {
		out = append(out, p)
	}
	return out
}
