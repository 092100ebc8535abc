package accounts

import (
	"net/netip"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxBanReasonBytes bounds Ban.Reason, which is shown back to the user and
// to other admins.
const MaxBanReasonBytes = 200

// Ban refuses logins by an account (and optionally from an address) until it
// ends. The store only records bans; refusing the login, and saying why, is
// the SSH layer's business.
//
// A ban that has ended stays on record, inert, until Unban or a later SetBan
// replaces it: saves never drop anything they were not asked to, so a save
// changes only what its caller changed, and an admin can still see that a
// ban existed.
type Ban struct {
	// Until is when the ban ends, in UTC; zero means until lifted.
	Until time.Time `json:"until,omitzero"`
	// Reason is shown to the banned user; the caller sanitises it, the store
	// refuses control characters, invalid UTF-8 and more than
	// MaxBanReasonBytes bytes.
	Reason string `json:"reason,omitempty"`
	// By is the (lower-case) username of whoever imposed the ban.
	By string `json:"by"`
	// At is when the ban was imposed, in UTC.
	At time.Time `json:"at"`
	// Source, if not empty, is an address prefix the ban also covers, in
	// the form netip.Prefix.String prints for a masked prefix:
	// "127.0.0.2/32", "2001:db8::/64". See BannedSource.
	Source string `json:"source,omitempty"`
}

// activeAt reports whether the ban is in force at now.
func (b *Ban) activeAt(now time.Time) bool {
	return b != nil && (b.Until.IsZero() || now.Before(b.Until))
}

// normalizeBan checks b and brings it to its stored form: times in UTC and
// By lower-cased. Errors match ErrInvalid.
func normalizeBan(b *Ban) error {
	if err := ValidateUsername(b.By); err != nil {
		return invalidf("ban: \"by\" must name who banned: %v", err)
	}
	b.By = Normalize(b.By)
	if err := checkText("ban reason", b.Reason, MaxBanReasonBytes); err != nil {
		return err
	}
	b.Until, b.At = b.Until.UTC(), b.At.UTC()
	if !storableTime(b.Until) || !storableTime(b.At) {
		return invalidf("ban: time is out of range")
	}
	if b.Source != "" {
		if _, err := parseSource(b.Source); err != nil {
			return err
		}
	}
	return nil
}

// parseSource parses a ban source, which must be written exactly as
// netip.Prefix.String prints a masked prefix, so that each prefix has one
// spelling and the file says what it means: "10.0.0.1/8" is refused rather
// than read as 10.0.0.0/8. IPv4-mapped IPv6 prefixes are refused too: an
// IPv4 client is looked up as its IPv4 address.
func parseSource(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, invalidf("ban source %q: not an address prefix such as 127.0.0.2/32 or 2001:db8::/64", short(s))
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, invalidf("ban source %q: write IPv4-mapped addresses as IPv4", short(s))
	}
	if m := p.Masked(); m.String() != s {
		return netip.Prefix{}, invalidf("ban source %q: write it as %s", short(s), m)
	}
	return p, nil
}

// checkText refuses invalid UTF-8, control characters and more than max
// bytes in a free-text field that is shown back to people.
func checkText(what, s string, max int) error {
	if len(s) > max {
		return invalidf("%s is too long: at most %d bytes", what, max)
	}
	if !utf8.ValidString(s) || containsControl(s) {
		return invalidf("%s: control characters and invalid text are not allowed", what)
	}
	return nil
}

func containsControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// indexSource adds u's ban source, if any, to the index.
func (st *state) indexSource(u User) {
	if u.Ban == nil || u.Ban.Source == "" {
		return
	}
	p, err := parseSource(u.Ban.Source)
	if err != nil {
		return // unreachable: bans are checked before they are stored
	}
	names := st.bySource[p]
	i, found := slices.BinarySearch(names, u.Name)
	if !found {
		st.bySource[p] = slices.Insert(slices.Clone(names), i, u.Name)
	}
}

// unindexSource removes u's ban source, if any, from the index.
func (st *state) unindexSource(u User) {
	if u.Ban == nil || u.Ban.Source == "" {
		return
	}
	p, err := parseSource(u.Ban.Source)
	if err != nil {
		return
	}
	names := st.bySource[p]
	i, found := slices.BinarySearch(names, u.Name)
	switch {
	case !found:
	case len(names) == 1:
		delete(st.bySource, p)
	default:
		st.bySource[p] = slices.Delete(slices.Clone(names), i, i+1)
	}
}

