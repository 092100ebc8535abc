package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppendTailRoundTrip(t *testing.T) {
	odd := Entry{
		ID:   7,
		Time: time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600)),
		Kind: "sealed",
		From: "bob",
		To:   "alice",
		Text: "<b>&\"quotes\"\nnew line\ttab \u2028 ünï \x00 nul",
	}
	tests := []struct {
		name    string
		batches [][]Entry
		tail    int
		want    []Entry
	}{
		{"one entry", [][]Entry{{entry(1)}}, 10, entries(1, 1)},
		{"one batch", [][]Entry{entries(1, 5)}, 10, entries(1, 5)},
		{"several batches, tail of fewer", [][]Entry{entries(1, 3), entries(4, 4), entries(5, 9)}, 4, entries(6, 9)},
		{"tail exactly all", [][]Entry{entries(1, 3)}, 3, entries(1, 3)},
		{"empty batch is a no-op", [][]Entry{{}, entries(1, 2), nil}, 5, entries(1, 2)},
		{"odd text, zone converted to UTC, empty room omitted", [][]Entry{{odd}}, 1, []Entry{odd}},
		{"nothing appended", nil, 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			l := openT(t, path, Options{}, chunkSize)
			for _, b := range tc.batches {
				if err := l.AppendBatch(b); err != nil {
					t.Fatal(err)
				}
			}
			got, err := l.Tail(tc.tail, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Tail(%d) = %d entries, want %d", tc.tail, len(got), len(tc.want))
			}
			for i := range got {
				sameEntry(t, got[i], tc.want[i])
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() != l.Size() {
				t.Errorf("Size() = %d, file has %d", l.Size(), fi.Size())
			}
			checkFile(t, path)
		})
	}

	t.Run("stored form", func(t *testing.T) {
		path := tempPath(t)
		l := openT(t, path, Options{}, chunkSize)
		if err := l.AppendBatch([]Entry{odd}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		mustContain(t, "stored line", string(b), `"time":"2025-01-02T02:04:05.000000006Z"`, `<b>&`)
		if strings.Contains(string(b), `"room"`) {
			t.Errorf("empty room stored: %s", b)
		}
		if bytes.Count(b, []byte("\n")) != 1 {
			t.Errorf("one entry took more than one line: %q", b)
		}
	})
}

