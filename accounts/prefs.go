package accounts

import (
	"maps"
	"slices"
	"unicode"
)

// Limits on Prefs, checked by UpdatePrefs and by Open.
const (
	// MaxIgnore is the most names a user may ignore.
	MaxIgnore = 200
	// MaxRooms is the most rooms a user may be in.
	MaxRooms = 50
	// MaxLastRead is the most rooms a user's read positions are kept for.
	MaxLastRead = 100
	// MaxRoomNameBytes bounds a room name stored in Prefs.
	MaxRoomNameBytes = 64
	// MaxPrefBytes bounds Prefs.Theme, Prefs.Timestamps and Prefs.Bell.
	MaxPrefBytes = 32
	// MaxAwayBytes bounds Prefs.Away.
	MaxAwayBytes = 200
)

// Prefs are a user's preferences, kept with the account so they follow the
// user across sessions. The store checks only their shape (the limits above,
// no control characters); what a theme or a bell setting means is the UI's
// business. An empty Prefs is left out of users.json.
type Prefs struct {
	// Ignore lists the users whose messages this user does not want to see:
	// valid lower-case usernames, sorted, without duplicates, at most
	// MaxIgnore. Names are kept when the user they name is deleted.
	Ignore []string `json:"ignore,omitempty"`
	// Theme, Timestamps, Bell and Panel are UI settings, at most
	// MaxPrefBytes each.
	Theme      string `json:"theme,omitempty"`
	Timestamps string `json:"timestamps,omitempty"`
	Bell       string `json:"bell,omitempty"`
	Panel      string `json:"panel,omitempty"`
	// Rooms are the rooms the user is in, in the user's order, without
	// duplicates, at most MaxRooms. A room name is 1 to MaxRoomNameBytes
	// bytes of text without spaces or control characters; the room layer
	// may be stricter.
	Rooms []string `json:"rooms,omitempty"`
	// LastRead maps a room name to the id of the last message the user has
	// seen there; at most MaxLastRead rooms.
	LastRead map[string]uint64 `json:"last_read,omitempty"`
	// Away is the user's away message, at most MaxAwayBytes; empty when the
	// user is not away.
	Away string `json:"away,omitempty"`
}

// IsZero reports whether p holds no preference at all; encoding/json uses it
// to leave an empty Prefs out of the file (the omitzero option), so that
// users who never set one keep the shape older files had.
func (p Prefs) IsZero() bool {
	return len(p.Ignore) == 0 && p.Theme == "" && p.Timestamps == "" && p.Bell == "" && p.Panel == "" &&
		len(p.Rooms) == 0 && len(p.LastRead) == 0 && p.Away == ""
}

// clone returns a deep copy of p.
func (p Prefs) clone() Prefs {
	p.Ignore = slices.Clone(p.Ignore)
	p.Rooms = slices.Clone(p.Rooms)
	p.LastRead = maps.Clone(p.LastRead)
	return p
}

// equal compares two normalized Prefs.
func (p Prefs) equal(q Prefs) bool {
	return slices.Equal(p.Ignore, q.Ignore) && p.Theme == q.Theme && p.Timestamps == q.Timestamps &&
		p.Bell == q.Bell && p.Panel == q.Panel && slices.Equal(p.Rooms, q.Rooms) && maps.Equal(p.LastRead, q.LastRead) && p.Away == q.Away
}

