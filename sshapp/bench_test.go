package sshapp

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"securechat/history"
	"securechat/room"
)

// BenchmarkDurablePublish measures group commit end to end: many publishers
// at once through the room into the real history file with fsync. Each
// publish returns only once its message is written and fsynced; publishers
// that arrive during one fsync share the next. Reports durable appends per
// second and the p99 of publish-to-durable latency.
func BenchmarkDurablePublish(b *testing.B) {
	for _, publishers := range []int{1, 64, 512} {
		b.Run(fmt.Sprintf("publishers=%d", publishers), func(b *testing.B) {
			h, err := history.Open(filepath.Join(b.TempDir(), "h.jsonl"), history.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			r := room.New(room.Options{Journal: journal{h}})
			defer r.Close()
			lat := make([]time.Duration, b.N)
			var next sync.Mutex
			i := 0
			b.ResetTimer()
			var wg sync.WaitGroup
			for range publishers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						next.Lock()
						n := i
						i++
						next.Unlock()
						if n >= b.N {
							return
						}
						start := time.Now()
						if _, err := r.Publish(context.Background(), room.Message{Kind: room.KindMessage, From: "bench", Text: "a message of ordinary length for the benchmark"}); err != nil {
							b.Error(err)
							return
						}
						lat[n] = time.Since(start)
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
