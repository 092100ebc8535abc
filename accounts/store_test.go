package accounts

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"golang.org/x/crypto/bcrypt"
)

func TestRegisterAndVerify(t *testing.T) {
	s, _ := newStore(t)
	register(t, s, "Alice")
	pw72 := strings.Repeat("p", MaxPasswordBytes)
	if _, err := s.Register("long", pw72); err != nil {
		t.Fatalf("Register with a %d-byte password: %v", MaxPasswordBytes, err)
	}

	tests := []struct {
		name     string
		user     string
		password string
		wantErr  error
	}{
		{"right password", "alice", testPassword, nil},
		{"upper-case login", "ALICE", testPassword, nil},
		{"mixed-case login", "aLiCe", testPassword, nil},
		{"wrong password", "alice", "correct horse battery!", ErrBadPassword},
		{"empty password", "alice", "", ErrBadPassword},
		{"password case matters", "alice", strings.ToUpper(testPassword), ErrBadPassword},
		{"unknown user", "bob", testPassword, ErrNoUser},
		{"invalid name", "al ice", testPassword, ErrNoUser},
		{"kelvin sign is not k", "\u212along", pw72, ErrNoUser},
		{"72 bytes", "long", pw72, nil},
		{"72 bytes plus one is not truncated", "long", pw72 + "x", ErrBadPassword},
		{"72 bytes plus more", "long", pw72 + strings.Repeat("y", 100), ErrBadPassword},
		{"too long for unknown user", "nobody", pw72 + "x", ErrNoUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.Verify(tt.user, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify(%q) error = %v, want %v", tt.user, err, tt.wantErr)
			}
			if tt.wantErr == nil && u.Name != Normalize(tt.user) {
				t.Errorf("Verify returned user %q, want %q", u.Name, Normalize(tt.user))
			}
			if tt.wantErr != nil && u.Name != "" {
				t.Errorf("Verify returned user %q with an error", u.Name)
			}
		})
	}
}

func TestRegister(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("X", 3600))
	path := filepath.Join(t.TempDir(), "users.json")
	s := openAt(t, path, Options{Now: func() time.Time { return now }})
	u := register(t, s, "Alice")
	if u.Name != "alice" || u.Role != RoleUser || !u.Created.Equal(now) || u.Created.Location() != time.UTC {
		t.Errorf("Register returned %+v", u)
	}
	if !strings.HasPrefix(u.Hash, "$2") {
		t.Errorf("hash %q is not bcrypt", u.Hash)
	}
	if c, _ := bcrypt.Cost([]byte(u.Hash)); c != bcrypt.MinCost {
		t.Errorf("hash cost = %d, want %d", c, bcrypt.MinCost)
	}

	tests := []struct {
		name, user, password string
		wantErr              error
		wantText             string
	}{
		{"taken", "alice", testPassword, ErrUserExists, "user exists"},
		{"taken other case", "ALICE", testPassword, ErrUserExists, "user exists"},
		{"bad name", "al ice", testPassword, ErrInvalid, "only letters"},
		{"empty name", "", testPassword, ErrInvalid, "username is empty"},
		{"short password", "bob", "short", ErrInvalid, "too short"},
		{"password is name", "bobbybobby", "BobbyBobby", ErrInvalid, "same as the username"},
		{"73 bytes", "bob", strings.Repeat("p", 73), ErrInvalid, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Register(tt.user, tt.password)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("Register(%q) = %v, want %v containing %q", tt.user, err, tt.wantErr, tt.wantText)
			}
		})
	}
	if n := s.Count(); n != 1 {
		t.Errorf("Count = %d after failed registrations, want 1", n)
	}
}

func TestDefaultCost(t *testing.T) {
	// One hash at cost 12 takes a third of a second (six under -race), so
	// this test reads the cost out of the one hash Open makes, the dummy used
	// for unknown users, and checks Register hashes at the store's cost in
	// TestRegister.
	if raceEnabled && testing.Short() {
		t.Skip("bcrypt at cost 12 takes several seconds under -race -short")
	}
	path := filepath.Join(t.TempDir(), "users.json")
	s, err := Open(path, Options{}) // Cost 0
	if err != nil {
		t.Fatal(err)
	}
	if c, err := bcrypt.Cost(s.dummy); err != nil || c != 12 || DefaultCost != 12 || s.cost != 12 {
		t.Errorf("hash cost = %d, %v (store cost %d); want 12", c, err, s.cost)
	}
}

