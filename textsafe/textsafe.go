package textsafe

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize makes a peer-controlled string safe to store, show and log: invalid
// UTF-8 becomes U+FFFD, tabs become a space, and every C0 and C1 control
// character, DEL, escape sequence introducer, bidirectional override or
// isolate, and other invisible format character is removed. When multiline is
// true, '\n' is kept (CR and CRLF become '\n'); otherwise line breaks become
// spaces.
func Sanitize(s string, multiline bool) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue // the '\n' that follows does the work
			}
			writeBreak(&b, multiline)
		case r == '\n':
			writeBreak(&b, multiline)
		case r == '\t':
			b.WriteByte(' ')
		case unsafeRune(r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func writeBreak(b *strings.Builder, multiline bool) {
	if multiline {
		b.WriteByte('\n')
	} else {
		b.WriteByte(' ')
	}
}

// isPlain is the fast path: printable ASCII needs no work.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// unsafeRune reports runes that must never reach a terminal: controls (C0,
// C1, DEL), bidirectional controls (which can make text read differently from
// what is stored), and other invisible format characters (Cf), plus the
// unassigned and private/surrogate ranges a terminal may render unpredictably.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == 0x200d: // zero-width joiner: keeps emoji sequences intact
		return false
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Cs, r), unicode.Is(unicode.Co, r):
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// Clip cuts s to at most n runes, on a rune boundary, and reports whether it
// cut anything.
func Clip(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	count := 0
	for i := range s {
		if count == n {
			return s[:i], true
		}
		count++
	}
	return s, false
}

// ClipBytes cuts s to at most n bytes without splitting a character, and
// reports whether it cut anything.
func ClipBytes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
