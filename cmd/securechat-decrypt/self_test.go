package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEncryptSealsToSelf: --encrypt seals to the sender's own keys as well,
// by default the .pub files of the default identities, so that the sender
// opens their copy (inbox --sent) with no flags; --self names other files;
// --no-self leaves the sender out; and a sender without keys is warned.
func TestEncryptSealsToSelf(t *testing.T) {
	home := isolate(t)
	dir := t.TempDir()
	bob := newEd25519Key(t, filepath.Join(dir, "bob"), "")
	bobKeys := writeFile(t, filepath.Join(dir, "bob.keys"), bob.Line+"\n")
	known := filepath.Join(dir, "known_keys")
	seal := func(args ...string) (string, string) {
		t.Helper()
		out, errOut, code := runCLI(t, "for bob", nil, append([]string{"--encrypt", "--to", "bob", "-R", bobKeys, "--known-keys", known}, args...)...)
		if code != 0 {
			t.Fatalf("encrypt %v: status %d, stderr %q", args, code, errOut)
		}
		return out, errOut
	}
	// opens says whether the identities open the sealed text (-i given, or
	// the default identities under HOME when ids is empty).
	opens := func(armored string, ids ...string) bool {
		t.Helper()
		var args []string
		for _, id := range ids {
			args = append(args, "-i", id)
		}
		in := "securechat-sealed id=7 time=2026-11-22T05:07:00Z from=alice to=bob\n" + armored
		out, _, code := runCLI(t, in, nil, args...)
		return code == 0 && out == "2026-11-22 05:07 alice → bob: for bob\n"
	}

	// No keys of her own: sealed to bob only, and she is told.
	armored, errOut := seal()
	if !strings.Contains(errOut, "warning: not sealed to you") || !strings.Contains(errOut, "--self FILE") {
		t.Errorf("no own keys: stderr %q, want a warning", errOut)
	}
	if !opens(armored, bob.File) {
		t.Error("bob cannot open it")
	}

	// Her default key, as ssh-keygen leaves it: ~/.ssh/id_ed25519 and .pub.
	mine := newEd25519Key(t, filepath.Join(home, ".ssh", "id_ed25519"), "")
	writeFile(t, mine.File+".pub", mine.Line+"\n")
	armored, errOut = seal()
	if strings.Contains(errOut, "warning") {
		t.Errorf("with ~/.ssh/id_ed25519.pub: stderr %q", errOut)
	}
	if !opens(armored) {
		t.Error("the sender's default identity does not open her copy")
	}
	if !opens(armored, bob.File) {
		t.Error("bob cannot open it")
	}

	// --self: an age key instead; the default key is then not used.
	ageKey := newAgeKey(t, filepath.Join(dir, "age.txt"))
	selfFile := writeFile(t, filepath.Join(dir, "alice.keys"), ageKey.Line+"\n")
	armored, _ = seal("--self", selfFile)
	if !opens(armored, ageKey.File) || opens(armored) {
		t.Error("--self FILE: not sealed to exactly the named key and bob's")
	}

	// --no-self: only bob's.
	armored, errOut = seal("--no-self")
	if errOut != "" || opens(armored) || !opens(armored, bob.File) {
		t.Errorf("--no-self: stderr %q, or sealed to the sender", errOut)
	}

	// Mistakes.
	if _, errOut, code := runCLI(t, "x", nil, "--encrypt", "--to", "bob", "-R", bobKeys, "--self", filepath.Join(dir, "missing")); code != 1 || !strings.Contains(errOut, "missing") {
		t.Errorf("--self with a missing file: status %d, stderr %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, "x", nil, "--encrypt", "--to", "bob", "-R", bobKeys, "--self", selfFile, "--no-self"); code != 2 || !strings.Contains(errOut, "exclude each other") {
		t.Errorf("--self with --no-self: status %d, stderr %q", code, errOut)
	}
	if _, errOut, code := runCLI(t, "x", nil, "--no-self"); code != 2 || !strings.Contains(errOut, "go with --encrypt") {
		t.Errorf("--no-self without --encrypt: status %d, stderr %q", code, errOut)
	}
}
