package history

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/log"
)

// logBuf collects what the Log logs, safe to read while appends run.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *logBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *logBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// newLogger returns a logfmt logger writing into a fresh logBuf, so tests can
// look for stable keys such as bytes=12.
func newLogger() (*log.Logger, *logBuf) {
	w := &logBuf{}
	return log.NewWithOptions(w, log.Options{Level: log.DebugLevel, Formatter: log.LogfmtFormatter}), w
}

var baseTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// entry makes a plausible entry whose fields all depend on id.
func entry(id uint64) Entry {
	return Entry{
		ID:   id,
		Time: baseTime.Add(time.Duration(id) * time.Second),
		Kind: "msg",
		Room: []string{"lobby", "dev"}[id%2],
		From: "alice",
		Text: fmt.Sprintf("hello %d", id),
	}
}

func entries(from, to uint64) []Entry {
	var es []Entry
	for id := from; id <= to; id++ {
		es = append(es, entry(id))
	}
	return es
}

// openT opens path with a chunk size and closes it when the test ends.
func openT(t testing.TB, path string, opts Options, chunk int) *Log {
	t.Helper()
	l, err := open(path, opts, chunk)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// encodeLines renders es exactly as AppendBatch would, for writing files
// directly.
func encodeLines(t testing.TB, es []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range es {
		if err := appendLine(&buf, e); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func ids(es []Entry) []uint64 {
	out := make([]uint64, 0, len(es))
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func idRange(from, to uint64) []uint64 {
	out := []uint64{}
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

func wantIDs(t testing.TB, what string, got []Entry, want []uint64) {
	t.Helper()
	if g := ids(got); !slices.Equal(g, want) {
		t.Fatalf("%s: got IDs %v, want %v", what, g, want)
	}
}

// sameEntry compares entries field by field, with times compared as instants
// and required to be UTC.
func sameEntry(t testing.TB, got, want Entry) {
	t.Helper()
	if got.Time.Location() != time.UTC {
		t.Errorf("entry %d: time %v not UTC", got.ID, got.Time)
	}
	if !got.Time.Equal(want.Time) {
		t.Errorf("entry %d: time %v, want %v", got.ID, got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("entry:\n got %+v\nwant %+v", got, want)
	}
}

// checkFile asserts the invariant every recovery and rollback keeps: the file
// is empty or ends in '\n', and every line in it parses. It returns the IDs.
func checkFile(t testing.TB, path string) []uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s does not end in a newline: ...%q", path, b[max(0, len(b)-40):])
	}
	var out []uint64
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 2*MaxLineBytes)
	for sc.Scan() {
		e, err := ParseLine(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: line %q does not parse: %v", path, sc.Text(), err)
		}
		out = append(out, e.ID)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "message_history.jsonl")
}

func mustContain(t testing.TB, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Fatalf("%s: %q does not contain %q", what, s, sub)
		}
	}
}
