package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRecipients(t *testing.T) {
	dir := t.TempDir()
	ed := newEd25519Key(t, filepath.Join(dir, "ed"), "")
	ag := newAgeKey(t, filepath.Join(dir, "age"))
	tests := []struct {
		name    string
		file    string
		wantN   int
		wantErr string
	}{
		{"pubkey output", ed.Line + "\n" + ag.Line + "\n", 2, ""},
		{"comments, blanks, CRLF, options", "# bob's keys\r\n\r\n  " + ag.Line + "  \r\nno-pty " + ed.Line + "\r\n", 2, ""},
		{"malformed line", ed.Line + "\n# fine\nssh-ed25519 AAAAnotbase64!!\n", 0, "bob.keys:3: not an SSH public key line"},
		{"bad age recipient", "age1notarecipient\n", 0, "bob.keys:1: not a valid age recipient"},
		{"private key pasted", "AGE-SECRET-KEY-1QQQQ\n", 0, "bob.keys:1: not an SSH public key line"},
		{"rsa 1024", "\n" + rsaPublicLine(t, 1024) + "\n", 0, "bob.keys:2: ssh-rsa key of 1024 bits is too weak to seal to (at least 2048)"},
		{"ecdsa", "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg= x\n", 0, "bob.keys:1: unsupported key type ecdsa-sha2-nistp256"},
		{"empty", "# nothing\n\n", 0, "bob.keys: no keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := parseRecipients("bob.keys", []byte(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "AGE-SECRET-KEY") {
					t.Errorf("error quotes the line: %v", err)
				}
				return
			}
			if err != nil || len(keys) != tt.wantN {
				t.Fatalf("got %d keys, %v", len(keys), err)
			}
			for _, k := range keys {
				if k.Fingerprint != ed.Fingerprint && k.Fingerprint != ag.Fingerprint {
					t.Errorf("fingerprint %q is neither key's", k.Fingerprint)
				}
			}
		})
	}
}

