package accounts

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

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
			checkModeration(t, u)
			// A ban in force at some instant is found by its source then.
			if b := u.Ban; b != nil && b.Source != "" {
				at := b.Until.Add(-1)
				if b.Until.IsZero() {
					at = b.At
				}
				if _, ok := s.ActiveBan(u.Name, at); !ok {
					t.Errorf("user %q: ban %+v not active at %v", u.Name, b, at)
				}
				if _, got, ok := s.BannedSource(netip.MustParsePrefix(b.Source), at); !ok || !got.activeAt(at) {
					t.Errorf("user %q: source %s not banned at %v", u.Name, b.Source, at)
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
		keys, sources := 0, 0
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
			checkModeration(t, u)
			if u.Ban != nil && u.Ban.Source != "" {
				if !slices.Contains(st.bySource[netip.MustParsePrefix(u.Ban.Source)], name) {
					t.Errorf("ban source %q of %q not indexed", u.Ban.Source, name)
				}
				sources++
			}
		}
		if keys != len(st.byKey) {
			t.Errorf("index holds %d keys, users hold %d", len(st.byKey), keys)
		}
		indexed := 0
		for p, names := range st.bySource {
			if len(names) == 0 || !slices.IsSorted(names) {
				t.Errorf("source %s indexes %v", p, names)
			}
			indexed += len(names)
		}
		if indexed != sources {
			t.Errorf("source index holds %d bans, users hold %d", indexed, sources)
		}
		out, err := encode(st)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		again, err := decode(out)
		if err != nil {
			t.Fatalf("decode of encoded state: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again.sorted(), st.sorted()) || !reflect.DeepEqual(again.byKey, st.byKey) ||
			!reflect.DeepEqual(again.bySource, st.bySource) {
			t.Errorf("encode and decode changed the state:\n%s", out)
		}
	})
}

// checkModeration checks the rules on a loaded user's ban, mute and prefs,
// restated independently of the code that enforces them.
func checkModeration(t *testing.T, u User) {
	t.Helper()
	if b := u.Ban; b != nil {
		if ValidateUsername(b.By) != nil || Normalize(b.By) != b.By {
			t.Errorf("user %q: ban by %q", u.Name, b.By)
		}
		if len(b.Reason) > 200 || strings.ContainsFunc(b.Reason, unicode.IsControl) || !utf8.ValidString(b.Reason) {
			t.Errorf("user %q: ban reason %q", u.Name, b.Reason)
		}
		if b.Source != "" {
			p, err := netip.ParsePrefix(b.Source)
			if err != nil || p.Masked().String() != b.Source {
				t.Errorf("user %q: ban source %q", u.Name, b.Source)
			}
		}
		if b.Until.Location() != time.UTC || b.At.Location() != time.UTC {
			t.Errorf("user %q: ban times not UTC", u.Name)
		}
	}
	if u.MutedUntil.Location() != time.UTC {
		t.Errorf("user %q: mute end not UTC", u.Name)
	}
	p := u.Prefs
	if len(p.Ignore) > 200 || len(p.Rooms) > 50 || len(p.LastRead) > 100 {
		t.Errorf("user %q: prefs over the limits", u.Name)
	}
	if !slices.IsSorted(p.Ignore) || len(slices.Compact(slices.Clone(p.Ignore))) != len(p.Ignore) {
		t.Errorf("user %q: ignore list not sorted and unique: %v", u.Name, p.Ignore)
	}
	for _, n := range p.Ignore {
		if ValidateUsername(n) != nil || Normalize(n) != n {
			t.Errorf("user %q: ignores %q", u.Name, n)
		}
	}
	for _, v := range []string{p.Theme, p.Timestamps, p.Bell, p.Away} {
		if strings.ContainsFunc(v, unicode.IsControl) || !utf8.ValidString(v) {
			t.Errorf("user %q: pref %q", u.Name, v)
		}
	}
	rooms := slices.Clone(p.Rooms)
	for r := range p.LastRead {
		rooms = append(rooms, r)
	}
	for _, r := range rooms {
		if r == "" || len(r) > 64 || strings.ContainsFunc(r, unicode.IsSpace) || strings.ContainsFunc(r, unicode.IsControl) {
			t.Errorf("user %q: room %q", u.Name, r)
		}
	}
	if (p.Ignore != nil && len(p.Ignore) == 0) || (p.Rooms != nil && len(p.Rooms) == 0) || (p.LastRead != nil && len(p.LastRead) == 0) {
		t.Errorf("user %q: empty but not nil prefs lists", u.Name)
	}
}
