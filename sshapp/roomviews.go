package sshapp

import (
	"fmt"
	"slices"
	"time"

	"github.com/muesli/termenv"
	"securechat/room"
	"securechat/textsafe"
)

// formatter turns entries into styled rows for one viewer: the styles and
// the timestamps change with the user's settings; the rest is fixed.
type formatter struct {
	st        *Styles
	user      string
	inboxHint string
	loc       *time.Location
	stamps    string
	// cache shares formatted messages between sessions (nil: no sharing);
	// profile is this session's colour profile, part of the cache key.
	cache   *formatCache
	profile termenv.Profile
}

func (f *formatter) notice(s string) string     { return f.st.Notice.Render(s) }
func (f *formatter) errorStyle(s string) string { return f.st.Error.Render(s) }

// lines formats an entry into rows of at most w cells.
func (f *formatter) lines(e entry, w int) []line {
	if e.local != "" {
		return localLines(e.style, e.local, w)
	}
	// Private and sealed lines read differently for each viewer; everything
	// else with an ID looks the same to every session of this width and
	// profile, so it is formatted once for all of them.
	// A line that mentions this user is highlighted for this user only.
	shared := f.cache != nil && e.msg.ID != 0 && e.msg.To == "" && f.loc == time.UTC &&
		!mentions(e.msg.Text, f.user)
	if !shared {
		return formatMessage(f.st, f.user, f.inboxHint, *e.msg, w, f.loc, f.stamps)
	}
	k := formatKey{id: e.msg.ID, width: w, profile: f.profile, theme: f.st.Theme(), stamps: f.stamps}
	if l, ok := f.cache.get(k); ok {
		return l
	}
	l := formatMessage(f.st, f.user, f.inboxHint, *e.msg, w, f.loc, f.stamps)
	f.cache.put(k, l)
	return l
}

// roomViews are the rooms this session is in, one view each, and which one
// is on screen. Per message it does O(1) work: the message is formatted once
// into rows appended to a bounded ring; only a change of width re-wraps.
// It tells the chrome when what the status line or the side panel show
// changed.
type roomViews struct {
	format     *formatter
	chrome     *chrome
	lobby      string
	scrollback int // entries (and rows) kept per room
	width      int // the pane's size
	height     int

	views map[string]*view
	order []string // lobby first, then in the order joined
	cur   *view    // the view on screen
	// ignore holds users whose messages this user does not want to see.
	ignore map[string]bool
}

func newRoomViews(f *formatter, c *chrome, lobby string, scrollback, width, height int, ignore []string) roomViews {
	rv := roomViews{format: f, chrome: c, lobby: lobby, scrollback: scrollback, width: width, height: height,
		views: map[string]*view{}, ignore: map[string]bool{}}
	for _, n := range ignore {
		rv.ignore[n] = true
	}
	return rv
}

// open adds a room's view with its backlog, marking where messages new
// since the user's last visit start.
func (rv *roomViews) open(r RoomState) *view {
	v := &view{name: r.Name, topic: r.Topic, members: r.Members, rows: newRing(rv.scrollback), width: rv.width}
	rv.views[r.Name] = v
	rv.order = append(rv.order, r.Name)
	if rv.cur == nil {
		rv.cur = v
	}
	notice := rv.format.notice
	marked := r.LastRead == 0
	backlog := r.Backlog
	// The user's own join, stored as they entered, is news of now, not an
	// earlier message: it goes under the marker, not above it.
	var ownJoin *room.Message
	if n := len(backlog); n > 0 && backlog[n-1].Kind == room.KindJoin && backlog[n-1].From == rv.format.user {
		ownJoin, backlog = backlog[n-1], backlog[:n-1]
		v.lastID = ownJoin.ID
	}
	for _, b := range backlog {
		if !marked && b.ID > r.LastRead {
			rv.addTo(v, entry{local: "— new since your last visit —", style: notice})
			marked = true
		}
		if b.ID > v.lastID {
			v.lastID = b.ID
		}
		if !rv.hidden(b) {
			rv.addTo(v, entry{msg: b})
		}
	}
	if len(backlog) > 0 {
		rv.addTo(v, entry{local: "— " + plural(len(backlog), "earlier message", "earlier messages") + " above —", style: notice})
	}
	if ownJoin != nil {
		rv.addTo(v, entry{msg: ownJoin})
	}
	if r.Name != rv.lobby {
		note := fmt.Sprintf("You are in #%s. Here (%d): %s.", r.Name, len(r.Members), someNames(r.Members))
		if r.Topic != "" {
			note += " Topic: " + r.Topic
		}
		rv.addTo(v, entry{local: note, style: notice})
	}
	v.unread, v.mentioned = 0, false
	rv.chrome.sideChanged()
	return v
}

