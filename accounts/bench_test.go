package accounts

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchStore writes a users file with n users (sharing one hash, with one
// SSH key each if withKeys) and opens it: registering 10k users one by one
// would cost 10k bcrypt hashes and 10k saves.
func benchStore(b *testing.B, n int, withKeys bool) (*Store, []string, []string) {
	b.Helper()
	hash := testHash(b)
	users := make([]User, n)
	names := make([]string, n)
	var fps []string
	for i := range users {
		names[i] = fmt.Sprintf("user%05d", i)
		users[i] = User{Name: names[i], Hash: hash, Created: time.Now().UTC(), Role: RoleUser}
		if withKeys {
			k := newSSHKey(b, "")
			users[i].Keys = []Key{k}
			fps = append(fps, k.Fingerprint)
		}
	}
	st := newState()
	for _, u := range users {
		st.put(u)
	}
	data, err := encode(st)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "users.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	s := openAt(b, path, Options{})
	if s.Count() != n {
		b.Fatalf("loaded %d users, want %d", s.Count(), n)
	}
	return s, names, fps
}

func BenchmarkGet(b *testing.B) {
	s, names, _ := benchStore(b, 10_000, false)
	i := 0
	for b.Loop() {
		if _, ok := s.Get(names[i%len(names)]); !ok {
			b.Fatal("missing user")
		}
		i++
	}
}

func BenchmarkUserByKey(b *testing.B) {
	s, _, fps := benchStore(b, 10_000, true)
	i := 0
	for b.Loop() {
		if _, ok := s.UserByKey(fps[i%len(fps)]); !ok {
			b.Fatal("missing key")
		}
		i++
	}
}

// BenchmarkVerifyCost10 is informational: the price of one password login
// at the lowest cost operators may choose (DefaultCost 12 is four times it).
func BenchmarkVerifyCost10(b *testing.B) { benchVerify(b, 10) }

// BenchmarkVerifyDefaultCost is informational: one password login at
// DefaultCost, what a crowd of password users reconnecting pays each.
func BenchmarkVerifyDefaultCost(b *testing.B) { benchVerify(b, DefaultCost) }

func benchVerify(b *testing.B, cost int) {
	path := filepath.Join(b.TempDir(), "users.json")
	s := openAt(b, path, Options{Cost: cost})
	register(b, s, "alice")
	for b.Loop() {
		if _, err := s.Verify("alice", testPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegister10k is informational: a change with 10k users on file
// (clone, encode, write, fsync, rename, fsync of the folder), at MinCost.
func BenchmarkRegister10k(b *testing.B) {
	s, _, _ := benchStore(b, 10_000, false)
	i := 0
	for b.Loop() {
		if _, err := s.Register(fmt.Sprintf("new%06d", i), testPassword); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkBannedSource looks up IPv6 addresses (the worst case: one map
// look-up per prefix length) that no ban covers, among 10k users of whom 1k
// are banned by source: the cost must not grow with either number.
func BenchmarkBannedSource(b *testing.B) {
	s, names, _ := benchStore(b, 10_000, false)
	now := time.Now()
	// One save for all the bans, not a thousand.
	err := s.update(func(next *state) error {
		for i, n := range names[:1000] {
			src := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 8), byte(i)}), 64).String()
			ban := Ban{By: "admin", Source: src, Until: now.Add(time.Hour).UTC(), At: now.UTC()}
			if err := normalizeBan(&ban); err != nil {
				return err
			}
			u := next.users[n]
			u.Ban = &ban
			next.put(u)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	miss := netip.MustParsePrefix("2001:db9::1/128")
	hit := netip.MustParsePrefix("2001:db8:3e7::5/128")
	if _, _, ok := s.BannedSource(hit, now); !ok {
		b.Fatal("banned source not found")
	}
	for b.Loop() {
		if _, _, ok := s.BannedSource(miss, now); ok {
			b.Fatal("unbanned source found")
		}
	}
}

// BenchmarkSessionsEndTogether: 1,000 users with a key each, and 1,000
// sessions ending at once, each saving the newest message it showed
// (what a restart or a network cut does). Reports the users-file saves.
func BenchmarkSessionsEndTogether(b *testing.B) {
	s, names, _ := benchStore(b, 1000, true)
	var saves atomic.Int64
	s.saveHook = func(step string) error {
		if step == "write" {
			saves.Add(1)
		}
		return nil
	}
	id := uint64(0)
	for b.Loop() {
		id++
		var wg sync.WaitGroup
		for _, name := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.UpdatePrefs(name, func(p *Prefs) error {
					p.LastRead = map[string]uint64{"lobby": id}
					return nil
				}); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(saves.Load())/float64(b.N), "saves/op")
}
