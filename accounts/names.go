package accounts

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Username and password limits.
const (
	// MaxUsernameLen is the longest accepted username, in characters (all
	// accepted characters are ASCII, so also in bytes).
	MaxUsernameLen = 32
	// MaxPasswordBytes is the longest accepted password in bytes: bcrypt
	// ignores everything after the 72nd byte, so a longer password would
	// silently match any password sharing its first 72 bytes.
	MaxPasswordBytes = 72
	// MinPasswordLen is the shortest accepted new password, in characters
	// (runes), not bytes, so that "ééééé" is not counted as ten.
	MinPasswordLen = 8
)

// Normalize returns the form of name under which it is stored and compared:
// ASCII letters lower-cased. Only ASCII is folded, unlike strings.ToLower, so
// that look-alikes such as the Kelvin sign U+212A (which strings.ToLower turns
// into "k") stay invalid instead of naming someone else's account. For every
// valid username the result is the same as strings.ToLower.
func Normalize(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			b := []byte(name)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return name
}

// ValidateUsername reports whether name may be used as a username: 1 to 32
// characters, each an ASCII letter, a digit, "_", "-" or ".", the first a
// letter or digit. Upper-case letters are accepted and stand for their
// lower-case form (see Normalize). The error says why in plain words and
// quotes the name with %q, so control characters in it cannot reach a
// terminal or a log line unescaped.
func ValidateUsername(name string) error {
	if name == "" {
		return invalidf("username is empty")
	}
	for i := 0; i < len(name); i++ {
		if !usernameByte(name[i]) {
			return invalidf("username %s: only letters, digits, \"_\", \"-\" and \".\" are allowed", quoteName(name))
		}
	}
	if len(name) > MaxUsernameLen {
		return invalidf("username %s: at most %d characters are allowed (this one has %d)", quoteName(name), MaxUsernameLen, len(name))
	}
	if c := name[0]; c == '_' || c == '-' || c == '.' {
		return invalidf("username %s: must start with a letter or a digit", quoteName(name))
	}
	return nil
}

func usernameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '.'
}

// quoteName quotes a name for an error message, cut short so that a hostile
// client cannot make an error line arbitrarily long.
func quoteName(name string) string {
	const max = 40
	if len(name) <= max {
		return fmt.Sprintf("%q", name)
	}
	return fmt.Sprintf("%q...", name[:max])
}

// CheckNewPassword applies the policy for a password being set (at
// registration or on a change) for the user name: at least MinPasswordLen
// characters, at most MaxPasswordBytes bytes, and not the username itself in
// any letter case. The error is one plain sentence suitable for the user.
func CheckNewPassword(name, password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return invalidf("password is too short: use at least %d characters", MinPasswordLen)
	}
	if len(password) > MaxPasswordBytes {
		return invalidf("password is too long: at most %d bytes are allowed (accented letters and symbols take 2 to 4 bytes each)", MaxPasswordBytes)
	}
	if strings.EqualFold(password, name) {
		return invalidf("password must not be the same as the username")
	}
	return nil
}
