package accounts

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckPassword is the one password policy every front end applies.
func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, user, password string
		minScore             int
		wantErr              string
	}{
		{"strong", "alice", "amber falcon river stone", 3, ""},
		{"too short first", "alice", "abc", 3, "too short"},
		{"the name", "erinerin", "ErinErin", 3, "same as the username"},
		{"contains the name", "alice", "alice-in-wonderland-7", 3, "must not contain the username"},
		{"contains the name, other case", "Alice", "xxALICExx-sunflower", 3, "must not contain the username"},
		{"common", "alice", "letmein123", 3, "too easy to guess"},
		{"common, strength off", "alice", "password", 0, ""},
		{"contains the name, strength off", "alice", "alice-in-wonderland", 0, "must not contain the username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.user, tt.password, tt.minScore)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckPassword = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckPassword = %v, want error containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if strings.Contains(err.Error(), tt.password) {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}

// FuzzCheckPassword: the policy never panics, its errors are plain lines
// matching ErrInvalid, and what it accepts keeps every rule.
func FuzzCheckPassword(f *testing.F) {
	f.Add("alice", "amber falcon river stone", 3)
	f.Add("alice", "alice-in-wonderland", 0)
	f.Add("bob", "password", 3)
	f.Add("x", "\x00\xff\u202e", 4)
	f.Fuzz(func(t *testing.T, name, password string, score int) {
		if ValidateUsername(name) != nil {
			return
		}
		score %= 5
		err := CheckPassword(name, password, score)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\x00\n\x1b") || len(msg) > 200 {
				t.Fatalf("error text %q", msg)
			}
			return
		}
		if CheckNewPassword(name, password) != nil || strings.Contains(strings.ToLower(password), Normalize(name)) {
			t.Fatalf("CheckPassword accepted %q for %q", password, name)
		}
	})
}
