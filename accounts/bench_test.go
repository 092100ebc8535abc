package accounts

import (
	"fmt"
	"os"
	"path/filepath"
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
func BenchmarkVerifyCost10(b *testing.B) {
	path := filepath.Join(b.TempDir(), "users.json")
	s := openAt(b, path, Options{Cost: 10})
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
