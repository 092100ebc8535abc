package accounts

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/crypto/bcrypt"
	gossh "golang.org/x/crypto/ssh"
)

const testPassword = "correct horse battery"

// openAt opens the store at path with bcrypt.MinCost unless opts says
// otherwise.
func openAt(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	if opts.Cost == 0 {
		opts.Cost = bcrypt.MinCost
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

// newStore opens a fresh store in a temporary folder.
func newStore(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.json")
	return openAt(t, path, Options{}), path
}

func register(t testing.TB, s *Store, name string) User {
	t.Helper()
	u, err := s.Register(name, testPassword)
	if err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	return u
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parseUsers parses users.json independently of the package's decoder.
func parseUsers(t testing.TB, data []byte) []User {
	t.Helper()
	var f struct {
		Users []User `json:"users"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("users file does not parse: %v\n%s", err, data)
	}
	return f.Users
}

// dirNames lists the folder, to spot leftover temporary files.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// newSSHKey returns a fresh ed25519 key as a Key.
func newSSHKey(t testing.TB, comment string) Key {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return SSHKey(sp, comment)
}

func testHash(t testing.TB) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}
