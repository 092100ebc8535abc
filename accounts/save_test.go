package accounts

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// faultInjector fails the save step it is armed for.
type faultInjector struct {
	mu    sync.Mutex
	armed string
	seen  []string
}

var errInjected = errors.New("injected fault")

func (f *faultInjector) hook(step string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, step)
	if step == f.armed {
		return errInjected
	}
	return nil
}

func (f *faultInjector) arm(step string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.seen = step, nil
}

func (f *faultInjector) steps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

var saveSteps = []string{"write", "sync", "rename", "syncdir"}

func TestSaveSteps(t *testing.T) {
	var f faultInjector
	path := filepath.Join(t.TempDir(), "users.json")
	s := openAt(t, path, Options{SaveHook: f.hook})
	if got := f.steps(); !reflect.DeepEqual(got, saveSteps) {
		t.Errorf("steps when creating the file = %v, want %v", got, saveSteps)
	}
	f.arm("")
	register(t, s, "alice")
	if got := f.steps(); !reflect.DeepEqual(got, saveSteps) {
		t.Errorf("steps = %v, want %v", got, saveSteps)
	}
	f.arm("")
	if err := s.SetRole("alice", RoleUser); err != nil {
		t.Fatal(err)
	}
	if got := f.steps(); len(got) != 0 {
		t.Errorf("a change that changes nothing saved anyway: %v", got)
	}
}

// TestSaveFault fails every kind of change at every step of its save and
// checks that the file on disk is exactly the previous version, that memory
// agrees with it, that no temporary file is left, and that the store still
// works afterwards.
func TestSaveFault(t *testing.T) {
	changes := []struct {
		name string
		do   func(s *Store) error
	}{
		{"register", func(s *Store) error { _, err := s.Register("carol", testPassword); return err }},
		{"set password", func(s *Store) error { return s.SetPassword("alice", "another password") }},
		{"set role", func(s *Store) error { return s.SetRole("alice", RoleAdmin) }},
		{"delete", func(s *Store) error { return s.Delete("bob") }},
		{"add keys", func(s *Store) error { return s.AddKeys("alice", []Key{newSSHKey(t, "new")}) }},
		{"remove key", func(s *Store) error { return s.RemoveKey("bob", s.List()[1].Keys[0].Fingerprint) }},
	}
	for _, step := range saveSteps {
		for _, ch := range changes {
			t.Run(step+"/"+ch.name, func(t *testing.T) {
				var f faultInjector
				dir := t.TempDir()
				path := filepath.Join(dir, "users.json")
				s := openAt(t, path, Options{SaveHook: f.hook})
				register(t, s, "alice")
				register(t, s, "bob")
				if err := s.AddKeys("bob", []Key{newSSHKey(t, "bob")}); err != nil {
					t.Fatal(err)
				}
				before := readFile(t, path)
				beforeList := s.List()

				f.arm(step)
				err := ch.do(s)
				if !errors.Is(err, errInjected) || !strings.HasPrefix(err.Error(), "save users file: "+step+": ") {
					t.Fatalf("error = %v, want the injected fault wrapped as save users file: %s: ...", err, step)
				}
				if after := readFile(t, path); string(after) != string(before) {
					t.Errorf("file changed by a failed save:\n got %s\nwant %s", after, before)
				}
				if !reflect.DeepEqual(parseUsers(t, readFile(t, path)), parseUsers(t, before)) {
					t.Error("file parses differently after a failed save")
				}
				if got := s.List(); !reflect.DeepEqual(got, beforeList) {
					t.Errorf("memory not rolled back:\n got %+v\nwant %+v", got, beforeList)
				}
				for _, u := range beforeList {
					for _, k := range u.Keys {
						if o, ok := s.UserByKey(k.Fingerprint); !ok || o.Name != u.Name {
							t.Errorf("key index lost %s of %s", k.Fingerprint, u.Name)
						}
					}
				}
				if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"users.json"}) {
					t.Errorf("folder holds %v, want only users.json", names)
				}
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("file mode after restore: %v, %v", fi.Mode(), err)
				}

				// The store keeps working, and the retried change lands.
				f.arm("")
				if err := ch.do(s); err != nil {
					t.Fatalf("retry after the fault: %v", err)
				}
				if !reflect.DeepEqual(openAt(t, path, Options{}).List(), s.List()) {
					t.Error("memory and disk differ after the retried change")
				}
			})
		}
	}
}

func TestCreateFault(t *testing.T) {
	for _, step := range saveSteps {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "users.json")
			_, err := Open(path, Options{Cost: bcrypt.MinCost, SaveHook: func(s string) error {
				if s == step {
					return errInjected
				}
				return nil
			}})
			if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open = %v, want the injected fault naming %s", err, path)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("folder holds %v after a failed create, want nothing", names)
			}
		})
	}
}

// TestSaveFaultRealError fails a save with a real error from the kernel
// rather than the hook: renaming a file over a non-empty directory fails for
// every user, root included, with no mount needed.
func TestSaveFaultRealError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.json")
	s := openAt(t, path, Options{})
	register(t, s, "alice")
	before := readFile(t, path)

	// Swap the folder for one whose users.json is a non-empty directory.
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(moved) })
	if err := os.MkdirAll(filepath.Join(dir, "users.json", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register("bob", testPassword); err == nil || !strings.HasPrefix(err.Error(), "save users file: ") {
		t.Fatalf("Register = %v, want a save error", err)
	}
	if s.Exists("bob") {
		t.Error("bob exists in memory after a failed save")
	}
	if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"users.json"}) {
		t.Errorf("folder holds %v, want only users.json (no temporary files)", names)
	}
	if got := readFile(t, filepath.Join(moved, "users.json")); string(got) != string(before) {
		t.Error("original file changed")
	}
}
