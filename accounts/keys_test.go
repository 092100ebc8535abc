package accounts

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testAge = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

func TestAddKeys(t *testing.T) {
	s, path := newStore(t)
	register(t, s, "alice")
	register(t, s, "bob")
	a1, a2, b1 := newSSHKey(t, "alice@home"), newSSHKey(t, ""), newSSHKey(t, "bob")
	age := Key{Type: KeyTypeAge, Fingerprint: testAge, Line: testAge}
	if err := s.AddKeys("bob", []Key{b1}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		user     string
		keys     []Key
		wantErr  error
		wantText string
		wantFPs  []string // alice's fingerprints afterwards
	}{
		{"add two", "alice", []Key{a1, age}, nil, "", []string{a1.Fingerprint, testAge}},
		{"own duplicate is a no-op", "ALICE", []Key{a1}, nil, "", []string{a1.Fingerprint, testAge}},
		{"duplicate inside one call", "alice", []Key{a2, a2}, nil, "", []string{a1.Fingerprint, testAge, a2.Fingerprint}},
		{"taken by bob", "alice", []Key{b1}, ErrKeyTaken, b1.Fingerprint, []string{a1.Fingerprint, testAge, a2.Fingerprint}},
		{"all or nothing", "alice", []Key{newSSHKey(t, "fresh"), b1}, ErrKeyTaken, "", []string{a1.Fingerprint, testAge, a2.Fingerprint}},
		{"unknown user", "carol", []Key{newSSHKey(t, "")}, ErrNoUser, "", []string{a1.Fingerprint, testAge, a2.Fingerprint}},
		{"invalid key", "alice", []Key{{Type: "ssh-ed25519", Fingerprint: "SHA256:x", Line: "ssh-ed25519 nope"}}, ErrInvalid, "not an SSH public key", []string{a1.Fingerprint, testAge, a2.Fingerprint}},
		{"nothing", "alice", nil, nil, "", []string{a1.Fingerprint, testAge, a2.Fingerprint}},
		{"unstorable time", "alice", []Key{func() Key { k := newSSHKey(t, ""); k.Added = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC); return k }()}, ErrInvalid, "time added is out of range", []string{a1.Fingerprint, testAge, a2.Fingerprint}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.AddKeys(tt.user, tt.keys)
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantText)) {
				t.Fatalf("AddKeys = %v, want %v containing %q", err, tt.wantErr, tt.wantText)
			}
			if err != nil && strings.Contains(err.Error(), "bob") {
				t.Errorf("error %q names the other user", err)
			}
			u, _ := s.Get("alice")
			var fps []string
			for _, k := range u.Keys {
				fps = append(fps, k.Fingerprint)
			}
			if !reflect.DeepEqual(fps, tt.wantFPs) {
				t.Errorf("alice's keys = %v, want %v", fps, tt.wantFPs)
			}
		})
	}

	for fp, want := range map[string]string{a1.Fingerprint: "alice", testAge: "alice", b1.Fingerprint: "bob"} {
		if u, ok := s.UserByKey(fp); !ok || u.Name != want {
			t.Errorf("UserByKey(%s) = %q, %v; want %s", fp, u.Name, ok, want)
		}
	}
	if _, ok := s.UserByKey("SHA256:unknown"); ok {
		t.Error("UserByKey found an unknown key")
	}
	if !reflect.DeepEqual(openAt(t, path, Options{}).List(), s.List()) {
		t.Error("keys differ after reopen")
	}
}

func TestAddKeysSetsAdded(t *testing.T) {
	now := time.Date(2025, 6, 1, 8, 0, 0, 0, time.FixedZone("Y", -7200))
	s := openAt(t, t.TempDir()+"/users.json", Options{Now: func() time.Time { return now }})
	register(t, s, "alice")
	given := time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("Z", 3600))
	k1, k2 := newSSHKey(t, ""), newSSHKey(t, "")
	k2.Added = given
	if err := s.AddKeys("alice", []Key{k1, k2}); err != nil {
		t.Fatal(err)
	}
	u, _ := s.Get("alice")
	if !u.Keys[0].Added.Equal(now) || !u.Keys[1].Added.Equal(given) {
		t.Errorf("Added = %v, %v", u.Keys[0].Added, u.Keys[1].Added)
	}
	for _, k := range u.Keys {
		if k.Added.Location() != time.UTC {
			t.Errorf("Added %v is not UTC", k.Added)
		}
	}
}

