package limits

import (
	"errors"
	"fmt"
	"strings"
)

// SessionConfig bounds what one SSH connection may ask of the server once it
// has logged in: sizes and counts a client chooses. Zero fields take the
// defaults named in each comment.
type SessionConfig struct {
	// MaxCols and MaxRows clamp the terminal size a client reports in
	// pty-req and window-change (defaults 1000 and 500). Real clients
	// cannot report more than 65535; a library can say 4294967295, and
	// drawing costs grow with the size. An 8K display with a 6×12 pixel
	// font is 1280×360 cells; 1000×500 covers what people use while
	// bounding a frame at half a million cells.
	MaxCols, MaxRows int
	// MaxSessionsPerConn caps open session channels per connection
	// (default 10, OpenSSH's MaxSessions).
	MaxSessionsPerConn int
	// MaxEnv caps accepted env requests per session (default 8), and
	// MaxEnvBytes the size of one (name and value, default 256).
	MaxEnv, MaxEnvBytes int
	// MaxExecBytes caps an exec command line (default 4096): longer lines
	// are refused before they are parsed. Long text goes on stdin.
	MaxExecBytes int
	// MaxInputLine caps the bytes of one line of chat input (before Enter)
	// or of one bracketed paste (default 32768). Past it the rest of the
	// line is dropped, the user is told, and the session reads slowly until
	// the line ends.
	MaxInputLine int
}

// WithDefaults returns c with zero fields set to their defaults.
func (c SessionConfig) WithDefaults() SessionConfig {
	setInt(&c.MaxCols, 1000)
	setInt(&c.MaxRows, 500)
	setInt(&c.MaxSessionsPerConn, 10)
	setInt(&c.MaxEnv, 8)
	setInt(&c.MaxEnvBytes, 256)
	setInt(&c.MaxExecBytes, 4096)
	setInt(&c.MaxInputLine, 32768)
	return c
}

// ClampWindow bounds a terminal size a client reported: each dimension
// within 0..Max (0 means "unknown" in SSH; the UI treats it as 1).
func (c SessionConfig) ClampWindow(cols, rows uint32) (int, int) {
	return int(min(cols, uint32(max(c.MaxCols, 0)))), int(min(rows, uint32(max(c.MaxRows, 0))))
}

// acceptedEnv are the environment variables the server reads: colour
// preferences and the terminal type. Everything else a client sends (LANG,
// LC_*, anything) is refused, so it costs nothing.
var acceptedEnv = map[string]bool{"NO_COLOR": true, "COLORTERM": true, "TERM": true}

// ErrEnvRefused is why an env request was refused.
var ErrEnvRefused = errors.New("env refused")

// CheckEnv decides one env request given how many the session has accepted
// already.
func (c SessionConfig) CheckEnv(name, value string, accepted int) error {
	switch {
	case !acceptedEnv[name]:
		return fmt.Errorf("%w: %s is not used", ErrEnvRefused, clip(name))
	case len(name)+len(value) > c.MaxEnvBytes:
		return fmt.Errorf("%w: %s is over %d bytes", ErrEnvRefused, name, c.MaxEnvBytes)
	case accepted >= c.MaxEnv:
		return fmt.Errorf("%w: more than %d variables", ErrEnvRefused, c.MaxEnv)
	}
	return nil
}

// clip shortens a peer-chosen string for an error message; the caller
// sanitises it before logging.
func clip(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