// close drops a room's view and shows the lobby.
func (rv *roomViews) close(name string) {
	delete(rv.views, name)
	rv.order = slices.DeleteFunc(rv.order, func(n string) bool { return n == name })
	if rv.cur.name == name {
		rv.show(rv.views[rv.lobby])
	}
	rv.chrome.sideChanged()
}

// show puts a view on screen, re-wrapping it if the width changed since.
func (rv *roomViews) show(v *view) {
	if v == nil {
		return
	}
	rv.cur = v
	v.unread, v.mentioned = 0, false
	if v.width != rv.width {
		rv.reflow()
	}
	rv.chrome.sideChanged()
}

// cycle shows the next (+1) or previous (-1) room.
func (rv *roomViews) cycle(dir int) {
	if len(rv.order) < 2 {
		return
	}
	i := slices.Index(rv.order, rv.cur.name)
	i = (i + dir + len(rv.order)) % len(rv.order)
	rv.show(rv.views[rv.order[i]])
}

// resize takes the pane's new size, re-wrapping the view on screen when
// the width changed.
func (rv *roomViews) resize(width, height int) {
	old := rv.width
	rv.width, rv.height = width, height
	if width != old {
		rv.reflow()
	}
}

// reflow rebuilds the rows of the view on screen after a change of width
// or looks: the one O(n) operation, and it happens only then.
func (rv *roomViews) reflow() {
	v := rv.cur
	rv.flushBurst(v)
	v.burst = nil // its rows change: the next notice starts a new line
	v.width = rv.width
	v.rows = newRing(rv.scrollback)
	for _, e := range v.msgs {
		v.rows.push(rv.format.lines(e, v.width)...)
	}
	v.shift = 0
}

// scroll moves the view on screen n rows back (n < 0: forward), within
// what it holds.
func (rv *roomViews) scroll(n int) {
	rv.flushBurst(rv.cur)
	maxShift := max(rv.cur.rows.len()-rv.height, 0)
	rv.cur.shift = min(max(rv.cur.shift+n, 0), maxShift)
	rv.chrome.statusChanged()
}

// bottom shows the newest rows of the view on screen.
func (rv *roomViews) bottom() {
	rv.cur.shift = 0
	rv.chrome.statusChanged()
}

// addLocal appends a notice of this session's own to the view on screen.
func (rv *roomViews) addLocal(style func(string) string, text string) {
	rv.addTo(rv.cur, entry{local: text, style: style})
}

// deliver shows one message from the room in its view, and reports
// whether it was shown (not ignored, not already in the backlog, in a room
// this session is in).
func (rv *roomViews) deliver(rm *room.Message) bool {
	v := rv.cur
	if rm.To == "" && rm.Room != "" && rm.Room != v.name {
		v = rv.views[rm.Room]
	}
	if v == nil || rv.hidden(rm) {
		return false
	}
	if rm.ID != 0 && rm.To == "" {
		if rm.ID <= v.lastID {
			return false // already shown in the backlog
		}
		v.lastID = rm.ID
	}
	if rm.Kind == room.KindTopic {
		v.topic = textsafe.Sanitize(rm.Text, false)
		rv.chrome.statusChanged()
	}
	rv.addTo(v, entry{msg: rm})
	return true
}