func TestRemoveKey(t *testing.T) {
	s, path := newStore(t)
	register(t, s, "alice")
	register(t, s, "bob")
	a, b := newSSHKey(t, ""), newSSHKey(t, "")
	if err := s.AddKeys("alice", []Key{a}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddKeys("bob", []Key{b}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, fp string
		wantErr        error
	}{
		{"another user's key", "alice", b.Fingerprint, ErrNoKey},
		{"unknown key", "alice", "SHA256:nope", ErrNoKey},
		{"unknown user", "carol", a.Fingerprint, ErrNoUser},
		{"own key", "Alice", a.Fingerprint, nil},
		{"again", "alice", a.Fingerprint, ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.RemoveKey(tt.user, tt.fp); !errors.Is(err, tt.wantErr) {
				t.Errorf("RemoveKey = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, ok := s.UserByKey(a.Fingerprint); ok {
		t.Error("removed key still indexed")
	}
	if u, ok := s.UserByKey(b.Fingerprint); !ok || u.Name != "bob" {
		t.Error("bob's key lost")
	}
	if u, _ := openAt(t, path, Options{}).Get("alice"); u.Keys != nil {
		t.Errorf("alice's keys after reopen: %+v", u.Keys)
	}
	// A freed key can go to someone else.
	if err := s.AddKeys("bob", []Key{a}); err != nil {
		t.Errorf("AddKeys of a freed key: %v", err)
	}
}

func TestParseKey(t *testing.T) {
	k := newSSHKey(t, "")
	tests := []struct {
		name, in string
		want     Key
		wantErr  string
	}{
		{"ssh with comment", k.Line + " me@laptop\n", Key{Type: k.Type, Fingerprint: k.Fingerprint, Line: k.Line, Comment: "me@laptop"}, ""},
		{"ssh bare", k.Line, k, ""},
		{"age", " " + testAge + " ", Key{Type: KeyTypeAge, Fingerprint: testAge, Line: testAge}, ""},
		{"options", `no-pty ` + k.Line, Key{}, "options"},
		{"two lines", k.Line + "\n" + k.Line, Key{}, "one line"},
		{"garbage", "hello", Key{}, "not an SSH public key"},
		{"empty", "", Key{}, "not an SSH public key"},
		{"control in comment", k.Line + " a\x1bb", Key{}, "control characters"},
		{"bad age", "age1 with spaces", Key{}, "not an age recipient"},
		{"upper-case age", strings.ToUpper(testAge[:4]) + testAge[4:], Key{}, "not an SSH public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("ParseKey = %+v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseKey = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestValidateKey(t *testing.T) {
	k := newSSHKey(t, "")
	other := newSSHKey(t, "")
	tests := []struct {
		name    string
		key     Key
		wantErr string
	}{
		{"ok", k, ""},
		{"age ok", Key{Type: KeyTypeAge, Fingerprint: testAge, Line: testAge}, ""},
		{"wrong fingerprint", Key{Type: k.Type, Fingerprint: other.Fingerprint, Line: k.Line}, "fingerprint does not match"},
		{"wrong type", Key{Type: "ssh-rsa", Fingerprint: k.Fingerprint, Line: k.Line}, "does not match the key"},
		{"comment in line", Key{Type: k.Type, Fingerprint: k.Fingerprint, Line: k.Line + " c"}, "only the type and the key"},
		{"extra spaces", Key{Type: k.Type, Fingerprint: k.Fingerprint, Line: strings.Replace(k.Line, " ", "  ", 1)}, "canonical"},
		{"empty", Key{}, "not an SSH public key"},
		{"age fingerprint differs", Key{Type: KeyTypeAge, Fingerprint: "x", Line: testAge}, "recipient itself"},
		{"long comment", Key{Type: k.Type, Fingerprint: k.Fingerprint, Line: k.Line, Comment: strings.Repeat("c", 300)}, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateKey(tt.key)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateKey = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}
