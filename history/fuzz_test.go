package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"unicode/utf8"
)

// FuzzParseLine checks that ParseLine never panics, that what it accepts has
// valid UTF-8 and a UTC time, and that an accepted entry survives being
// written and read again unchanged.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"time":"2025-03-01T12:00:00Z","kind":"msg","room":"lobby","from":"alice","text":"hi"}`,
		`{"id":2,"time":"2025-03-01T13:00:00+01:00","kind":"sealed","from":"a","to":"b","text":"age..."}` + "\n",
		"{\"id\":3,\"text\":\"caf\xe9 \\ud800\"}",
		`{"id":18446744073709551615}`,
		`null`,
		"\x00\x00\x00",
		`{"id":1,"te`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseLine(b)
		if err != nil {
			return
		}
		for _, s := range []string{e.Kind, e.Room, e.From, e.To, e.Text} {
			if !utf8.ValidString(s) {
				t.Fatalf("accepted invalid UTF-8 %q", s)
			}
		}
		if e.Time.Location().String() != "UTC" {
			t.Fatalf("time %v not UTC", e.Time)
		}
		var buf bytes.Buffer
		if err := appendLine(&buf, e); err != nil {
			// A time outside years 0-9999 parses but cannot be written;
			// AppendBatch reports it and writes nothing.
			if _, merr := json.Marshal(e.Time); merr != nil {
				return
			}
			// Replacing an invalid byte with U+FFFD triples it at most.
			if errors.Is(err, ErrTooLong) && len(b) > MaxLineBytes/3 {
				return
			}
			t.Fatalf("cannot write back %+v: %v", e, err)
		}
		line := buf.Bytes()
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("written line %q has an inner newline", line)
		}
		e2, err := ParseLine(line)
		if err != nil {
			t.Fatalf("cannot read back %q: %v", line, err)
		}
		if !e2.Time.Equal(e.Time) {
			t.Fatalf("time %v read back as %v", e.Time, e2.Time)
		}
		e.Time = e2.Time
		if e != e2 {
			t.Fatalf("round trip:\n got %+v\nwant %+v", e2, e)
		}
	})
}

// FuzzTailRecovery writes arbitrary bytes as a log file and checks that Open
// never fails or panics on them, leaves a file that is empty or ends in a
// newline, that Tail agrees with a plain forward reading of the file, and
// that the log then appends and reads back normally. The chunk size is fuzzed
// too, down to one byte, to move every line across chunk boundaries.
func FuzzTailRecovery(f *testing.F) {
	good := `{"id":1,"time":"2025-03-01T12:00:00Z","kind":"msg","from":"a","text":"x"}` + "\n"
	for i, s := range []string{
		"",
		good,
		good + `{"id":2,"ti`,
		good + "\x00\x00\x00\x00",
		good + "junk\n" + good,
		"\n\n\n",
		"\x00\n\x00",
		good + "\xff\xfe\n",
	} {
		f.Add([]byte(s), uint8(i*7))
	}
	dir := f.TempDir()
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		path := filepath.Join(dir, fmt.Sprintf("h%d.jsonl", n.Add(1)))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		l, err := open(path, Options{NoSync: true}, int(chunk)%64+1)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer l.Close()
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) > 0 && after[len(after)-1] != '\n' {
			t.Fatalf("after Open the file ends in %q", after[len(after)-1])
		}
		if !bytes.HasPrefix(b, after) {
			t.Fatalf("Open changed more than the tail")
		}
		if int64(len(after)) != l.Size() {
			t.Fatalf("Size %d, file %d", l.Size(), len(after))
		}
		var want []Entry // every line that parses, read forwards
		if len(after) > 0 {
			for _, ln := range bytes.Split(after[:len(after)-1], []byte("\n")) {
				if e, err := ParseLine(ln); err == nil && len(ln) <= MaxLineBytes {
					want = append(want, e)
				}
			}
			// What is left ends in a line that parses, and LastID is its ID.
			last := after[bytes.LastIndexByte(after[:len(after)-1], '\n')+1:]
			e, err := ParseLine(last)
			if err != nil {
				t.Fatalf("last line left by Open does not parse: %v", err)
			}
			if e.ID != l.LastID() {
				t.Fatalf("LastID %d, last line has %d", l.LastID(), e.ID)
			}
		}
		got, err := l.Tail(10, nil)
		if err != nil {
			t.Fatalf("Tail: %v", err)
		}
		want = want[max(0, len(want)-10):]
		if len(got) != len(want) {
			t.Fatalf("Tail(10) = %d entries, a forward reading finds %d", len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("Tail(10)[%d] = %+v, forward reading %+v", i, got[i], want[i])
			}
		}
		e := entry(l.LastID() + 1)
		if e.ID == 0 {
			e.ID = 1 << 63 // LastID was the maximum; any ID will do
		}
		if err := l.AppendBatch([]Entry{e}); err != nil {
			t.Fatalf("AppendBatch: %v", err)
		}
		got, err = l.Tail(1, nil)
		if err != nil || len(got) != 1 {
			t.Fatalf("Tail after append: %v %v", got, err)
		}
		sameEntry(t, got[0], e)
	})
}

// FuzzPeekID checks that peekID never disagrees with a full decode: when it
// reads an ID from a line, that line decodes to an entry with that ID or
// not at all.
func FuzzPeekID(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"time":"2025-03-01T12:00:00Z","kind":"msg","from":"alice","text":"hi"}`,
		`{"id":18446744073709551615,"text":""}`,
		`{"id":99999999999999999999,"text":""}`,
		`{"id":,"text":""}`,
		`{"id":12`,
		`{"id":007,"text":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, ok := peekID(b)
		if !ok {
			return
		}
		if e, err := ParseLine(b); err == nil && e.ID != id {
			t.Fatalf("peekID read %d, the line decodes to ID %d", id, e.ID)
		}
	})
}