// normalizePrefs checks p against the limits and brings it to its stored
// form: Ignore lower-cased, sorted and without duplicates, Rooms without
// duplicates, and empty lists and maps nil. Errors match ErrInvalid.
func normalizePrefs(p *Prefs) error {
	p.Ignore = slices.Clone(p.Ignore) // fn may have put a slice of its own there
	for i, n := range p.Ignore {
		if err := ValidateUsername(n); err != nil {
			return invalidf("ignore list: %v", err)
		}
		p.Ignore[i] = Normalize(n)
	}
	slices.Sort(p.Ignore)
	p.Ignore = slices.Compact(p.Ignore)
	if len(p.Ignore) > MaxIgnore {
		return invalidf("ignore list is too long: at most %d names", MaxIgnore)
	}
	if len(p.Ignore) == 0 {
		p.Ignore = nil
	}

	for _, f := range []struct{ what, v string }{{"theme", p.Theme}, {"timestamps setting", p.Timestamps}, {"bell setting", p.Bell}, {"panel setting", p.Panel}} {
		if err := checkText(f.what, f.v, MaxPrefBytes); err != nil {
			return err
		}
	}
	if err := checkText("away message", p.Away, MaxAwayBytes); err != nil {
		return err
	}

	rooms := make([]string, 0, len(p.Rooms))
	for _, r := range p.Rooms {
		if err := checkRoomName(r); err != nil {
			return err
		}
		if !slices.Contains(rooms, r) {
			rooms = append(rooms, r)
		}
		if len(rooms) > MaxRooms {
			return invalidf("too many rooms: at most %d", MaxRooms)
		}
	}
	p.Rooms = rooms
	if len(p.Rooms) == 0 {
		p.Rooms = nil
	}

	if len(p.LastRead) > MaxLastRead {
		return invalidf("read positions kept for too many rooms: at most %d", MaxLastRead)
	}
	for r := range p.LastRead {
		if err := checkRoomName(r); err != nil {
			return err
		}
	}
	if len(p.LastRead) == 0 {
		p.LastRead = nil
	}
	return nil
}

func checkRoomName(r string) error {
	if r == "" {
		return invalidf("room name is empty")
	}
	if err := checkText("room name", r, MaxRoomNameBytes); err != nil {
		return err
	}
	for _, c := range r {
		if unicode.IsSpace(c) {
			return invalidf("room name %q: spaces are not allowed", short(r))
		}
	}
	return nil
}

// UpdatePrefs changes the preferences of the user name: fn edits a copy,
// which is then checked and normalized (see Prefs) and saved. If fn returns
// an error, or the result breaks the limits (an error matching ErrInvalid),
// nothing is saved and that error is returned; if nothing changed, nothing
// is written. fn runs while other changes to the store wait, so that two
// concurrent updates both land; it must be quick and must not change the
// store itself (that would deadlock). Errors: ErrNoUser, fn's error, or one
// matching ErrInvalid.
//
// Concurrent calls share one save: the users file is rewritten whole, so
// a thousand sessions ending at once (each saving what it last read) would
// otherwise write it a thousand times. Every call still returns only once
// its own change is on disk, with its own result.
func (s *Store) UpdatePrefs(name string, fn func(p *Prefs) error) error {
	req := &prefsReq{name: Normalize(name), fn: fn}
	s.prefsMu.Lock()
	s.prefsQueue = append(s.prefsQueue, req)
	s.prefsMu.Unlock()
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if !req.done {
		s.prefsMu.Lock()
		batch := s.prefsQueue
		s.prefsQueue = nil
		s.prefsMu.Unlock()
		s.applyPrefsLocked(batch)
	}
	return req.err
}

// prefsReq is one UpdatePrefs call; done and err are guarded by saveMu.
type prefsReq struct {
	name string
	fn   func(p *Prefs) error
	done bool
	err  error
}

// applyPrefsLocked applies the calls of batch in order, each on top of the
// ones before it, and saves the result once. A call that fails changes
// nothing and does not keep the others from being saved; a failed save is
// the result of every call that changed something. The caller holds saveMu.
func (s *Store) applyPrefsLocked(batch []*prefsReq) {
	next := s.cur.clone()
	var changed []*prefsReq
	for _, r := range batch {
		r.done = true
		u, ok := next.users[r.name]
		if !ok {
			r.err = ErrNoUser
			continue
		}
		p := u.Prefs.clone()
		if err := r.fn(&p); err != nil {
			r.err = err
			continue
		}
		if err := normalizePrefs(&p); err != nil {
			r.err = err
			continue
		}
		if p.equal(u.Prefs) {
			continue
		}
		// Copy again: fn may have kept references to the slices it edited.
		u.Prefs = p.clone()
		next.put(u)
		changed = append(changed, r)
	}
	if len(changed) == 0 {
		return
	}
	err := s.commitLocked(next)
	for _, r := range changed {
		r.err = err
	}
}

// Prefs returns a copy of the preferences of the user name.
func (s *Store) Prefs(name string) (Prefs, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.cur.users[Normalize(name)]
	if !ok {
		return Prefs{}, false
	}
	return u.Prefs.clone(), true
}