func TestOpenCostRange(t *testing.T) {
	for _, cost := range []int{-1, 3, 15, 31} {
		t.Run(fmt.Sprint(cost), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.json")
			if _, err := Open(path, Options{Cost: cost}); err == nil || !strings.Contains(err.Error(), "cost") {
				t.Errorf("Open with cost %d: %v, want a cost error", cost, err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Open with a bad cost created the file")
			}
		})
	}
}

// TestVerifyUnknownUserTakesBcryptTime checks that an unknown name is not
// answered measurably faster than a wrong password. At cost 6 a comparison
// takes milliseconds; a map miss alone takes microseconds.
func TestVerifyUnknownUserTakesBcryptTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	s := openAt(t, path, Options{Cost: 6})
	register(t, s, "alice")
	// Interleave the two and keep the fastest of each, so that load on the
	// machine cannot make one look slower than it is.
	known, unknown := time.Hour, time.Hour
	for range 5 {
		for _, name := range []string{"alice", "nobody"} {
			start := time.Now()
			s.Verify(name, "wrong password")
			if d := time.Since(start); name == "alice" {
				known = min(known, d)
			} else {
				unknown = min(unknown, d)
			}
		}
	}
	if unknown < known/3 {
		t.Errorf("Verify of unknown user took %v, of known user %v: existence leaks through timing", unknown, known)
	}
}

func TestReopenPersists(t *testing.T) {
	s, path := newStore(t)
	register(t, s, "alice")
	register(t, s, "bob")
	if err := s.SetRole("bob", RoleAdmin); err != nil {
		t.Fatal(err)
	}
	key := newSSHKey(t, "bob@laptop")
	if err := s.AddKeys("bob", []Key{key}); err != nil {
		t.Fatal(err)
	}

	s2 := openAt(t, path, Options{})
	if !reflect.DeepEqual(s.List(), s2.List()) {
		t.Errorf("reopened store differs:\n got %+v\nwant %+v", s2.List(), s.List())
	}
	if _, err := s2.Verify("BOB", testPassword); err != nil {
		t.Errorf("Verify after reopen: %v", err)
	}
	if u, ok := s2.UserByKey(key.Fingerprint); !ok || u.Name != "bob" || u.Role != RoleAdmin {
		t.Errorf("UserByKey after reopen = %+v, %v", u, ok)
	}
}

func TestFileContents(t *testing.T) {
	s, path := newStore(t)
	register(t, s, "alice")
	register(t, s, "Carol")
	register(t, s, "bob")
	data := readFile(t, path)
	if bytes.Contains(data, []byte(testPassword)) {
		t.Fatalf("users file contains the plaintext password:\n%s", data)
	}
	if !bytes.HasPrefix(data, []byte("{\n  \"users\": [\n")) {
		t.Errorf("users file is not indented {\"users\": [...]}:\n%s", data)
	}
	users := parseUsers(t, data)
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
		if !strings.HasPrefix(u.Hash, "$2") {
			t.Errorf("user %s hash %q does not start with $2", u.Name, u.Hash)
		}
		if u.Created.Location() != time.UTC || u.Created.IsZero() {
			t.Errorf("user %s created %v, want a UTC time", u.Name, u.Created)
		}
	}
	if want := []string{"alice", "bob", "carol"}; !reflect.DeepEqual(names, want) {
		t.Errorf("file users = %v, want %v (sorted, lower-case)", names, want)
	}
	for _, field := range []string{`"name"`, `"bcrypt"`, `"created"`, `"role"`} {
		if !bytes.Contains(data, []byte(field)) {
			t.Errorf("users file lacks field %s", field)
		}
	}
}

func TestFileMode(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })

	dir := t.TempDir()
	path := filepath.Join(dir, "users.json")
	check := func(when string) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", when, fi.Mode().Perm())
		}
	}
	s := openAt(t, path, Options{})
	check("after create")
	register(t, s, "alice")
	check("after save")

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openAt(t, path, Options{})
	check("after reopening a 0644 file")
}

func TestOpenCreatesFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "users.json")
	s := openAt(t, path, Options{})
	if s.Count() != 0 {
		t.Fatal("new store not empty")
	}
	if got := parseUsers(t, readFile(t, path)); len(got) != 0 {
		t.Errorf("new file has users: %+v", got)
	}
}

func TestOpenRejectsBadFiles(t *testing.T) {
	hash := testHash(t)
	user := func(name string) string {
		return fmt.Sprintf(`{"name": %q, "bcrypt": %q, "created": "2025-01-01T00:00:00Z"}`, name, hash)
	}
	key := newSSHKey(t, "")
	withKey := func(name string) string {
		return fmt.Sprintf(`{"name": %q, "bcrypt": %q, "keys": [{"type": %q, "fingerprint": %q, "line": %q}]}`,
			name, hash, key.Type, key.Fingerprint, key.Line)
	}
	tests := []struct {
		name     string
		contents string
		wantErr  string
	}{
		{"empty file", "", "unexpected end of JSON input"},
		{"garbage", "hello", "line 1, column 1"},
		{"truncated", `{"users": [` + user("alice"), "unexpected end"},
		{"syntax error on line 3", "{\n  \"users\": [\n    {,\n  ]\n}", "line 3, column 6"},
		{"trailing garbage", `{"users": []} x`, "invalid character"},
		{"array at top", `[]`, "cannot unmarshal"},
		{"null", `null`, `no "users" list`},
		{"no users key", `{}`, `no "users" list`},
		{"users null", `{"users": null}`, `no "users" list`},
		{"users not a list", `{"users": {}}`, "cannot unmarshal"},
		{"wrong field type", `{"users": [{"name": 5}]}`, "line 1, column 21"},
		{"bad time", `{"users": [{"name": "a", "created": "yesterday"}]}`, "parsing time"},
		{"duplicate name", `{"users": [` + user("alice") + `, ` + user("bob") + `, ` + user("alice") + `]}`, `user "alice" is listed twice`},
		{"duplicate name other case", `{"users": [` + user("alice") + `, ` + user("ALICE") + `]}`, `user "alice" is listed twice`},
		{"invalid name", `{"users": [` + user("al ice") + `]}`, `user 1: username "al ice"`},
		{"empty name", `{"users": [` + user("") + `]}`, `user 1: username is empty`},
		{"missing hash", `{"users": [{"name": "alice"}]}`, `user "alice": bcrypt hash is missing or malformed`},
		{"plaintext in hash field", `{"users": [{"name": "alice", "bcrypt": "hunter2hunter2"}]}`, `bcrypt hash is missing or malformed`},
		{"created in year -1 once UTC", `{"users": [{"name": "alice", "bcrypt": "` + hash + `", "created": "0000-01-01T00:00:00+01:00"}]}`, "creation time -0001-12-31T23:00:00Z is out of range"},
		{"created in year 10000 once UTC", `{"users": [{"name": "alice", "bcrypt": "` + hash + `", "created": "9999-12-31T23:59:59-01:00"}]}`, "out of range"},
		{"unknown role", `{"users": [{"name": "alice", "bcrypt": "` + hash + `", "role": "root"}]}`, `unknown role "root"`},
		{"key held twice", `{"users": [` + withKey("alice") + `, ` + withKey("bob") + `]}`, `is listed twice (users "alice" and "bob")`},
		{"key with wrong fingerprint", strings.Replace(`{"users": [`+withKey("alice")+`]}`, key.Fingerprint, "SHA256:nope", 1), "fingerprint does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "users.json")
			if err := os.WriteFile(path, []byte(tt.contents), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path, Options{Cost: bcrypt.MinCost})
			if fi, serr := os.Stat(path); serr != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("mode of the refused file: %v, %v; want 0600", fi.Mode(), serr)
			}
			if err == nil {
				t.Fatalf("Open succeeded, want error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open error = %q, want it to name %s and contain %q", err, path, tt.wantErr)
			}
			if strings.Contains(err.Error(), hash) {
				t.Errorf("Open error quotes a hash: %q", err)
			}
			if got := readFile(t, path); string(got) != tt.contents {
				t.Errorf("Open changed the file:\n got %q\nwant %q", got, tt.contents)
			}
			if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"users.json"}) {
				t.Errorf("folder holds %v, want only users.json", names)
			}
		})
	}
}

