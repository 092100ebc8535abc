package limits

import (
	"fmt"
	"testing"
)

// BenchmarkAuthGuardCheck is the cost every connection and password attempt
// pays: a source check and an account check on a guard holding many entries.
func BenchmarkAuthGuardCheck(b *testing.B) {
	g := NewAuthGuard(AuthConfig{})
	names := make([]string, 1024)
	for i := range names {
		names[i] = fmt.Sprintf("user%d", i)
	}
	for i := range 50000 {
		g.Failure(nthIPv4(i), names[i%len(names)])
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			g.CheckSource(nthIPv4(i % 100000))
			g.CheckAccount(names[i%len(names)])
			i++
		}
	})
}

// BenchmarkFloodAllow is the cost of one chat message's flood check.
func BenchmarkFloodAllow(b *testing.B) {
	f := NewFlood(FloodConfig{})
	names := make([]string, 1024)
	for i := range names {
		names[i] = fmt.Sprintf("user%d", i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			f.Allow(names[i%len(names)])
			i++
		}
	})
}