// setMembers takes who is in a room now.
func (rv *roomViews) setMembers(name string, members []string) {
	if v := rv.views[name]; v != nil {
		v.members = members
		rv.chrome.sideChanged()
	}
}

// addTo formats an entry at the view's width and appends its rows.
func (rv *roomViews) addTo(v *view, e entry) {
	if len(v.msgs) >= rv.scrollback {
		// Drop the oldest half at once so trimming is amortised O(1).
		n := copy(v.msgs, v.msgs[len(v.msgs)/2:])
		clear(v.msgs[n:])
		v.msgs = v.msgs[:n]
	}
	if rv.merge(v, e) {
		return
	}
	v.msgs = append(v.msgs, e)
	rows := rv.format.lines(e, v.width)
	v.rows.push(rows...)
	if v.burst != nil {
		v.burst.rows = len(rows)
	}
	if v != rv.cur {
		if e.local == "" {
			v.unread++
			user := rv.format.user
			v.mentioned = v.mentioned || mentions(e.msg.Text, user) && e.msg.From != user
			rv.chrome.sideChanged()
		}
		return
	}
	if v.shift > 0 {
		// Keep what the reader is looking at still while they read back.
		v.shift = min(v.shift+len(rows), max(v.rows.len()-rv.height, 0))
		rv.chrome.statusChanged()
	}
}

// merge folds a join or leave notice into the burst the view ends with; it
// reports false when e starts no burst or cannot join the one there. The
// burst's line is rewritten later, by flushBurst.
func (rv *roomViews) merge(v *view, e entry) bool {
	kind := room.Kind("")
	if e.msg != nil && e.msg.To == "" && (e.msg.Kind == room.KindJoin || e.msg.Kind == room.KindLeave) {
		kind = e.msg.Kind
	}
	b := v.burst
	if kind == "" || b == nil || b.kind != kind || e.msg.Time.Sub(b.first.Time) >= burstWindow || len(v.msgs) == 0 {
		rv.flushBurst(v) // its line is final before anything follows it
		v.burst = nil
		if kind != "" {
			v.burst = &burst{kind: kind, first: e.msg, names: []string{e.msg.From}, n: 1, shown: 1}
		}
		return false
	}
	b.n++
	if len(b.names) < burstNames {
		b.names = append(b.names, e.msg.From)
	}
	return true
}

// flushBurst rewrites the line of v's burst if notices joined it since it
// was last formatted. Whatever reads v's rows calls it first.
func (rv *roomViews) flushBurst(v *view) {
	b := v.burst
	if b == nil || b.shown == b.n || len(v.msgs) == 0 {
		return
	}
	b.shown = b.n
	line := &room.Message{Time: b.first.Time, Kind: b.kind, Room: b.first.Room, From: b.first.From, Text: b.text()}
	v.msgs[len(v.msgs)-1] = entry{msg: line}
	v.rows.pop(b.rows)
	rows := rv.format.lines(entry{msg: line}, v.width)
	v.rows.push(rows...)
	if v == rv.cur && v.shift > 0 {
		v.shift = min(max(v.shift+len(rows)-b.rows, 0), max(v.rows.len()-rv.height, 0))
	}
	b.rows = len(rows)
}

// hidden reports messages from users this user ignores. Notices stay: who
// joins and leaves is still worth knowing.
func (rv *roomViews) hidden(rm *room.Message) bool {
	switch rm.Kind {
	case room.KindMessage, room.KindPrivate, room.KindSealed:
		return rv.ignore[rm.From] && rm.From != rv.format.user
	}
	return false
}

// sortedNames are the rooms as Tab completes them: "#name", sorted.
func (rv *roomViews) sortedNames() []string {
	names := make([]string, 0, len(rv.views))
	for name := range rv.views {
		names = append(names, "#"+name)
	}
	slices.Sort(names)
	return names
}

// lastIDs are the newest stored messages shown in each room.
func (rv *roomViews) lastIDs() map[string]uint64 {
	out := map[string]uint64{}
	for name, v := range rv.views {
		if v.lastID > 0 {
			out[name] = v.lastID
		}
	}
	return out
}
