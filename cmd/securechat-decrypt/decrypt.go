package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"

	"securechat/textsafe"
)

// maxPlaintext bounds one decrypted message. The server's sealed messages
// are far smaller; a bigger one is refused rather than flooding the screen.
const maxPlaintext = 64 << 10

// errNotForYou is the common failure: the message is sealed to keys other
// than the ones given (another device's key, or a message the user sent).
var errNotForYou = errors.New("not addressed to your keys")

// openBlock decrypts one block's armor with the identities and returns the
// plaintext. Errors are short and meant for the user; their details may come
// from the stream, so they are sanitised before printing.
func openBlock(armored []byte, ids []age.Identity) (string, error) {
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(armored)), ids...)
	if err != nil {
		return "", decryptError(err, "corrupt")
	}
	b, err := io.ReadAll(io.LimitReader(r, maxPlaintext+1))
	if err != nil {
		return "", decryptError(err, "corrupt or truncated")
	}
	if len(b) > maxPlaintext {
		return "", fmt.Errorf("too big: plaintext over %d KiB refused", maxPlaintext>>10)
	}
	return string(b), nil
}

// decryptError turns an age or armor error into one line for the user.
func decryptError(err error, what string) error {
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		// The message was sealed to a key whose passphrase was refused or
		// could not be asked: say that, not "not addressed to you".
		for _, e := range noMatch.Errors {
			var u *unlockError
			if errors.As(e, &u) {
				return u
			}
		}
		return errNotForYou
	}
	var armorErr *armor.Error
	if errors.As(err, &armorErr) {
		return fmt.Errorf("bad armor: %v", armorErr.Unwrap())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated: %v", err)
	}
	return fmt.Errorf("%s: %v", what, err)
}

// formatMessage renders one opened message as "TIME SENDER → RECIPIENT:
// TEXT", so that the copies of messages you sent (inbox --sent) say whom
// they went to; the continuation lines of a multi-line text are indented by
// four spaces. Names and text come from peers: all are sanitised so that
// nothing in a message can drive the reader's terminal.
func formatMessage(b sealedBlock, text string) string {
	text = strings.TrimRight(textsafe.Sanitize(text, true), "\n")
	text = strings.ReplaceAll(text, "\n", "\n    ")
	who := shortSafe(b.From)
	if b.To != "" {
		who += " → " + shortSafe(b.To)
	}
	return fmt.Sprintf("%s %s: %s\n", b.Time.UTC().Format("2006-01-02 15:04"), who, text)
}

// formatFailure renders the one stderr line for a block that did not open.
func formatFailure(b sealedBlock, err error) string {
	id, from := "?", "?"
	if b.ID != "" {
		id = shortSafe(b.ID)
	}
	if b.From != "" {
		from = shortSafe(b.From)
	}
	reason := textsafe.Sanitize(err.Error(), false)
	if r, cut := textsafe.Clip(reason, 300); cut {
		reason = r + "..."
	}
	return fmt.Sprintf("%s: message %s from %s: %s\n", progName, id, from, reason)
}

// shortSafe sanitises a header value for one line and cuts it short: a
// hostile server must not be able to fill the screen with a "name".
func shortSafe(s string) string {
	s = textsafe.Sanitize(s, false)
	if c, cut := textsafe.Clip(s, 64); cut {
		return c + "..."
	}
	return s
}

// decryptStream reads an inbox stream from r, prints every message that
// opens to out, and one line per failure (and one warning for stray lines)
// to errw. It reports whether every message opened.
func decryptStream(r io.Reader, ids []age.Identity, out, errw io.Writer) (ok bool, err error) {
	ok = true
	warned, blocks := false, 0
	var werr error
	write := func(w io.Writer, s string) {
		if _, err := io.WriteString(w, s); err != nil && werr == nil {
			werr = err
		}
	}
	err = parseStream(r, func(b sealedBlock) {
		blocks++
		if b.Err != nil {
			ok = false
			write(errw, formatFailure(b, b.Err))
			return
		}
		text, err := openBlock(b.Armor, ids)
		if err != nil {
			ok = false
			write(errw, formatFailure(b, err))
			return
		}
		write(out, formatMessage(b, text))
	}, func(line int) {
		if !warned {
			warned = true
			write(errw, fmt.Sprintf("%s: warning: ignoring lines outside sealed messages (the first is line %d)\n", progName, line))
		}
	})
	if err != nil {
		return false, fmt.Errorf("read standard input: %w", err)
	}
	if blocks == 0 {
		// Say so: silence would look like a hang or a failure.
		write(errw, fmt.Sprintf("%s: no sealed messages in the input (the inbox is empty)\n", progName))
	}
	if werr != nil {
		return false, fmt.Errorf("write: %w", werr)
	}
	return ok, nil
}