// SetBan bans the user name, replacing any ban on record. b.By must be a
// valid username and b.Until, if not zero, later than now; a zero b.At is
// set to now. Errors: ErrNoUser, or one matching ErrInvalid.
func (s *Store) SetBan(name string, b Ban) error {
	now := s.now()
	if b.At.IsZero() {
		b.At = now
	}
	if err := normalizeBan(&b); err != nil {
		return err
	}
	if !b.Until.IsZero() && !b.Until.After(now) {
		return invalidf("ban end %s is not in the future", b.Until.Format(time.RFC3339))
	}
	name = Normalize(name)
	err := s.updateUser(name, func(u *User) error {
		u.Ban = &b
		return nil
	})
	if err == nil {
		s.log.Info("user banned", "user", name, "by", b.By, "until", b.Until, "source", b.Source)
	}
	return err
}

// Unban removes the ban on record for the user name, in force or ended.
// Errors: ErrNoUser, ErrNotBanned.
func (s *Store) Unban(name string) error {
	name = Normalize(name)
	err := s.updateUser(name, func(u *User) error {
		if u.Ban == nil {
			return ErrNotBanned
		}
		u.Ban = nil
		return nil
	})
	if err == nil {
		s.log.Info("user unbanned", "user", name)
	}
	return err
}

// ActiveBan returns the ban of the user name if it is in force at now.
func (s *Store) ActiveBan(name string, now time.Time) (Ban, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.cur.users[Normalize(name)]
	if !ok || !u.Ban.activeAt(now) {
		return Ban{}, false
	}
	return *u.Ban, true
}

// BannedSource reports whether a ban in force at now covers src: a ban whose
// Source is src or any shorter prefix containing it, so that a ban on
// 2001:db8::/64 or 10.0.0.0/8 refuses every address inside. The most specific
// ban wins, then the first user by name. The cost does not depend on the
// number of users or bans: one map look-up per prefix length (33 for IPv4,
// 129 for IPv6). An IPv4-mapped src is looked up as IPv4.
func (s *Store) BannedSource(src netip.Prefix, now time.Time) (name string, b Ban, ok bool) {
	if !src.IsValid() {
		return "", Ban{}, false
	}
	addr, bits := src.Addr().WithZone(""), src.Bits()
	if addr.Is4In6() {
		addr, bits = addr.Unmap(), max(bits-96, 0)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.cur.bySource) == 0 {
		return "", Ban{}, false
	}
	for ; bits >= 0; bits-- {
		p, err := addr.Prefix(bits)
		if err != nil {
			continue
		}
		for _, n := range s.cur.bySource[p] {
			if u := s.cur.users[n]; u.Ban.activeAt(now) {
				return n, *u.Ban, true
			}
		}
	}
	return "", Ban{}, false
}

// Bans returns copies of the users whose ban is in force at now, sorted by
// name.
func (s *Store) Bans(now time.Time) []User {
	s.mu.RLock()
	var list []User
	for _, u := range s.cur.sorted() {
		if u.Ban.activeAt(now) {
			list = append(list, u)
		}
	}
	s.mu.RUnlock()
	for i := range list {
		list[i] = list[i].clone()
	}
	return list
}

// SetMute mutes the user name until the given time; a zero time or one not
// after now lifts the mute. Muting is recorded here and enforced by the chat
// layer. Errors: ErrNoUser, or ErrInvalid for a time that cannot be stored.
func (s *Store) SetMute(name string, until time.Time) error {
	until = until.UTC()
	if !until.After(s.now()) {
		until = time.Time{}
	}
	if !storableTime(until) {
		return invalidf("mute end is out of range")
	}
	name = Normalize(name)
	changed := false
	err := s.updateUser(name, func(u *User) error {
		if u.MutedUntil.Equal(until) {
			return errNoChange
		}
		u.MutedUntil = until
		changed = true
		return nil
	})
	if err == nil && changed {
		if until.IsZero() {
			s.log.Info("user unmuted", "user", name)
		} else {
			s.log.Info("user muted", "user", name, "until", until)
		}
	}
	return err
}

// MutedUntil returns when the mute of the user name ends, if the user is
// muted at now.
func (s *Store) MutedUntil(name string, now time.Time) (time.Time, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.cur.users[Normalize(name)]
	if !ok || u.MutedUntil.IsZero() || !now.Before(u.MutedUntil) {
		return time.Time{}, false
	}
	return u.MutedUntil, true
}
