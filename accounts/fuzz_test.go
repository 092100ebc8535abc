package accounts

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/crypto/bcrypt"
)

// simpleValidUsername restates the username rule as plainly as possible, to
// check ValidateUsername against.
func simpleValidUsername(name string) bool {
	const first = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	const rest = first + "_-."
	if len(name) < 1 || len(name) > 32 {
		return false
	}
	for i, r := range name {
		allowed := rest
		if i == 0 {
			allowed = first
		}
		if !strings.ContainsRune(allowed, r) {
			return false
		}
	}
	return true
}

// FuzzValidateUsername: seeds in testdata/fuzz/FuzzValidateUsername.
func FuzzValidateUsername(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateUsername(name)
		if want := simpleValidUsername(name); (err == nil) != want {
			t.Fatalf("ValidateUsername(%q) = %v, want valid=%v", name, err, want)
		}
		if err == nil {
			n := Normalize(name)
			if n != strings.ToLower(name) || ValidateUsername(n) != nil || Normalize(n) != n {
				t.Fatalf("Normalize(%q) = %q is not a valid lower-case form", name, n)
			}
			return
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("error %v does not match ErrInvalid", err)
		}
		msg := err.Error()
		if strings.ContainsFunc(msg, unicode.IsControl) || len(msg) > 250 {
			t.Errorf("error text has control characters or is too long: %q", msg)
		}
	})
}

// FuzzLoad writes arbitrary bytes as users.json and opens them: Open must
// not panic; when it fails the file must be untouched; when it succeeds every
// user must obey the rules and the file must still be untouched. Seeds in
// testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "users.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, Options{Cost: bcrypt.MinCost})
		got, rerr := os.ReadFile(path)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("Open (err %v) changed the file:\n got %q\nwant %q", err, got, data)
		}
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		seenKeys := map[string]bool{}
		for _, u := range s.List() {
			if ValidateUsername(u.Name) != nil || Normalize(u.Name) != u.Name {
				t.Errorf("loaded invalid name %q", u.Name)
			}
			if u.Role != RoleUser && u.Role != RoleAdmin {
				t.Errorf("user %q has role %q", u.Name, u.Role)
			}
			if _, err := bcrypt.Cost([]byte(u.Hash)); err != nil {
				t.Errorf("user %q has a malformed hash", u.Name)
			}
			for _, k := range u.Keys {
				if ValidateKey(k) != nil || seenKeys[k.Fingerprint] {
					t.Errorf("user %q has an invalid or shared key %q", u.Name, k.Fingerprint)
				}
				seenKeys[k.Fingerprint] = true
				if o, ok := s.UserByKey(k.Fingerprint); !ok || o.Name != u.Name {
					t.Errorf("key %q not indexed to %q", k.Fingerprint, u.Name)
				}
			}
		}
		// What loads must save and load back the same.
		if err := s.update(func(*state) error { return nil }); err != nil {
			t.Fatalf("save of a loaded file: %v", err)
		}
		if again := openAt(t, path, Options{}); !reflect.DeepEqual(again.List(), s.List()) {
			t.Errorf("save and reload changed the users")
		}
	})
}

// FuzzDecode hammers the parser and the rules without the file system and
// the bcrypt hash Open makes, so it runs a hundred times faster than
// FuzzLoad: whatever decodes must obey the rules and survive an encode and
// decode unchanged. Seeds in testdata/fuzz/FuzzDecode (FuzzLoad's seeds).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decode(data)
		if err != nil {
			if st != nil {
				t.Fatal("decode returned a state with an error")
			}
			return
		}
		keys := 0
		for name, u := range st.users {
			if name != u.Name || ValidateUsername(name) != nil || Normalize(name) != name {
				t.Errorf("user %q stored under %q", u.Name, name)
			}
			if u.Role != RoleUser && u.Role != RoleAdmin {
				t.Errorf("user %q has role %q", u.Name, u.Role)
			}
			for _, k := range u.Keys {
				if st.byKey[k.Fingerprint] != name {
					t.Errorf("key %q not indexed to %q", k.Fingerprint, name)
				}
				keys++
			}
		}
		if keys != len(st.byKey) {
			t.Errorf("index holds %d keys, users hold %d", len(st.byKey), keys)
		}
		out, err := encode(st)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		again, err := decode(out)
		if err != nil {
			t.Fatalf("decode of encoded state: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again.sorted(), st.sorted()) || !reflect.DeepEqual(again.byKey, st.byKey) {
			t.Errorf("encode and decode changed the state:\n%s", out)
		}
	})
}