func TestOpenAcceptsHandEditedFile(t *testing.T) {
	hash := testHash(t)
	contents := fmt.Sprintf(`{"comment": "ignored", "users": [
		{"name": "Alice", "bcrypt": %q, "created": "2025-01-01T01:00:00+01:00", "extra": true},
		{"name": "bob", "bcrypt": %q, "role": "admin", "keys": []}
	]}`, hash, hash)
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, []byte(contents), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openAt(t, path, Options{})
	a, ok := s.Get("alice")
	if !ok || a.Role != RoleUser || a.Created.Location() != time.UTC || a.Created.Hour() != 0 {
		t.Errorf("alice = %+v, %v", a, ok)
	}
	if b, _ := s.Get("bob"); b.Role != RoleAdmin || b.Keys != nil {
		t.Errorf("bob = %+v", b)
	}
	if _, err := s.Verify("alice", testPassword); err != nil {
		t.Error(err)
	}
	if got := readFile(t, path); string(got) != contents {
		t.Error("Open rewrote a valid file")
	}
}

func TestOpenRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	if err := os.WriteFile(real, []byte(`{"users": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "users.json")
	if err := os.Symlink(real, path); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{Cost: bcrypt.MinCost}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Open on a symlink = %v, want a refusal", err)
	}
}

func TestOpenRemovesStaleTemps(t *testing.T) {
	s, path := newStore(t)
	register(t, s, "alice")
	dir := filepath.Dir(path)
	for _, name := range []string{".users.json123456789", ".users.json42", ".users.json.bak", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	openAt(t, path, Options{})
	want := []string{".users.json.bak", "notes.txt", "users.json"}
	if got := dirNames(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
}

func TestConcurrentRegister(t *testing.T) {
	s, path := newStore(t)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("user%02d", i)
			if _, err := s.Register(name, testPassword); err != nil {
				errs <- err
				return
			}
			// Readers run alongside the writers.
			if _, err := s.Verify(name, testPassword); err != nil {
				errs <- err
			}
			s.List()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if names := dirNames(t, filepath.Dir(path)); !reflect.DeepEqual(names, []string{"users.json"}) {
		t.Errorf("folder holds %v, want only users.json", names)
	}
	s2 := openAt(t, path, Options{})
	if s2.Count() != n {
		t.Fatalf("reopened store has %d users, want %d", s2.Count(), n)
	}
	for i := range n {
		if _, err := s2.Verify(fmt.Sprintf("user%02d", i), testPassword); err != nil {
			t.Errorf("user%02d: %v", i, err)
		}
	}
}

func TestConcurrentSameName(t *testing.T) {
	s, path := newStore(t)
	const n = 10
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "alice"
			if i%2 == 1 {
				name = "ALICE"
			}
			_, err := s.Register(name, fmt.Sprintf("password %d", i))
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrUserExists):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d registrations succeeded, want exactly 1", ok)
	}
	if users := parseUsers(t, readFile(t, path)); len(users) != 1 {
		t.Errorf("file holds %d users, want 1", len(users))
	}
}

func TestSetPassword(t *testing.T) {
	s, path := newStore(t)
	register(t, s, "alice")
	if err := s.SetPassword("ALICE", "new password!"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify("alice", testPassword); !errors.Is(err, ErrBadPassword) {
		t.Errorf("old password: %v, want ErrBadPassword", err)
	}
	if _, err := openAt(t, path, Options{}).Verify("alice", "new password!"); err != nil {
		t.Errorf("new password after reopen: %v", err)
	}
	if err := s.SetPassword("bob", "new password!"); !errors.Is(err, ErrNoUser) {
		t.Errorf("SetPassword of unknown user = %v", err)
	}
	if err := s.SetPassword("alice", "short"); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetPassword with short password = %v", err)
	}
}

func TestSetRole(t *testing.T) {
	s, path := newStore(t)
	register(t, s, "alice")
	tests := []struct {
		name    string
		user    string
		role    Role
		wantErr error
	}{
		{"to admin", "alice", RoleAdmin, nil},
		{"again is no-op", "Alice", RoleAdmin, nil},
		{"unknown role", "alice", "root", ErrInvalid},
		{"empty role", "alice", "", ErrInvalid},
		{"unknown user", "bob", RoleAdmin, ErrNoUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetRole(tt.user, tt.role); !errors.Is(err, tt.wantErr) {
				t.Errorf("SetRole = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if u, _ := openAt(t, path, Options{}).Get("alice"); u.Role != RoleAdmin {
		t.Errorf("role after reopen = %q", u.Role)
	}
}

func TestDelete(t *testing.T) {
	s, path := newStore(t)
	register(t, s, "alice")
	register(t, s, "bob")
	key := newSSHKey(t, "")
	if err := s.AddKeys("alice", []Key{key}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("ALICE"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("alice"); !errors.Is(err, ErrNoUser) {
		t.Errorf("second Delete = %v, want ErrNoUser", err)
	}
	if s.Exists("alice") || s.Count() != 1 {
		t.Error("alice still there")
	}
	if _, ok := s.UserByKey(key.Fingerprint); ok {
		t.Error("deleted user's key still indexed")
	}
	if err := s.AddKeys("bob", []Key{key}); err != nil {
		t.Errorf("freed key cannot be added by another user: %v", err)
	}
	if got := openAt(t, path, Options{}).List(); len(got) != 1 || got[0].Name != "bob" {
		t.Errorf("after reopen: %+v", got)
	}
	// The name can be registered again.
	register(t, s, "alice")
}

func TestReadersGetCopies(t *testing.T) {
	s, _ := newStore(t)
	register(t, s, "alice")
	if err := s.AddKeys("alice", []Key{newSSHKey(t, "a")}); err != nil {
		t.Fatal(err)
	}
	u, _ := s.Get("alice")
	u.Keys[0].Comment = "changed"
	u.Role = RoleAdmin
	l := s.List()
	l[0].Keys[0].Comment = "changed"
	v, _ := s.Verify("alice", testPassword)
	v.Keys[0].Comment = "changed"
	k, _ := s.UserByKey(u.Keys[0].Fingerprint)
	k.Keys[0].Comment = "changed"
	if u2, _ := s.Get("alice"); u2.Keys[0].Comment != "a" || u2.Role != RoleUser {
		t.Errorf("store changed through a returned copy: %+v", u2)
	}
}

func TestListAndCount(t *testing.T) {
	s, _ := newStore(t)
	if len(s.List()) != 0 || s.Count() != 0 {
		t.Fatal("new store not empty")
	}
	for _, n := range []string{"zed", "Amy", "bob"} {
		register(t, s, n)
	}
	var names []string
	for _, u := range s.List() {
		names = append(names, u.Name)
	}
	if want := []string{"amy", "bob", "zed"}; !reflect.DeepEqual(names, want) || s.Count() != 3 {
		t.Errorf("List = %v, Count = %d", names, s.Count())
	}
	if !s.Exists("AMY") || s.Exists("nobody") {
		t.Error("Exists is wrong")
	}
}

func TestLogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := log.New(&buf)
	logger.SetLevel(log.DebugLevel)
	fail := false
	path := filepath.Join(t.TempDir(), "users.json")
	s := openAt(t, path, Options{Logger: logger, SaveHook: func(step string) error {
		if fail && step == "syncdir" {
			return errors.New("disk on fire")
		}
		return nil
	}})
	u := register(t, s, "alice")
	s.Verify("alice", "wrong password")
	s.Verify("nobody", testPassword)
	s.SetPassword("alice", "second password")
	fail = true
	s.Register("bob", "third password")
	s.SetPassword("alice", "fourth password")
	fail = false
	s.Delete("alice")

	out := buf.String()
	for _, secret := range []string{testPassword, "second password", "third password", "fourth password", u.Hash, "$2a$"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"user registered", "user=alice", "disk on fire", "user deleted"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
