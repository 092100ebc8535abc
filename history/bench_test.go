package history

import (
	"bufio"
	"bytes"
	"os"
	"testing"
)

func benchAppend(b *testing.B, opts Options, batch int) {
	l := openT(b, tempPath(b), opts, chunkSize)
	es := entries(1, uint64(batch))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range es {
			es[j].ID = uint64(i*batch + j + 1)
		}
		if err := l.AppendBatch(es); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkAppendBatchSync is the production path: 64 entries, one fsync.
func BenchmarkAppendBatchSync(b *testing.B) { benchAppend(b, Options{}, 64) }

// BenchmarkAppendNoSync measures encoding and write alone.
func BenchmarkAppendNoSync(b *testing.B) {
	b.Run("batch 1", func(b *testing.B) { benchAppend(b, Options{NoSync: true}, 1) })
	b.Run("batch 64", func(b *testing.B) { benchAppend(b, Options{NoSync: true}, 64) })
}

// BenchmarkTail50OnLargeFile is what a session pays to show its scrollback.
func BenchmarkTail50OnLargeFile(b *testing.B) {
	const lines = 100_000
	path := tempPath(b)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var buf bytes.Buffer
	for id := uint64(1); id <= lines; id++ {
		buf.Reset()
		if err := appendLine(&buf, entry(id)); err != nil {
			b.Fatal(err)
		}
		w.Write(buf.Bytes())
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	l := openT(b, path, Options{}, chunkSize)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		es, err := l.Tail(50, nil)
		if err != nil || len(es) != 50 {
			b.Fatal(len(es), err)
		}
	}
}
