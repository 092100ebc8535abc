package sshapp

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"securechat/textsafe"
)

const (
	whoWidth     = 20 // the side panel, including its border
	minWhoScreen = 64 // narrower terminals hide the side panel
	// minStatusLeft is the least of the status line's left end (name,
	// room, ...) worth showing beside the way back from scrolling; below
	// it the line is cut as one.
	minStatusLeft = 12
)

// chrome is what frames the conversation: the status line (who, which
// room, what waits elsewhere, the host key) and the side panel (the rooms
// and who is online). Both are drawn again only after something they show
// changed, so idle frames cost no styling.
type chrome struct {
	user        string
	fingerprint string // the server's host key
	// panel: the side panel is shown (when the terminal is wide enough).
	panel bool

	statusCache string
	statusWidth int
	statusDirty bool

	// whoCache is the drawn side panel; nil when it must be rebuilt.
	whoCache  []line
	whoHeight int
}

func newChrome(user, fingerprint string, panel bool) chrome {
	return chrome{user: user, fingerprint: fingerprint, panel: panel, statusDirty: true}
}

// sideChanged marks what lists the rooms and who is here for redrawing:
// the side panel and the status line.
func (c *chrome) sideChanged() {
	c.whoCache = nil
	c.statusDirty = true
}

// statusChanged marks the status line for redrawing.
func (c *chrome) statusChanged() { c.statusDirty = true }

// paneWidth is how much of a terminal width cells wide the message pane
// gets beside the side panel.
func (c *chrome) paneWidth(width int) int {
	if c.panel && width >= minWhoScreen {
		return width - whoWidth
	}
	return width
}

// status is the drawn status line for a terminal width cells wide; its
// width is c.statusWidth.
func (c *chrome) status(st *Styles, width int, rv *roomViews) string {
	if !c.statusDirty {
		return c.statusCache
	}
	cur := rv.cur
	left := fmt.Sprintf(" %s · #%s · %d here", c.user, cur.name, len(cur.members))
	if c.paneWidth(width) == width && len(rv.order) > 1 {
		// No side panel: the other rooms, with what waits there.
		left += " ·"
		for _, name := range rv.order {
			if v := rv.views[name]; v != cur {
				left += " #" + name
				switch {
				case v.mentioned:
					left += " @"
				case v.unread > 0:
					left += fmt.Sprintf(" (%d)", v.unread)
				}
			}
		}
	}
	if cur.topic != "" {
		left += " · " + cur.topic
	}
	left += " · host key " + c.fingerprint
	right := "/help "
	if cur.shift > 0 {
		right = fmt.Sprintf("↑ scrolled: %s below · Ctrl+End ", plural(cur.shift, "row", "rows"))
	}
	rw := ansi.StringWidth(right)
	gap := width - ansi.StringWidth(left) - rw
	var s string
	switch {
	case gap >= 1:
		s = left + strings.Repeat(" ", gap) + right
	case cur.shift > 0 && width-rw > minStatusLeft:
		// Scrolled back: the right end says how to return, so it stays
		// whole and the left end gives way.
		l := ansi.Truncate(left, width-rw-1, "…")
		s = l + strings.Repeat(" ", width-rw-ansi.StringWidth(l)) + right
	default:
		s = ansi.Truncate(left+" "+right, width, "…")
		if w := ansi.StringWidth(s); w < width {
			s += strings.Repeat(" ", width-w)
		}
	}
	c.statusCache = st.Status.Render(s)
	c.statusWidth = ansi.StringWidth(s)
	c.statusDirty = false
	return c.statusCache
}

// side returns the drawn rows of the side panel, ph rows high: the rooms
// (when there are several) and who is online in the room on screen.
func (c *chrome) side(st *Styles, ph int, rv *roomViews) []line {
	if c.whoCache != nil && c.whoHeight == ph {
		return c.whoCache
	}
	border := st.Border.Render("│")
	inner := whoWidth - 2
	var cells []string // the column's rows without the border
	if len(rv.order) > 1 {
		cells = append(cells, st.WhoTitle.Render("Rooms"))
		for _, name := range rv.order {
			v := rv.views[name]
			label := "#" + name
			switch {
			case v.mentioned:
				label += " @" // unread mention
			case v.unread > 0:
				label += fmt.Sprintf(" (%d)", v.unread)
			}
			label = ansi.Truncate(label, inner-2, "…")
			if v == rv.cur {
				cells = append(cells, st.Me.Render("▸ "+label))
			} else {
				cells = append(cells, "  "+label)
			}
		}
		cells = append(cells, "")
	}
	members := rv.cur.members
	cells = append(cells, st.WhoTitle.Render(fmt.Sprintf("Online (%d)", len(members))))
	room := ph - len(cells)
	for i, name := range members {
		if i == room-1 && len(members) > room {
			cells = append(cells, st.Notice.Render(fmt.Sprintf("+%d more", len(members)-i)))
			break
		}
		s := ansi.Truncate(textsafe.Sanitize(name, false), inner, "…")
		if name == c.user {
			cells = append(cells, st.Me.Render(s))
		} else {
			cells = append(cells, st.Name(name).Render(s))
		}
	}
	col := make([]line, ph)
	for row := range col {
		if row < len(cells) && cells[row] != "" {
			s := border + " " + cells[row]
			col[row] = line{text: s, width: ansi.StringWidth(s)}
		} else {
			col[row] = line{text: border, width: 1}
		}
	}
	c.whoCache, c.whoHeight = col, ph
	return col
}
