package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxLineBytes is the longest line, without its '\n', that the log writes or
// reads. It bounds the memory a reader needs: a longer line found in the file
// can only be damage or a foreign writer, so readers skip it.
const MaxLineBytes = 1 << 20

// ErrTooLong is returned by AppendBatch for an entry whose line would exceed
// MaxLineBytes; nothing of that batch is written.
var ErrTooLong = errors.New("history entry too long")

// Entry is one line of the log. Every field but ID and Time is opaque here:
// the meaning of kinds, rooms and names belongs to the caller.
type Entry struct {
	ID   uint64    `json:"id"`
	Time time.Time `json:"time"`           // always stored as UTC
	Kind string    `json:"kind"`           // "msg", "join", "leave", "system", "sealed", ... opaque to this package
	Room string    `json:"room,omitempty"` // opaque; "" for lines written before rooms existed
	From string    `json:"from"`
	To   string    `json:"to,omitempty"`
	Text string    `json:"text"`
}

// ParseLine decodes one line of the log, with or without its trailing newline.
// It is exported so that fuzzing and tools (a decrypt command, a migration)
// read lines exactly as the log does. Only a JSON object counts as a line:
// recovery at Open relies on junk (NUL bytes, half a line) failing here.
// Invalid UTF-8 inside strings is replaced, not rejected, so one damaged old
// line never hides the entries around it.
func ParseLine(b []byte) (Entry, error) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	var e Entry
	t := bytes.TrimLeft(b, " \t")
	if len(t) == 0 || t[0] != '{' {
		// json.Unmarshal accepts "null" into a struct without error; a log
		// line is always an object.
		return Entry{}, errors.New("parse history line: not a JSON object")
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return Entry{}, fmt.Errorf("parse history line: %w", err)
	}
	e.Time = e.Time.UTC()
	return e, nil
}

// appendLine encodes e as one line ending in '\n' and appends it to buf.
// HTML escaping is off so that the file stays readable with grep and jq; the
// encoder still escapes control characters, so a line never contains '\n'.
func appendLine(buf *bytes.Buffer, e Entry) error {
	start := buf.Len()
	e.Time = e.Time.UTC()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		buf.Truncate(start)
		return fmt.Errorf("encode history entry %d: %w", e.ID, err)
	}
	if n := buf.Len() - start - 1; n > MaxLineBytes {
		buf.Truncate(start)
		return fmt.Errorf("encode history entry %d: %d bytes: %w", e.ID, n, ErrTooLong)
	}
	return nil
}