func TestReopen(t *testing.T) {
	path := tempPath(t)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l.LastID() != 0 {
		t.Fatalf("LastID of a new log = %d", l.LastID())
	}
	if err := l.AppendBatch(entries(1, 10)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openT(t, path, Options{}, chunkSize)
	if l.LastID() != 10 {
		t.Fatalf("LastID after reopen = %d, want 10", l.LastID())
	}
	got, err := l.Tail(100, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries(1, 10) {
		sameEntry(t, got[i], e)
	}
	if err := l.AppendBatch(entries(11, 12)); err != nil {
		t.Fatal(err)
	}
	if l.LastID() != 12 {
		t.Fatalf("LastID after append = %d, want 12", l.LastID())
	}
	l.Close()

	l = openT(t, path, Options{}, chunkSize)
	if l.LastID() != 12 {
		t.Fatalf("LastID after second reopen = %d, want 12", l.LastID())
	}
	wantIDs(t, "after second reopen", must(l.Tail(100, nil)), idRange(1, 12))
}

func must(es []Entry, err error) []Entry {
	if err != nil {
		panic(err)
	}
	return es
}

func TestTornTail(t *testing.T) {
	good := func(from, to uint64) string { return string(encodeLines(t, entries(from, to))) }
	tests := []struct {
		name    string
		content string
		cut     int // bytes Open must cut; 0 means no warning
		lastID  uint64
		ids     []uint64 // IDs readable after Open
	}{
		{"empty file", "", 0, 0, idRange(1, 0)},
		{"clean file", good(1, 3), 0, 3, idRange(1, 3)},
		{"partial last line", good(1, 3) + `{"id":4,"time":"2025-`, 21, 3, idRange(1, 3)},
		{"only a partial line", `{"id":1,"ti`, 11, 0, idRange(1, 0)},
		{"zero-filled tail", good(1, 3) + strings.Repeat("\x00", 4096), 4096, 3, idRange(1, 3)},
		{"zeros ending in a newline", good(1, 3) + strings.Repeat("\x00", 100) + "\n", 101, 3, idRange(1, 3)},
		{"half a line then zeros", good(1, 3) + `{"id":4,"te` + strings.Repeat("\x00", 50), 61, 3, idRange(1, 3)},
		{"several junk lines", good(1, 3) + "\x00\x00\n\x00\n{\"id\":\n", 12, 3, idRange(1, 3)},
		{"zeros longer than a chunk", good(1, 3) + strings.Repeat("\x00", 5*64+3), 5*64 + 3, 3, idRange(1, 3)},
		{"only zeros", strings.Repeat("\x00", 300), 300, 0, idRange(1, 0)},
		{"corrupt middle line is not cut", good(1, 2) + "junk\n" + good(3, 3), 0, 3, idRange(1, 3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			writeFile(t, path, []byte(tc.content))
			logger, logs := newLogger()
			l := openT(t, path, Options{Logger: logger}, 64)

			if got := l.LastID(); got != tc.lastID {
				t.Errorf("LastID = %d, want %d", got, tc.lastID)
			}
			wantSize := int64(len(tc.content) - tc.cut)
			if fi, _ := os.Stat(path); fi.Size() != wantSize || l.Size() != wantSize {
				t.Errorf("file size %d, Size() %d, want %d", fi.Size(), l.Size(), wantSize)
			}
			if tc.cut > 0 {
				mustContain(t, "log", logs.String(), "level=warn", "torn tail", "path="+path, fmt.Sprintf("bytes=%d", tc.cut))
			} else if strings.Contains(logs.String(), "torn") {
				t.Errorf("nothing to cut, but logged %q", logs.String())
			}
			wantIDs(t, "Tail after Open", must(l.Tail(100, nil)), tc.ids)

			// Appends after recovery start on a clean line and read back.
			next := entries(tc.lastID+1, tc.lastID+2)
			if err := l.AppendBatch(next); err != nil {
				t.Fatal(err)
			}
			got := must(l.Tail(2, nil))
			sameEntry(t, got[0], next[0])
			sameEntry(t, got[1], next[1])
			l.Close()

			logger2, logs2 := newLogger()
			l2 := openT(t, path, Options{Logger: logger2}, 64)
			if strings.Contains(logs2.String(), "torn") {
				t.Errorf("second Open cut again: %q", logs2.String())
			}
			if l2.LastID() != tc.lastID+2 {
				t.Errorf("LastID after reopen = %d, want %d", l2.LastID(), tc.lastID+2)
			}
			wantIDs(t, "Tail after reopen", must(l2.Tail(100, nil)), append(tc.ids, tc.lastID+1, tc.lastID+2))
		})
	}
}

func TestCorruptMiddleLine(t *testing.T) {
	overlong := `{"id":2,"kind":"msg","text":"` + strings.Repeat("x", MaxLineBytes) + `"}`
	tests := []struct {
		name string
		line string
		warn string
	}{
		{"garbage", "garbage", "unreadable"},
		{"zeros", "\x00\x00\x00\x00", "unreadable"},
		{"cut JSON", `{"id":2,"te`, "unreadable"},
		{"JSON null", "null", "unreadable"},
		{"JSON array", `[1,2]`, "unreadable"},
		{"bad time", `{"id":2,"time":"yesterday"}`, "unreadable"},
		{"empty line", "", "unreadable"},
		{"overlong line", overlong, "overlong"},
	}
	for _, tc := range tests {
		for _, chunk := range []int{16, chunkSize} {
			t.Run(fmt.Sprintf("%s/chunk %d", tc.name, chunk), func(t *testing.T) {
				path := tempPath(t)
				var b []byte
				b = append(b, encodeLines(t, entries(1, 1))...)
				b = append(b, tc.line+"\n"...)
				b = append(b, encodeLines(t, entries(3, 3))...)
				writeFile(t, path, b)

				logger, logs := newLogger()
				l := openT(t, path, Options{Logger: logger}, chunk)
				if l.LastID() != 3 || l.Size() != int64(len(b)) {
					t.Fatalf("LastID %d Size %d: Open touched a sound tail", l.LastID(), l.Size())
				}
				got := must(l.Tail(10, nil))
				wantIDs(t, "Tail", got, []uint64{1, 3})
				sameEntry(t, got[0], entry(1))
				sameEntry(t, got[1], entry(3))
				mustContain(t, "log", logs.String(), "level=warn", tc.warn, "offset=")
				wantIDs(t, "Since", must(l.Since(0, nil, 10)), []uint64{1, 3})
			})
		}
	}
}

func TestInvalidUTF8OldLine(t *testing.T) {
	path := tempPath(t)
	var b []byte
	b = append(b, encodeLines(t, entries(1, 1))...)
	b = append(b, "{\"id\":2,\"time\":\"2025-03-01T12:00:02Z\",\"kind\":\"msg\",\"from\":\"m\xe9lanie\",\"text\":\"caf\xe9 \xff\xfe \xed\xa0\x80 ok\"}\n"...)
	b = append(b, encodeLines(t, entries(3, 3))...)
	writeFile(t, path, b)

	l := openT(t, path, Options{}, chunkSize)
	got := must(l.Tail(10, nil))
	wantIDs(t, "Tail", got, []uint64{1, 2, 3})
	e := got[1]
	for _, s := range []string{e.From, e.Text} {
		if !utf8.ValidString(s) || !strings.Contains(s, "\uFFFD") {
			t.Errorf("%q: want valid UTF-8 with replacement characters", s)
		}
	}
	mustContain(t, "text", e.Text, "caf", " ok")
	sameEntry(t, got[2], entry(3))

	// Appending invalid UTF-8 stores replacement characters, never raw bytes.
	if err := l.AppendBatch([]Entry{{ID: 4, Time: baseTime, Kind: "msg", Text: "bad \xff byte"}}); err != nil {
		t.Fatal(err)
	}
	e4 := must(l.Tail(1, nil))[0]
	if e4.Text != "bad \uFFFD byte" {
		t.Errorf("appended text read back as %q", e4.Text)
	}
}

func TestTailKeep(t *testing.T) {
	path := tempPath(t)
	l := openT(t, path, Options{}, 64)
	if err := l.AppendBatch(entries(1, 20)); err != nil {
		t.Fatal(err)
	}
	inRoom := func(room string) func(Entry) bool {
		return func(e Entry) bool { return e.Room == room }
	}
	tests := []struct {
		name string
		n    int
		keep func(Entry) bool
		want []uint64
	}{
		{"nil keeps all", 3, nil, []uint64{18, 19, 20}},
		{"odd IDs (room dev)", 3, inRoom("dev"), []uint64{15, 17, 19}},
		{"even IDs (room lobby)", 2, inRoom("lobby"), []uint64{18, 20}},
		{"more asked than kept", 100, inRoom("dev"), []uint64{1, 3, 5, 7, 9, 11, 13, 15, 17, 19}},
		{"nothing kept", 5, inRoom("nowhere"), []uint64{}},
		{"n zero", 0, nil, []uint64{}},
		{"n negative", -1, nil, []uint64{}},
		{"by ID", 2, func(e Entry) bool { return e.ID < 5 }, []uint64{3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantIDs(t, "Tail", must(l.Tail(tc.n, tc.keep)), tc.want)
		})
	}
}

func TestSince(t *testing.T) {
	path := tempPath(t)
	l := openT(t, path, Options{}, 64)
	if err := l.AppendBatch(entries(1, 30)); err != nil {
		t.Fatal(err)
	}
	dev := func(e Entry) bool { return e.Room == "dev" }
	tests := []struct {
		name    string
		afterID uint64
		keep    func(Entry) bool
		max     int
		want    []uint64
	}{
		{"from the start", 0, nil, 100, idRange(1, 30)},
		{"from the start, first few", 0, nil, 4, idRange(1, 4)},
		{"middle", 25, nil, 100, idRange(26, 30)},
		{"middle, first few", 10, nil, 3, idRange(11, 13)},
		{"max exactly what is there", 27, nil, 3, idRange(28, 30)},
		{"at the end", 30, nil, 10, []uint64{}},
		{"beyond the end", 99, nil, 10, []uint64{}},
		{"with keep", 20, dev, 100, []uint64{21, 23, 25, 27, 29}},
		{"with keep, first few", 0, dev, 3, []uint64{1, 3, 5}},
		{"max zero", 0, nil, 0, []uint64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantIDs(t, "Since", must(l.Since(tc.afterID, tc.keep, tc.max)), tc.want)
		})
	}

	t.Run("stops at afterID", func(t *testing.T) {
		before := l.readBytes.Load()
		wantIDs(t, "Since", must(l.Since(29, nil, 10)), []uint64{30})
		// The two last lines, plus at most a chunk on each side.
		limit := int64(len(encodeLines(t, entries(29, 30)))) + 2*64
		if read := l.readBytes.Load() - before; read > limit {
			t.Errorf("Since of the last entry read %d bytes", read)
		}
	})
}

func TestLongLines(t *testing.T) {
	text := func(n int) string { return strings.Repeat("0123456789", n/10+1)[:n] }
	for _, chunk := range []int{16, 100, chunkSize} {
		for _, size := range []int{chunk - 1, chunk, chunk + 1, 3*chunk + 7, 200 << 10} {
			t.Run(fmt.Sprintf("chunk %d text %d", chunk, size), func(t *testing.T) {
				path := tempPath(t)
				l := openT(t, path, Options{}, chunk)
				var want []Entry
				for id := uint64(1); id <= 6; id++ {
					e := entry(id)
					if id%2 == 0 {
						e.Text = text(size)
					}
					want = append(want, e)
				}
				if err := l.AppendBatch(want[:3]); err != nil {
					t.Fatal(err)
				}
				if err := l.AppendBatch(want[3:]); err != nil {
					t.Fatal(err)
				}
				l.Close()
				// A torn long line at the end too.
				f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				f.Write([]byte(`{"id":7,"text":"` + text(size)))
				f.Close()

				l = openT(t, path, Options{}, chunk)
				if l.LastID() != 6 {
					t.Fatalf("LastID = %d, want 6", l.LastID())
				}
				got := must(l.Tail(10, nil))
				if len(got) != len(want) {
					t.Fatalf("Tail returned %v", ids(got))
				}
				for i := range want {
					sameEntry(t, got[i], want[i])
				}
				wantIDs(t, "Tail(3)", must(l.Tail(3, nil)), []uint64{4, 5, 6})
				wantIDs(t, "Since(3)", must(l.Since(3, nil, 2)), []uint64{4, 5})
			})
		}
	}
}

func TestAppendRejects(t *testing.T) {
	tests := []struct {
		name  string
		batch []Entry
		want  error
	}{
		{"line over MaxLineBytes", []Entry{entry(1), {ID: 2, Text: strings.Repeat("x", MaxLineBytes)}}, ErrTooLong},
		{"time not encodable", []Entry{entry(1), {ID: 2, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			l := openT(t, path, Options{}, chunkSize)
			err := l.AppendBatch(tc.batch)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("AppendBatch = %v, want %v", err, tc.want)
			}
			if l.Size() != 0 || l.LastID() != 0 {
				t.Fatalf("rejected batch left Size %d LastID %d", l.Size(), l.LastID())
			}
			if ids := checkFile(t, path); len(ids) != 0 {
				t.Fatalf("rejected batch wrote %v", ids)
			}
			if err := l.AppendBatch(entries(1, 1)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTailBigFile(t *testing.T) {
	const lines = 200_000
	path := tempPath(t)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var buf bytes.Buffer
	for id := uint64(1); id <= lines; id++ {
		buf.Reset()
		if err := appendLine(&buf, entry(id)); err != nil {
			t.Fatal(err)
		}
		w.Write(buf.Bytes())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	l := openT(t, path, Options{}, chunkSize)
	// Open reads the tail only, whatever the size (about 16 MB here).
	if read := l.readBytes.Load(); read > 2*chunkSize {
		t.Errorf("Open read %d bytes of a %d-byte file", read, l.Size())
	}
	if l.LastID() != lines {
		t.Fatalf("LastID = %d", l.LastID())
	}

	before := l.readBytes.Load()
	got := must(l.Tail(50, nil))
	wantIDs(t, "Tail(50)", got, idRange(lines-49, lines))
	sameEntry(t, got[49], entry(lines))
	if read := l.readBytes.Load() - before; read > chunkSize {
		t.Errorf("Tail(50) read %d bytes", read)
	}

	before = l.readBytes.Load()
	wantIDs(t, "Since", must(l.Since(lines-5, nil, 100)), idRange(lines-4, lines))
	if read := l.readBytes.Load() - before; read > chunkSize {
		t.Errorf("Since of the last 5 read %d bytes", read)
	}
}

func TestConcurrentAppend(t *testing.T) {
	const writers, batches, perBatch = 8, 40, 5
	path := tempPath(t)
	l := openT(t, path, Options{}, 256)
	var next atomic.Uint64
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches+writers)
	stop := make(chan struct{})
	for range writers {
		wg.Go(func() {
			for range batches {
				es := make([]Entry, perBatch)
				for i := range es {
					es[i] = entry(next.Add(1))
				}
				if err := l.AppendBatch(es); err != nil {
					errs <- err
				}
			}
		})
	}
	// Readers run alongside and must only ever see whole lines.
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := l.Tail(20, nil); err != nil {
					errs <- err
					return
				}
				if _, err := l.Since(next.Load()/2, nil, 10); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	const total = writers * batches * perBatch
	if l.LastID() != total {
		t.Errorf("LastID = %d, want %d", l.LastID(), total)
	}
	seen := map[uint64]bool{}
	for _, e := range must(l.Tail(total+10, nil)) {
		if seen[e.ID] {
			t.Fatalf("ID %d twice", e.ID)
		}
		seen[e.ID] = true
		sameEntry(t, e, entry(e.ID))
	}
	if len(seen) != total {
		t.Fatalf("read back %d entries, want %d", len(seen), total)
	}
	if got := checkFile(t, path); len(got) != total {
		t.Fatalf("file holds %d lines", len(got))
	}
}

func TestWriteFailure(t *testing.T) {
	tests := []struct {
		name string
		hook func(f *os.File, p []byte) (int, error)
		want error
	}{
		{"disk full after half the batch", func(f *os.File, p []byte) (int, error) {
			n, _ := f.Write(p[:len(p)/2])
			return n, syscall.ENOSPC
		}, syscall.ENOSPC},
		{"read-only file system, nothing written", func(f *os.File, p []byte) (int, error) {
			return 0, syscall.EROFS
		}, syscall.EROFS},
		{"short write without error", func(f *os.File, p []byte) (int, error) {
			return f.Write(p[:len(p)-1])
		}, io.ErrShortWrite},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			var failing atomic.Bool
			logger, logs := newLogger()
			l := openT(t, path, Options{Logger: logger, WriteHook: func(f *os.File, p []byte) (int, error) {
				if failing.Load() {
					return tc.hook(f, p)
				}
				return f.Write(p)
			}}, chunkSize)
			if err := l.AppendBatch(entries(1, 3)); err != nil {
				t.Fatal(err)
			}
			size := l.Size()

			failing.Store(true)
			err := l.AppendBatch(entries(4, 9))
			if !errors.Is(err, tc.want) {
				t.Fatalf("AppendBatch = %v, want %v", err, tc.want)
			}
			if errors.Is(err, ErrBroken) {
				t.Fatalf("a failed write must not break the log: %v", err)
			}
			wantIDs(t, "file after failure", entriesOf(checkFile(t, path)), idRange(1, 3))
			if l.Size() != size || l.LastID() != 3 {
				t.Fatalf("after failure Size %d LastID %d, want %d 3", l.Size(), l.LastID(), size)
			}
			mustContain(t, "log", logs.String(), "append failed")
			// Still failing: still nothing partial.
			if err := l.AppendBatch(entries(4, 4)); !errors.Is(err, tc.want) {
				t.Fatalf("second AppendBatch = %v", err)
			}

			failing.Store(false)
			if err := l.AppendBatch(entries(4, 5)); err != nil {
				t.Fatalf("append once space is back: %v", err)
			}
			wantIDs(t, "Tail", must(l.Tail(10, nil)), idRange(1, 5))
			wantIDs(t, "file", entriesOf(checkFile(t, path)), idRange(1, 5))
		})
	}
}

// entriesOf wraps IDs as entries so wantIDs can compare them.
func entriesOf(ids []uint64) []Entry {
	es := make([]Entry, len(ids))
	for i, id := range ids {
		es[i].ID = id
	}
	return es
}

func TestSyncFailureBreaks(t *testing.T) {
	path := tempPath(t)
	var failing atomic.Bool
	logger, logs := newLogger()
	var observed []int
	l, err := Open(path, Options{Logger: logger, SyncHook: func(f *os.File) error {
		if failing.Load() {
			return syscall.EIO
		}
		return f.Sync()
	}, Observe: func(n int, took, syncTook time.Duration) {
		if took < syncTook || syncTook < 0 {
			t.Errorf("append took %s, its fsync %s", took, syncTook)
		}
		observed = append(observed, n)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AppendBatch(entries(1, 2)); err != nil {
		t.Fatal(err)
	}
	if l.Err() != nil || len(observed) != 1 || observed[0] != 2 {
		t.Fatalf("after a good batch: Err %v, observed %v", l.Err(), observed)
	}
	failing.Store(true)
	err = l.AppendBatch(entries(3, 4))
	if !errors.Is(err, ErrBroken) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("AppendBatch = %v, want ErrBroken wrapping EIO", err)
	}
	if !errors.Is(l.Err(), syscall.EIO) || len(observed) != 1 {
		t.Fatalf("after the failed fsync: Err %v, observed %v", l.Err(), observed)
	}
	mustContain(t, "log", logs.String(), "level=error", "fsync", "err=")

	// The disk says it is fine again; the log still refuses, since the pages
	// that failed may be gone.
	failing.Store(false)
	for range 2 {
		if err := l.AppendBatch(entries(5, 5)); !errors.Is(err, ErrBroken) {
			t.Fatalf("AppendBatch after broken = %v, want ErrBroken", err)
		}
	}
	if l.LastID() != 2 {
		t.Errorf("LastID = %d, want 2: the unacknowledged batch must not count", l.LastID())
	}
	// Readers go on serving what was acknowledged.
	wantIDs(t, "Tail", must(l.Tail(10, nil)), idRange(1, 2))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart reads what really reached the file and works again.
	l = openT(t, path, Options{}, chunkSize)
	if err := l.AppendBatch(entries(l.LastID()+1, l.LastID()+1)); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
}

func TestFileMode(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	tests := []struct {
		name     string
		existing os.FileMode // 0: no file before Open
	}{
		{"new file", 0},
		{"existing 0666", 0o666},
		{"existing 0644", 0o644},
		{"existing 0640", 0o640},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			if tc.existing != 0 {
				writeFile(t, path, encodeLines(t, entries(1, 1)))
				if err := os.Chmod(path, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			l := openT(t, path, Options{}, chunkSize)
			if err := l.AppendBatch(entries(2, 2)); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"directory", dir, []string{dir, "is a directory"}},
		{"missing folder", filepath.Join(dir, "nope", "h.jsonl"), []string{filepath.Join(dir, "nope"), "does not exist"}},
		{"fifo", fifo, []string{fifo, "not a regular file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Open(tc.path, Options{})
			if err == nil {
				l.Close()
				t.Fatal("Open succeeded")
			}
			mustContain(t, "error", err.Error(), tc.want...)
		})
	}
}

func TestTornTailSyncFailure(t *testing.T) {
	path := tempPath(t)
	writeFile(t, path, append(encodeLines(t, entries(1, 2)), `{"id":3,"te`...))
	l, err := Open(path, Options{SyncHook: func(*os.File) error { return syscall.EIO }})
	if err == nil {
		l.Close()
		t.Fatal("Open succeeded though the cut could not be made durable")
	}
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("Open = %v, want EIO", err)
	}
}

func TestCloseWhileReading(t *testing.T) {
	path := tempPath(t)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AppendBatch(entries(1, 100)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	started := make(chan struct{}, 4)
	for range 4 {
		wg.Go(func() {
			started <- struct{}{}
			for {
				if _, err := l.Tail(50, nil); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("Tail: %v", err)
					}
					return
				}
			}
		})
	}
	for range 4 {
		<-started
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func TestClose(t *testing.T) {
	path := tempPath(t)
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AppendBatch(entries(1, 1)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if err := l.AppendBatch(entries(2, 2)); !errors.Is(err, ErrClosed) {
		t.Errorf("AppendBatch after Close = %v", err)
	}
	if err := l.AppendBatch(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("empty AppendBatch after Close = %v", err)
	}
	if _, err := l.Tail(1, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Tail after Close = %v", err)
	}
	if _, err := l.Since(0, nil, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Since after Close = %v", err)
	}
	if l.LastID() != 1 || l.Size() == 0 {
		t.Errorf("LastID %d Size %d after Close", l.LastID(), l.Size())
	}
}

// TestRealENOSPC fills a real 64 KiB tmpfs: the kernel, not a hook, says the
// disk is full, partway through a write.
func TestRealENOSPC(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			t.Skipf("cannot mount a tmpfs here: %v", err)
		}
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	filler := filepath.Join(dir, "filler")
	writeFile(t, filler, bytes.Repeat([]byte("f"), 16<<10))

	path := filepath.Join(dir, "message_history.jsonl")
	// The hook only watches the real write, to report whether the kernel
	// took part of the failing batch (the case the rollback is for).
	var lastN, lastLen int
	l := openT(t, path, Options{WriteHook: func(f *os.File, p []byte) (int, error) {
		n, err := f.Write(p)
		lastN, lastLen = n, len(p)
		return n, err
	}}, chunkSize)
	var err error
	var id uint64
	for err == nil {
		if id > 10_000 {
			t.Fatal("64 KiB tmpfs never filled up")
		}
		batch := entries(id+1, id+7)
		if err = l.AppendBatch(batch); err == nil {
			id += 7
		}
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk = %v, want ENOSPC", err)
	}
	if id == 0 {
		t.Fatal("not even one batch fit")
	}
	t.Logf("after %d entries the kernel took %d of %d bytes, then: %v", id, lastN, lastLen, err)
	wantIDs(t, "file on a full disk", entriesOf(checkFile(t, path)), idRange(1, id))
	if l.LastID() != id {
		t.Fatalf("LastID = %d, want %d", l.LastID(), id)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendBatch(entries(id+1, id+7)); err != nil {
		t.Fatalf("append after freeing space: %v", err)
	}
	wantIDs(t, "Tail", must(l.Tail(8, nil)), idRange(id, id+7))
	l.Close()
	l = openT(t, path, Options{}, chunkSize)
	if l.LastID() != id+7 {
		t.Fatalf("LastID after reopen = %d, want %d", l.LastID(), id+7)
	}
	wantIDs(t, "file", entriesOf(checkFile(t, path)), idRange(1, id+7))
}

// TestSinceFiltered checks that a filtered read returns what the plain one
// does, decodes only the lines that contain the filter's bytes, stops at
// MaxLines saying so, and still decodes lines in a shape it cannot peek at.
func TestSinceFiltered(t *testing.T) {
	path := tempPath(t)
	l := openT(t, path, Options{}, 64)
	es := entries(1, 200)
	for i := range es {
		if es[i].ID%17 == 0 {
			es[i].Kind, es[i].To = "sealed", "bob"
		}
	}
	if err := l.AppendBatch(es); err != nil {
		t.Fatal(err)
	}
	sealed := func(e Entry) bool { return e.Kind == "sealed" && e.To == "bob" }
	needle := []byte(`"kind":"sealed"`)
	for _, after := range []uint64{0, 1, 16, 17, 18, 100, 199, 200, 500} {
		for _, max := range []int{1, 3, 100} {
			want := must(l.Since(after, sealed, max))
			got, complete, err := l.SinceFiltered(after, sealed, max, Filter{Contains: needle})
			if err != nil || !complete {
				t.Fatalf("after %d: complete %v, err %v", after, complete, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("after %d max %d: filtered read %v, plain read %v", after, max, ids(got), ids(want))
			}
		}
	}
	// MaxLines: the last 50 lines (151 to 200) hold 153, 170 and 187.
	got, complete, err := l.SinceFiltered(0, sealed, 100, Filter{Contains: needle, MaxLines: 50})
	if err != nil || complete {
		t.Fatalf("a read stopped at MaxLines says complete %v (%v)", complete, err)
	}
	wantIDs(t, "SinceFiltered", got, []uint64{153, 170, 187})
	if _, complete, _ := l.SinceFiltered(190, sealed, 100, Filter{MaxLines: 50}); !complete {
		t.Fatal("a read that reached afterID within MaxLines says incomplete")
	}

	// A line in another shape (fields reordered by some other writer) is
	// decoded, not skipped or taken for the end.
	path2 := tempPath(t)
	odd := `{"kind":"msg","id":5,"time":"2025-03-01T12:00:00Z","from":"x","text":"t"}` + "\n"
	var b bytes.Buffer
	b.Write(encodeLines(t, entries(1, 4)))
	b.WriteString(odd)
	b.Write(encodeLines(t, entries(6, 6)))
	if err := os.WriteFile(path2, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	l2 := openT(t, path2, Options{}, 64)
	got, _, err = l2.SinceFiltered(3, nil, 10, Filter{Contains: []byte("no such bytes")})
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "SinceFiltered over an odd line", got, []uint64{5})
}

// TestTailFiltered checks that a filtered tail returns what the plain one
// does and stops at MaxLines saying so.
func TestTailFiltered(t *testing.T) {
	l := openT(t, tempPath(t), Options{}, 64)
	es := entries(1, 100)
	for i := range es {
		if es[i].ID%9 == 0 {
			es[i].Kind, es[i].To = "sealed", "bob"
		}
	}
	if err := l.AppendBatch(es); err != nil {
		t.Fatal(err)
	}
	sealed := func(e Entry) bool { return e.Kind == "sealed" && e.To == "bob" }
	for _, n := range []int{1, 4, 11, 12, 50} {
		want := must(l.Tail(n, sealed))
		got, complete, err := l.TailFiltered(n, sealed, Filter{Contains: []byte(`"kind":"sealed"`)})
		if err != nil || !complete || !reflect.DeepEqual(got, want) {
			t.Fatalf("n %d: filtered tail %v (complete %v, %v), plain %v", n, ids(got), complete, err, ids(want))
		}
	}
	got, complete, err := l.TailFiltered(50, sealed, Filter{MaxLines: 20})
	if err != nil || complete {
		t.Fatalf("a tail stopped at MaxLines says complete %v (%v)", complete, err)
	}
	wantIDs(t, "TailFiltered", got, []uint64{81, 90, 99})
}
