package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"securechat/textsafe"
)

// The known-keys file pins, per user, the set of key fingerprints this user
// last agreed to seal to (trust on first use). The server hands out the keys
// and could swap in its own; pinning turns a silent swap into a refusal.
//
// Format, one key a line, sorted; blank lines and # comments are skipped:
//
//	bob SHA256:3q2+7w...
//	bob age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq
const knownKeysHeader = "# securechat-decrypt known keys: USER FINGERPRINT, one a line. Remove a user's lines to forget them.\n"

// knownKeysPath is where the known-keys file lives by default:
// $XDG_CONFIG_HOME/securechat/known_keys, else ~/.config/securechat/known_keys.
func knownKeysPath(xdgConfigHome, home string) string {
	if xdgConfigHome != "" && filepath.IsAbs(xdgConfigHome) {
		return filepath.Join(xdgConfigHome, "securechat", "known_keys")
	}
	return filepath.Join(home, ".config", "securechat", "known_keys")
}

// knownKeys maps a user to the sorted fingerprints remembered for them.
type knownKeys map[string][]string

// loadKnownKeys reads the file at path; a missing file is an empty store. A
// malformed line is an error: a damaged trust store must not be silently
// rewritten.
func loadKnownKeys(path string) (knownKeys, error) {
	kk := knownKeys{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return kk, nil
	}
	if err != nil {
		return nil, fmt.Errorf("known keys: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || validUser(f[0]) != nil || !plausibleFingerprint(f[1]) {
			return nil, fmt.Errorf("known keys %s:%d: malformed line (want USER FINGERPRINT); fix or remove it", textsafe.Sanitize(path, false), n)
		}
		if !slices.Contains(kk[f[0]], f[1]) {
			kk[f[0]] = append(kk[f[0]], f[1])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("known keys %s: %w", textsafe.Sanitize(path, false), err)
	}
	for u := range kk {
		slices.Sort(kk[u])
	}
	return kk, nil
}

// plausibleFingerprint accepts what this program writes: SSH SHA256
// fingerprints and age recipients.
func plausibleFingerprint(s string) bool {
	return strings.HasPrefix(s, "SHA256:") || strings.HasPrefix(s, "age1")
}

// save writes the store atomically: a temporary file in the same folder,
// synced, then renamed over the old one, so a crash leaves the old or the new
// file, never half of one. The folder is created 0700 and the file 0600: it
// says who the user talks to.
func (kk knownKeys) save(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("known keys: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(knownKeysHeader)
	users := make([]string, 0, len(kk))
	for u := range kk {
		users = append(users, u)
	}
	slices.Sort(users)
	for _, u := range users {
		for _, fp := range kk[u] {
			fmt.Fprintf(&b, "%s %s\n", u, fp)
		}
	}
	tmp, err := os.CreateTemp(dir, ".known_keys-*")
	if err != nil {
		return fmt.Errorf("known keys: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("known keys: %w", err)
	}
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("known keys: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("known keys: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("known keys: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("known keys: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // make the rename itself durable; best effort
		d.Close()
	}
	return nil
}

// errKeysChanged means the server now lists other keys for the user than the
// ones remembered: refuse, and let the user decide.
var errKeysChanged = errors.New("keys changed")

// trustOutcome is what checkTrust decided.
type trustOutcome int

const (
	trustSame     trustOutcome = iota // the remembered set: go on
	trustFirstUse                     // nothing remembered: remember this set
	trustReplaced                     // changed, and --accept-new-keys: replace
)

// checkTrust compares the fingerprints offered for user with the remembered
// ones and updates kk when the set is to be remembered. When the set changed
// and accept is false, it returns an error (wrapping errKeysChanged) that
// names every remembered and offered fingerprint.
func checkTrust(kk knownKeys, user string, offered []string, accept bool) (trustOutcome, error) {
	offered = slices.Clone(offered)
	slices.Sort(offered)
	offered = slices.Compact(offered)
	old, known := kk[user]
	switch {
	case !known:
		kk[user] = offered
		return trustFirstUse, nil
	case slices.Equal(old, offered):
		return trustSame, nil
	case accept:
		kk[user] = offered
		return trustReplaced, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the keys the server lists for %s differ from the ones remembered (the server could be lying, or %s changed keys):\n", user, user)
	fmt.Fprintf(&b, "  remembered: %s\n", strings.Join(old, ", "))
	fmt.Fprintf(&b, "  now:        %s\n", strings.Join(offered, ", "))
	for _, fp := range old {
		if !slices.Contains(offered, fp) {
			fmt.Fprintf(&b, "  removed:    %s\n", fp)
		}
	}
	for _, fp := range offered {
		if !slices.Contains(old, fp) {
			fmt.Fprintf(&b, "  added:      %s\n", fp)
		}
	}
	fmt.Fprintf(&b, "check the new keys with %s another way, then re-run with --accept-new-keys", user)
	return 0, fmt.Errorf("%w: %s", errKeysChanged, b.String())
}

// validUser checks a username as the server does: 1 to 32 of a-z 0-9 _ - .,
// starting with a letter or a digit. Callers lower-case first.
func validUser(u string) error {
	if u == "" || len(u) > 32 {
		return fmt.Errorf("user name must be 1 to 32 characters")
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		ok := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return fmt.Errorf("user name may hold only a-z, 0-9, _, - and .")
		}
	}
	if c := u[0]; c == '_' || c == '-' || c == '.' {
		return fmt.Errorf("user name must start with a letter or a digit")
	}
	return nil
}

// normalizeUser lower-cases ASCII letters only, as the server does, so that
// look-alike letters outside ASCII stay invalid instead of folding into a
// real name.
func normalizeUser(u string) string {
	b := []byte(u)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
