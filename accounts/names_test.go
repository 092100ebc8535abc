package accounts

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateUsername(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" means valid
	}{
		{"simple", "alice", ""},
		{"digits", "bob42", ""},
		{"leading digit", "1st", ""},
		{"single char", "a", ""},
		{"punctuation inside", "a_b-c.d", ""},
		{"trailing punctuation", "x.", ""},
		{"upper case accepted", "Alice", ""},
		{"32 chars", strings.Repeat("a", 32), ""},
		{"empty", "", "username is empty"},
		{"33 chars", strings.Repeat("a", 33), "at most 32 characters"},
		{"space", "x y", `username "x y": only letters, digits, "_", "-" and "." are allowed`},
		{"leading dot", ".alice", "must start with a letter or a digit"},
		{"leading dash", "-alice", "must start with a letter or a digit"},
		{"leading underscore", "_alice", "must start with a letter or a digit"},
		{"only dot", ".", "must start with a letter or a digit"},
		{"slash", "a/b", "only letters"},
		{"at sign", "a@b", "only letters"},
		{"unicode letter", "zoë", "only letters"},
		{"kelvin sign folds to k", "\u212aelvin", "only letters"},
		{"fullwidth", "ａｌｉｃｅ", "only letters"},
		{"escape", "a\x1b[31m", `"a\x1b[31m"`},
		{"newline", "a\nb", `"a\nb"`},
		{"nul", "a\x00", `"a\x00"`},
		{"invalid utf8", "a\xff", `"a\xff"`},
		{"long and bad is cut short", strings.Repeat("é", 100), `"...: only letters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateUsername(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateUsername(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateUsername(%q) = nil, want error containing %q", tt.in, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ValidateUsername(%q) = %q, want it to contain %q", tt.in, err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if strings.ContainsAny(err.Error(), "\x00\x1b\n") || len(err.Error()) > 200 {
				t.Errorf("error text leaks raw bytes or is too long: %q", err)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"ALICE", "alice"},
		{"Mixed.Case_9", "mixed.case_9"},
		{"\u212aelvin", "\u212aelvin"}, // not folded to "kelvin"
		{"ÄB", "Äb"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if ValidateUsername(tt.in) == nil && Normalize(tt.in) != strings.ToLower(tt.in) {
				t.Errorf("Normalize differs from strings.ToLower on valid name %q", tt.in)
			}
		})
	}
}

func TestCheckNewPassword(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		password string
		wantErr  string
	}{
		{"ok", "alice", "correct horse", ""},
		{"exactly 8", "alice", "12345678", ""},
		{"8 runes, 16 bytes", "alice", "éééééééé", ""},
		{"exactly 72 bytes", "alice", strings.Repeat("p", 72), ""},
		{"empty", "alice", "", "too short"},
		{"7 chars", "alice", "1234567", "too short"},
		{"7 runes, 14 bytes", "alice", "ééééééé", "too short"},
		{"73 bytes", "alice", strings.Repeat("p", 73), "too long"},
		{"72 bytes of 2-byte runes plus one", "alice", strings.Repeat("é", 36) + "x", "too long"},
		{"same as username", "longusername", "longusername", "same as the username"},
		{"same as username other case", "longusername", "LongUserName", "same as the username"},
		{"contains username is fine", "alice", "alice-in-wonderland", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckNewPassword(tt.user, tt.password)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckNewPassword = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckNewPassword = %v, want error containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if strings.Contains(err.Error(), tt.password) && tt.password != "" {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}