func TestEncryptRefusesRSA1024ViaCLI(t *testing.T) {
	isolate(t)
	keys := writeFile(t, filepath.Join(t.TempDir(), "bob.keys"), rsaPublicLine(t, 1024)+"\n")
	out, errOut, code := runCLI(t, "hi", nil, "--encrypt", "--to", "bob", "-R", keys)
	if code != 1 || out != "" || !strings.Contains(errOut, keys+":1: ssh-rsa key of 1024 bits is too weak") {
		t.Errorf("status %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestKnownKeys(t *testing.T) {
	home := isolate(t)
	dir := t.TempDir()
	k1 := newEd25519Key(t, filepath.Join(dir, "k1"), "")
	k2 := newAgeKey(t, filepath.Join(dir, "k2"))
	k3 := newEd25519Key(t, filepath.Join(dir, "k3"), "")
	keysFile := filepath.Join(dir, "bob.keys")
	known := filepath.Join(home, ".config", "securechat", "known_keys")
	sealTo := func(lines ...string) (string, string, int) {
		writeFile(t, keysFile, strings.Join(lines, "\n")+"\n")
		return runCLI(t, "hi bob", nil, "--encrypt", "--to", "BOB", "-R", keysFile, "--no-self")
	}
	sealToAccept := func(lines ...string) (string, string, int) {
		writeFile(t, keysFile, strings.Join(lines, "\n")+"\n")
		return runCLI(t, "hi bob", nil, "--encrypt", "--to", "bob", "-R", keysFile, "--accept-new-keys", "--no-self")
	}

	// Another user's entry must survive every rewrite.
	writeFile(t, known, "carol "+k3.Fingerprint+"\n")

	// First use: remembered and announced.
	out, errOut, code := sealTo(k1.Line, k2.Line)
	if code != 0 || !strings.HasPrefix(out, armorBegin) {
		t.Fatalf("first use: status %d, stderr %q", code, errOut)
	}
	wantNotice := "securechat-decrypt: first time sealing to bob; remembered keys: "
	if !strings.HasPrefix(errOut, wantNotice) || !strings.Contains(errOut, k1.Fingerprint) || !strings.Contains(errOut, k2.Fingerprint) {
		t.Errorf("first use notice %q", errOut)
	}
	assertKnown(t, known, "bob "+k1.Fingerprint, "bob "+k2.Fingerprint, "carol "+k3.Fingerprint)

	// Same set, in another order and with a duplicate: silent.
	if out, errOut, code := sealTo(k2.Line, k1.Line, k1.Line); code != 0 || errOut != "" || out == "" {
		t.Errorf("same set: status %d, stderr %q", code, errOut)
	}

	// Changed sets are refused, naming every old and new fingerprint.
	for _, tc := range []struct {
		name    string
		lines   []string
		added   []string
		removed []string
	}{
		{"added", []string{k1.Line, k2.Line, k3.Line}, []string{k3.Fingerprint}, nil},
		{"removed", []string{k1.Line}, nil, []string{k2.Fingerprint}},
		{"changed", []string{k1.Line, k3.Line}, []string{k3.Fingerprint}, []string{k2.Fingerprint}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := sealTo(tc.lines...)
			if code != 1 || out != "" {
				t.Fatalf("status %d, stdout %q: want refusal", code, out)
			}
			for _, s := range append([]string{"--accept-new-keys", "remembered: ", k1.Fingerprint, k2.Fingerprint}, tc.added...) {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
			for _, fp := range tc.added {
				if !strings.Contains(errOut, "added:      "+fp) {
					t.Errorf("stderr does not name %s as added:\n%s", fp, errOut)
				}
			}
			for _, fp := range tc.removed {
				if !strings.Contains(errOut, "removed:    "+fp) {
					t.Errorf("stderr does not name %s as removed:\n%s", fp, errOut)
				}
			}
			assertKnown(t, known, "bob "+k1.Fingerprint, "bob "+k2.Fingerprint, "carol "+k3.Fingerprint)
		})
	}

	// --accept-new-keys replaces the set.
	out, errOut, code = sealToAccept(k3.Line)
	if code != 0 || out == "" || !strings.Contains(errOut, "accepted new keys for bob; remembered keys: "+k3.Fingerprint) {
		t.Fatalf("accept: status %d, stderr %q", code, errOut)
	}
	assertKnown(t, known, "bob "+k3.Fingerprint, "carol "+k3.Fingerprint)
	if _, errOut, code := sealTo(k3.Line); code != 0 || errOut != "" {
		t.Errorf("after accept: status %d, stderr %q", code, errOut)
	}
}

// assertKnown checks the known-keys file's entries and its permissions.
func assertKnown(t *testing.T, path string, want ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			got = append(got, l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("known keys:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("known keys mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("known keys folder mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".known_keys-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestKnownKeysPath(t *testing.T) {
	if got := knownKeysPath("/xdg", "/home/a"); got != "/xdg/securechat/known_keys" {
		t.Errorf("with XDG_CONFIG_HOME: %s", got)
	}
	if got := knownKeysPath("", "/home/a"); got != "/home/a/.config/securechat/known_keys" {
		t.Errorf("without: %s", got)
	}
	if got := knownKeysPath("relative", "/home/a"); got != "/home/a/.config/securechat/known_keys" {
		t.Errorf("relative XDG_CONFIG_HOME must be ignored: %s", got)
	}

	// And the CLI uses it.
	isolate(t)
	xdg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", xdg)
	k := newAgeKey(t, filepath.Join(t.TempDir(), "k"))
	keys := writeFile(t, filepath.Join(t.TempDir(), "bob.keys"), k.Line+"\n")
	if _, errOut, code := runCLI(t, "hi", nil, "--encrypt", "--to", "bob", "-R", keys); code != 0 {
		t.Fatalf("status %d, %s", code, errOut)
	}
	assertKnown(t, filepath.Join(xdg, "securechat", "known_keys"), "bob "+k.Fingerprint)
}

func TestKnownKeysMalformedFileIsNotOverwritten(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	known := writeFile(t, filepath.Join(dir, "known_keys"), "bob SHA256:x\nthis is not right\n")
	k := newAgeKey(t, filepath.Join(dir, "k"))
	keys := writeFile(t, filepath.Join(dir, "bob.keys"), k.Line+"\n")
	_, errOut, code := runCLI(t, "hi", nil, "--encrypt", "--to", "bob", "-R", keys, "--known-keys", known)
	if code != 1 || !strings.Contains(errOut, known+":2: malformed line") {
		t.Errorf("status %d, stderr %q", code, errOut)
	}
	if b, _ := os.ReadFile(known); string(b) != "bob SHA256:x\nthis is not right\n" {
		t.Errorf("file rewritten: %q", b)
	}
}

func TestEncryptLimits(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	k := newEd25519Key(t, filepath.Join(dir, "k"), "")
	keys := writeFile(t, filepath.Join(dir, "bob.keys"), k.Line+"\n")
	known := filepath.Join(dir, "known")
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"40 KiB fits", strings.Repeat("é", 20<<10), ""},
		{"over 48 KiB", strings.Repeat("a", maxSealPlaintext+1), "message too long: at most 48 KiB"},
		{"48 KiB does not fit the armor", strings.Repeat("a", maxSealPlaintext), "sealed message too big"},
		{"empty", "\n", "empty message"},
		{"not UTF-8", "\xff\xfe", "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tt.in, nil, "--encrypt", "--to", "bob", "-R", keys, "--known-keys", known)
			if tt.wantErr != "" {
				if code != 1 || out != "" || !strings.Contains(errOut, tt.wantErr) {
					t.Errorf("status %d, stdout %d bytes, stderr %q; want %q", code, len(out), errOut, tt.wantErr)
				}
				return
			}
			if code != 0 || len(out) > maxArmor {
				t.Fatalf("status %d, %d bytes, stderr %q", code, len(out), errOut)
			}
			got, errOut, code := runCLI(t, block(1, "bob", out), nil, "-i", k.File)
			if code != 0 || got != "2026-11-22 05:01 bob → alice: "+tt.in+"\n" {
				t.Errorf("round trip: status %d, stderr %q", code, errOut)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	isolate(t)
	keys := writeFile(t, filepath.Join(t.TempDir(), "k"), "age1x\n")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"help", []string{"--help"}, 0, "examples:", ""},
		{"short help", []string{"-h"}, 0, "--accept-new-keys", ""},
		{"unknown flag", []string{"--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{"argument", []string{"file"}, 2, "", "unexpected argument"},
		{"encrypt without --to", []string{"--encrypt", "-R", keys}, 2, "", "--encrypt needs --to USER"},
		{"encrypt without -R", []string{"--encrypt", "--to", "bob"}, 2, "", "--encrypt needs --to USER"},
		{"encrypt with -i", []string{"--encrypt", "--to", "bob", "-R", keys, "-i", keys}, 2, "", "-i is for decrypting"},
		{"-R without --encrypt", []string{"-R", keys}, 2, "", "go with --encrypt"},
		{"bad user", []string{"--encrypt", "--to", "-bob", "-R", keys}, 2, "", "must start with a letter or a digit"},
		{"hostile user", []string{"--encrypt", "--to", "bo\x1b[2Jb", "-R", keys}, 2, "", "may hold only"},
		{"long user", []string{"--encrypt", "--to", strings.Repeat("a", 33), "-R", keys}, 2, "", "1 to 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "", nil, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("status %d (want %d)\nstdout %q\nstderr %q", code, tt.wantCode, out, errOut)
			}
			if tt.wantCode == 2 && !strings.Contains(errOut, "usage:") {
				t.Errorf("usage error without usage: %q", errOut)
			}
			assertTerminalSafe(t, "stderr", errOut)
		})
	}
}
