package accounts

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	gossh "golang.org/x/crypto/ssh"
)

// KeyTypeAge is the Key.Type of an age recipient.
const KeyTypeAge = "age"

// maxCommentLen bounds a key comment, which is shown back to users.
const maxCommentLen = 256

// Key is a public key registered by a user: an SSH key the user may log in
// with, or an age recipient messages may be sealed to. Fingerprint is the
// key's identity: no two users may hold the same one.
type Key struct {
	// Type is the SSH key type ("ssh-ed25519", "ssh-rsa", ...) or "age".
	Type string `json:"type"`
	// Fingerprint is gossh.FingerprintSHA256 of an SSH key ("SHA256:...") or,
	// for age, the recipient string itself.
	Fingerprint string `json:"fingerprint"`
	// Comment is the free-text comment of an authorized_keys line, if any.
	Comment string `json:"comment,omitempty"`
	// Line is the authorized_keys line without options or comment, or the
	// age1... recipient.
	Line string `json:"line"`
	// Added is when the key was registered, in UTC.
	Added time.Time `json:"added"`
}

// SSHKey describes pub as a Key, with its canonical line and fingerprint.
// Added is left zero; AddKeys fills it in.
func SSHKey(pub gossh.PublicKey, comment string) Key {
	return Key{
		Type:        pub.Type(),
		Fingerprint: gossh.FingerprintSHA256(pub),
		Comment:     comment,
		Line:        strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pub))),
	}
}

// ParseKey reads one key as a user would paste it: an authorized_keys line
// ("ssh-ed25519 AAAA... comment", without options) or an age recipient
// ("age1..."). The result passes ValidateKey.
func ParseKey(text string) (Key, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "age1") {
		k := Key{Type: KeyTypeAge, Fingerprint: text, Line: text}
		return k, ValidateKey(k)
	}
	if strings.ContainsAny(text, "\r\n") {
		return Key{}, invalidf("key: give one key on one line")
	}
	pub, comment, options, _, err := gossh.ParseAuthorizedKey([]byte(text))
	if err != nil {
		return Key{}, invalidf("key: not an SSH public key line or an age recipient")
	}
	if len(options) > 0 {
		return Key{}, invalidf("key: options before the key are not allowed")
	}
	k := SSHKey(pub, comment)
	return k, ValidateKey(k)
}

// ValidateKey checks that k is self-consistent: for SSH keys, Line parses,
// carries no options or comment, is in canonical form, and Type and
// Fingerprint are the ones computed from it; for age, Line looks like a
// recipient and Fingerprint equals it. The fingerprint index relies on this:
// one key must never be stored under two fingerprints.
func ValidateKey(k Key) error {
	if err := checkComment(k.Comment); err != nil {
		return err
	}
	if k.Type == KeyTypeAge {
		if err := checkAgeRecipient(k.Line); err != nil {
			return err
		}
		if k.Fingerprint != k.Line {
			return invalidf("key: an age key's fingerprint must be the recipient itself")
		}
		return nil
	}
	pub, comment, options, rest, err := gossh.ParseAuthorizedKey([]byte(k.Line))
	if err != nil {
		return invalidf("key %q: not an SSH public key line", short(k.Fingerprint))
	}
	if len(options) > 0 || comment != "" || len(rest) > 0 {
		return invalidf("key %q: line must hold only the type and the key", short(k.Fingerprint))
	}
	if strings.TrimSpace(string(gossh.MarshalAuthorizedKey(pub))) != k.Line {
		return invalidf("key %q: line is not in canonical form", short(k.Fingerprint))
	}
	if pub.Type() != k.Type {
		return invalidf("key %q: type %q does not match the key (%s)", short(k.Fingerprint), short(k.Type), pub.Type())
	}
	if fp := gossh.FingerprintSHA256(pub); fp != k.Fingerprint {
		return invalidf("key %q: fingerprint does not match the key (%s)", short(k.Fingerprint), fp)
	}
	return nil
}

func checkComment(c string) error {
	if len(c) > maxCommentLen {
		return invalidf("key comment is too long: at most %d bytes", maxCommentLen)
	}
	for _, r := range c {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return invalidf("key comment: control characters and invalid text are not allowed")
		}
	}
	return nil
}

// checkAgeRecipient is deliberately loose (the sealing code parses recipients
// for real): it keeps out whitespace, control bytes and absurd lengths, and
// admits X25519, post-quantum and plugin recipients alike.
func checkAgeRecipient(r string) error {
	if !strings.HasPrefix(r, "age1") || len(r) < 10 || len(r) > 4096 {
		return invalidf("key %q: not an age recipient", short(r))
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '+') {
			return invalidf("key %q: not an age recipient", short(r))
		}
	}
	return nil
}

// short cuts s for an error message; callers quote the result with %q.
func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// AddKeys registers keys for the user name, all or nothing. A key the user
// already holds is skipped; a key another user holds refuses the whole call
// with ErrKeyTaken, naming the fingerprint but not the other user. Keys with
// a zero Added time get the current time.
func (s *Store) AddKeys(name string, keys []Key) error {
	for _, k := range keys {
		if err := ValidateKey(k); err != nil {
			return err
		}
	}
	now := s.now()
	added := 0
	err := s.update(func(next *state) error {
		u, ok := next.users[Normalize(name)]
		if !ok {
			return ErrNoUser
		}
		owned := make(map[string]bool, len(u.Keys))
		for _, k := range u.Keys {
			owned[k.Fingerprint] = true
		}
		var fresh []Key
		for _, k := range keys {
			if owned[k.Fingerprint] {
				continue
			}
			if owner, ok := next.byKey[k.Fingerprint]; ok && owner != u.Name {
				return fmt.Errorf("%w: %s", ErrKeyTaken, k.Fingerprint)
			}
			if k.Added.IsZero() {
				k.Added = now
			}
			k.Added = k.Added.UTC()
			if !storableTime(k.Added) {
				return invalidf("key %q: time added is out of range", short(k.Fingerprint))
			}
			owned[k.Fingerprint] = true
			fresh = append(fresh, k)
		}
		if len(fresh) == 0 {
			return errNoChange
		}
		u.Keys = append(append(make([]Key, 0, len(u.Keys)+len(fresh)), u.Keys...), fresh...)
		next.put(u)
		added = len(fresh)
		return nil
	})
	if err == nil && added > 0 {
		s.log.Info("keys added", "user", Normalize(name), "count", added)
	}
	return err
}

// RemoveKey removes the key with the given fingerprint from the user name.
// It returns ErrNoKey if the user does not hold that key.
func (s *Store) RemoveKey(name, fingerprint string) error {
	err := s.update(func(next *state) error {
		u, ok := next.users[Normalize(name)]
		if !ok {
			return ErrNoUser
		}
		keys := make([]Key, 0, len(u.Keys))
		for _, k := range u.Keys {
			if k.Fingerprint != fingerprint {
				keys = append(keys, k)
			}
		}
		if len(keys) == len(u.Keys) {
			return ErrNoKey
		}
		if len(keys) == 0 {
			keys = nil
		}
		u.Keys = keys
		next.put(u)
		return nil
	})
	if err == nil {
		s.log.Info("key removed", "user", Normalize(name), "fingerprint", fingerprint)
	}
	return err
}

// UserByKey returns a copy of the user holding the key with this fingerprint.
func (s *Store) UserByKey(fingerprint string) (User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	name, ok := s.cur.byKey[fingerprint]
	if !ok {
		return User{}, false
	}
	return s.cur.users[name].clone(), true
}
