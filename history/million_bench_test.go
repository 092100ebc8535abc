package history

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"testing"
)

// BenchmarkOpenMillion is the server's start-up on a history of a million
// messages: Open (which recovers the tail), the newest 50 for a joining
// session, Close. Compare with BenchmarkOpen1000: time, bytes read and
// heap in use must not grow with the file.
func BenchmarkOpenMillion(b *testing.B) { benchOpen(b, 1_000_000) }

// BenchmarkOpen1000 is BenchmarkOpenMillion on a thousand messages.
func BenchmarkOpen1000(b *testing.B) { benchOpen(b, 1000) }

// benchOpen writes a history of lines entries, outside the timer, then
// measures Open + Tail(50) + Close. Once, before timing, it measures one Open
// for two metrics: "heap-bytes", the growth of HeapInuse from before Open to
// just after it (everything Open brought into use, garbage included, so
// reading the file into memory would show here), and "read-bytes", what
// Open and one Tail(50) read from the file. What a Log keeps once a GC has
// run is below the noise of these counters (a few hundred bytes), so it is
// not reported.
func benchOpen(b *testing.B, lines int) {
	path := tempPath(b)
	writeHistory(b, path, lines)

	var before, opened runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&opened)
	if got := l.LastID(); got != uint64(lines) {
		b.Fatalf("LastID = %d, want %d", got, lines)
	}
	if _, err := l.Tail(50, nil); err != nil {
		b.Fatal(err)
	}
	read := l.readBytes.Load()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		l, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		es, err := l.Tail(50, nil)
		if err != nil || len(es) != 50 || es[49].ID != uint64(lines) {
			b.Fatalf("Tail(50) = %d entries, %v; want 50 ending at ID %d", len(es), err, lines)
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(int64(opened.HeapInuse)-int64(before.HeapInuse)), "heap-bytes")
	b.ReportMetric(float64(read), "read-bytes")
}

// writeHistory writes lines entries to path in the stored format, as one
// run of appends would have.
func writeHistory(b *testing.B, path string, lines int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf bytes.Buffer
	for id := uint64(1); id <= uint64(lines); id++ {
		buf.Reset()
		if err := appendLine(&buf, entry(id)); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
