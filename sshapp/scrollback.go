package sshapp

import (
	"fmt"
	"strings"
	"time"

	"securechat/room"
)

// ring is a bounded buffer of rows; pushing past its limit drops the oldest.
// It grows on demand, so a quiet session costs little memory.
type ring struct {
	buf   []line
	start int
	n     int
	limit int
}

func newRing(limit int) ring { return ring{buf: make([]line, min(limit, 64)), limit: limit} }

func (r *ring) len() int { return r.n }

func (r *ring) at(i int) line { return r.buf[(r.start+i)%len(r.buf)] }

// pop drops the n newest rows.
func (r *ring) pop(n int) {
	for ; n > 0 && r.n > 0; n-- {
		r.n--
		r.buf[(r.start+r.n)%len(r.buf)] = line{}
	}
}

func (r *ring) push(ls ...line) {
	for _, l := range ls {
		if r.n == len(r.buf) && len(r.buf) < r.limit {
			grown := make([]line, min(len(r.buf)*2, r.limit))
			for i := 0; i < r.n; i++ {
				grown[i] = r.at(i)
			}
			r.buf, r.start = grown, 0
		}
		if r.n < len(r.buf) {
			r.buf[(r.start+r.n)%len(r.buf)] = l
			r.n++
			continue
		}
		r.buf[r.start] = l
		r.start = (r.start + 1) % len(r.buf)
	}
}

// entry is a message or a local notice as kept for re-wrapping.
type entry struct {
	msg   *room.Message // shared with other sessions: read-only; nil for local notices
	local string        // set for local notices
	style func(string) string
}

// view is one room as this session shows it: its scrollback and where the
// reader is in it.
type view struct {
	name    string
	topic   string
	members []string
	// msgs keeps recent messages (bounded) so rows can be rebuilt on resize.
	msgs   []entry
	rows   ring
	width  int // the pane width rows were formatted for
	shift  int // rows scrolled up from the bottom
	lastID uint64
	// unread counts messages that arrived while another room was on
	// screen; mentioned is set when one of them named this user.
	unread    int
	mentioned bool
	// burst is the run of join (or leave) notices the last entry shows,
	// if it is one.
	burst *burst
}

// burst is a run of join or leave notices shown as one line ("alice, bob
// and 3 others joined"), so that a crowd reconnecting fills neither the
// screen nor every session's scrollback.
type burst struct {
	kind  room.Kind
	first *room.Message
	names []string // the first burstNames
	n     int
	rows  int // rows its line takes
	// shown is n when the line was last formatted: a notice that joins the
	// burst only counts, and the line is rewritten when it is next drawn
	// (roomViews.flushBurst), so a crowd of n joining costs each session n
	// counts and a line per frame, not n lines.
	shown int
}

const (
	burstNames  = 3
	burstWindow = time.Minute // a burst takes notices this long after its first
)

func (b *burst) text() string {
	verb := " joined"
	if b.kind == room.KindLeave {
		verb = " left"
	}
	switch {
	case b.n == 1:
		return b.names[0] + verb
	case b.n == 2:
		return b.names[0] + " and " + b.names[1] + verb
	case b.n == 3:
		return b.names[0] + ", " + b.names[1] + " and " + b.names[2] + verb
	case b.n == 4:
		return strings.Join(b.names, ", ") + " and 1 other" + verb
	}
	return fmt.Sprintf("%s and %d others%s", strings.Join(b.names, ", "), b.n-len(b.names), verb)
}
