package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	isolate(t)
	tests := []struct {
		name string
		key  testKey
	}{
		{"ed25519", newEd25519Key(t, filepath.Join(dir, "ed"), "")},
		{"rsa2048", newRSAKey(t, filepath.Join(dir, "rsa"), 2048)},
		{"age", newAgeKey(t, filepath.Join(dir, "age.txt"))},
		// The passphrase-protected ed25519 key: TestPassphrase.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := sealAndOpen(t, runCLI, tt.key, nil)
			want := "2026-11-22 05:42 bob → alice: hello bob\n2026-11-22 05:43 carol → alice: two\n    lines\n"
			if code != 0 || out != want || errOut != "" {
				t.Fatalf("decrypt: status %d\nstdout %q\nwant   %q\nstderr %q", code, out, want, errOut)
			}
		})
	}
}

// sealAndOpen seals two messages to key with --encrypt, as the files
// `pubkey bob` would give, and decrypts the inbox stream holding them.
func sealAndOpen(t *testing.T, run func(*testing.T, string, passphraseFunc, ...string) (string, string, int), key testKey, ask passphraseFunc) (string, string, int) {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "bob.keys")
	writeFile(t, keys, "# pubkey bob\n\n"+key.Line+"\n")
	known := filepath.Join(t.TempDir(), "known_keys")
	var sealed []string
	for _, text := range []string{"hello bob", "two\nlines\n"} {
		out, errOut, code := run(t, text, nil, "--encrypt", "--to", "bob", "-R", keys, "--known-keys", known)
		if code != 0 {
			t.Fatalf("encrypt: status %d, stderr %q", code, errOut)
		}
		sealed = append(sealed, out)
	}
	in := stream(block(42, "bob", sealed[0]), block(43, "carol", sealed[1]))
	return run(t, in, ask, "-i", key.File)
}

// TestPassphrase covers passphrase-protected OpenSSH keys. Its subtests that
// unlock run in parallel: each costs a bcrypt KDF, seconds under -race.
func TestPassphrase(t *testing.T) {
	t.Parallel()
	env := tempEnv(t)
	run := func(t *testing.T, stdin string, ask passphraseFunc, args ...string) (string, string, int) {
		t.Helper()
		return runCLIEnv(t, env, stdin, ask, args...)
	}
	dir := t.TempDir()
	locked := newLockedEd25519Key(t, filepath.Join(dir, "locked"))
	other := newAgeKey(t, filepath.Join(dir, "other.txt"))
	toLocked := sealText(t, "for the locked key", locked)
	toOther := sealText(t, "for the age key", other)
	toBoth := sealText(t, "for both", locked, other)

	t.Run("right passphrase asked once", func(t *testing.T) {
		t.Parallel()
		f := &fakePassphrase{pass: lockedPassphrase}
		out, errOut, code := sealAndOpen(t, run, locked, f.ask)
		want := "2026-11-22 05:42 bob → alice: hello bob\n2026-11-22 05:43 carol → alice: two\n    lines\n"
		if code != 0 || out != want || errOut != "" {
			t.Errorf("status %d\nstdout %q\nwant   %q\nstderr %q", code, out, want, errOut)
		}
		if len(f.prompts) != 1 {
			t.Errorf("asked %d times for the passphrase, want once: %q", len(f.prompts), f.prompts)
		}
	})
	t.Run("wrong passphrase asked once", func(t *testing.T) {
		t.Parallel()
		f := &fakePassphrase{pass: "wrong"}
		in := stream(block(1, "bob", toLocked), block(2, "bob", toLocked), block(3, "carol", toOther))
		out, errOut, code := run(t, in, f.ask, "-i", locked.File, "-i", other.File, "-i", locked.File)
		if code != 1 {
			t.Errorf("status %d, want 1", code)
		}
		if out != "2026-11-22 05:03 carol → alice: for the age key\n" {
			t.Errorf("stdout %q", out)
		}
		want := "securechat-decrypt: message 1 from bob: could not unlock " + locked.File + ": wrong passphrase\n" +
			"securechat-decrypt: message 2 from bob: could not unlock " + locked.File + ": wrong passphrase\n"
		if errOut != want {
			t.Errorf("stderr %q\nwant   %q", errOut, want)
		}
		if len(f.prompts) != 1 {
			t.Errorf("asked %d times, want once", len(f.prompts))
		}
		if want := "Enter passphrase for " + locked.File + ": "; len(f.prompts) > 0 && f.prompts[0] != want {
			t.Errorf("prompt %q, want %q", f.prompts[0], want)
		}
	})
	t.Run("not needed, not asked", func(t *testing.T) {
		// Sealed to both keys: the key without passphrase opens it first.
		in := stream(block(1, "bob", toOther), block(2, "bob", toBoth))
		out, errOut, code := run(t, in, noPassphrase(t), "-i", locked.File, "-i", other.File)
		if code != 0 || strings.Count(out, "\n") != 2 || errOut != "" {
			t.Errorf("status %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("not addressed, not asked", func(t *testing.T) {
		out, errOut, code := run(t, block(1, "bob", toOther), noPassphrase(t), "-i", locked.File)
		if code != 1 || out != "" || errOut != "securechat-decrypt: message 1 from bob: not addressed to your keys\n" {
			t.Errorf("status %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("no terminal", func(t *testing.T) {
		calls := 0
		ask := func(string) ([]byte, error) {
			calls++
			return nil, errors.New("no terminal to ask on")
		}
		_, errOut, code := run(t, stream(block(7, "bob", toLocked), block(8, "bob", toLocked)), ask, "-i", locked.File)
		if code != 1 || strings.Count(errOut, "could not unlock "+locked.File+": no passphrase: no terminal") != 2 || calls != 1 {
			t.Errorf("status %d, %d prompts, stderr %q", code, calls, errOut)
		}
	})
}

func TestFailuresAreReportedAndOthersStillPrint(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	mine := newEd25519Key(t, filepath.Join(dir, "mine"), "")
	theirs := newAgeKey(t, filepath.Join(dir, "theirs.txt"))
	good := sealText(t, "good one", mine)

	// corrupt flips one base64 character of the payload (the last data
	// line), keeping the armor valid base64 so that age itself must notice.
	corrupt := func(a string) string {
		lines := strings.Split(strings.TrimRight(a, "\n"), "\n")
		l := []byte(lines[len(lines)-2])
		if l[0] == 'A' {
			l[0] = 'B'
		} else {
			l[0] = 'A'
		}
		lines[len(lines)-2] = string(l)
		return strings.Join(lines, "\n") + "\n"
	}
	// dropLine removes a data line, keeping BEGIN and END.
	dropLine := func(a string) string {
		lines := strings.Split(strings.TrimRight(a, "\n"), "\n")
		lines = append(lines[:len(lines)-2], lines[len(lines)-1])
		return strings.Join(lines, "\n") + "\n"
	}
	long := sealText(t, strings.Repeat("long message ", 400), mine) // several armor lines

	tests := []struct {
		name   string
		bad    string // one or more blocks that must fail
		reason string
	}{
		{"wrong key", block(5, "mallory", sealText(t, "not for you", theirs)), "message 5 from mallory: not addressed to your keys"},
		{"flipped character", block(5, "bob", corrupt(long)), "message 5 from bob: corrupt"},
		{"line missing in payload", block(5, "bob", dropLine(long)), "message 5 from bob: corrupt or truncated"},
		{"cut after the header", block(5, "bob", dropLine(good)), "message 5 from bob: truncated"},
		{"no END line", "securechat-sealed id=5 time=2026-11-22T05:05:00Z from=bob to=alice\n" +
			strings.Join(strings.Split(good, "\n")[:2], "\n") + "\n", "message 5 from bob: truncated"},
		{"header without block", "securechat-sealed id=5 time=2026-11-22T05:05:00Z from=bob to=alice\n", "message 5 from bob: no sealed block"},
		{"bad armor", block(5, "bob", strings.Replace(good, "\n", "\n!!!!\n", 1)), "message 5 from bob: bad armor"},
		{"not age inside", block(5, "bob", "-----BEGIN AGE ENCRYPTED FILE-----\naGVsbG8gd29ybGQ=\n-----END AGE ENCRYPTED FILE-----\n"), "message 5 from bob: corrupt"},
		{"malformed header", "securechat-sealed id=5 time=yesterday from=bob\n" + good, "message 5 from bob: malformed header"},
		{"too big", block(5, "bob", "-----BEGIN AGE ENCRYPTED FILE-----\n"+
			strings.Repeat(strings.Repeat("A", 64)+"\n", 1100)+"-----END AGE ENCRYPTED FILE-----\n"), "message 5 from bob: too big"},
		{"one huge line", block(5, "bob", "-----BEGIN AGE ENCRYPTED FILE-----\n"+
			strings.Repeat("A", 200<<10)+"\n-----END AGE ENCRYPTED FILE-----\n"), "message 5 from bob: too big"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := stream(block(4, "bob", good), tt.bad, block(6, "carol", good))
			out, errOut, code := runCLI(t, in, nil, "-i", mine.File)
			if code != 1 {
				t.Errorf("status %d, want 1", code)
			}
			want := "2026-11-22 05:04 bob → alice: good one\n2026-11-22 05:06 carol → alice: good one\n"
			if out != want {
				t.Errorf("stdout %q, want %q", out, want)
			}
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "securechat-decrypt: "+tt.reason) {
				t.Errorf("stderr %q, want one line starting %q", errOut, "securechat-decrypt: "+tt.reason)
			}
		})
	}
}

func TestGarbageWarnedOnce(t *testing.T) {
	isolate(t)
	mine := newEd25519Key(t, filepath.Join(t.TempDir(), "mine"), "")
	good := sealText(t, "hi", mine)
	in := "Welcome to securechat!\n\x1b[2Jgarbage\n" + block(1, "bob", good) + "\nmore garbage\n\n" + block(2, "bob", good)
	out, errOut, code := runCLI(t, in, nil, "-i", mine.File)
	if code != 0 {
		t.Errorf("status %d, want 0: garbage is only warned about", code)
	}
	if strings.Count(out, "bob → alice: hi\n") != 2 {
		t.Errorf("stdout %q", out)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "warning: ignoring lines outside sealed messages (the first is line 1)") {
		t.Errorf("stderr %q, want one warning", errOut)
	}
	assertTerminalSafe(t, "stderr", errOut)
}

func TestCRLFStream(t *testing.T) {
	isolate(t)
	mine := newEd25519Key(t, filepath.Join(t.TempDir(), "mine"), "")
	in := strings.ReplaceAll(stream(block(1, "bob", sealText(t, "hi", mine)), block(2, "bob", sealText(t, "yo", mine))), "\n", "\r\n")
	out, errOut, code := runCLI(t, in, nil, "-i", mine.File)
	if code != 0 || out != "2026-11-22 05:01 bob → alice: hi\n2026-11-22 05:02 bob → alice: yo\n" {
		t.Errorf("status %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestHostileTextIsSanitised(t *testing.T) {
	isolate(t)
	mine := newEd25519Key(t, filepath.Join(t.TempDir(), "mine"), "")
	evil := "\x1b]0;pwned\x07hello \x1b[2Jworld \u202eevil\u202c\r\nline two\x9b31m\x1b[31m"
	in := stream(
		"securechat-sealed id=9 time=2026-11-22T05:00:00Z from=\x1b]0;pwned\x07mal\u202elory to=al\x1b[2Jice\n"+sealText(t, evil, mine),
		"securechat-sealed id=\x1b[2J10 time=2026-11-22T05:00:00Z from=\x1b[31meve to=alice\n"+sealText(t, "x", newAgeKey(t, filepath.Join(t.TempDir(), "a")))+"\n",
		"securechat-sealed id=11 time=2026-11-22T05:00:00Z from=eve to=alice\n-----BEGIN AGE ENCRYPTED FILE-----\n\x1b]0;pwned\x07\n-----END AGE ENCRYPTED FILE-----\n",
	)
	out, errOut, code := runCLI(t, in, nil, "-i", mine.File)
	if code != 1 {
		t.Errorf("status %d, want 1", code)
	}
	assertTerminalSafe(t, "stdout", out)
	assertTerminalSafe(t, "stderr", errOut)
	// The introducers and controls go; what is left of a sequence is inert
	// printable text.
	if want := "2026-11-22 05:00 ]0;pwnedmallory → al[2Jice: ]0;pwnedhello [2Jworld evil\n    line two\ufffd31m[31m\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	if !strings.Contains(errOut, "message [2J10 from [31meve: not addressed") || !strings.Contains(errOut, "message 11 from eve: bad armor") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestTimeIsUTCAndEmptyAndLongSenderHandled(t *testing.T) {
	isolate(t)
	mine := newEd25519Key(t, filepath.Join(t.TempDir(), "mine"), "")
	long := strings.Repeat("x", 200)
	in := stream(
		"securechat-sealed id=1 time=2026-11-22T06:30:00+02:00 from=bob to=alice\n"+sealText(t, "\n\n", mine),
		"securechat-sealed to=alice from="+long+" time=2026-11-22T05:00:00Z id=2 extra=field\n"+sealText(t, "hi", mine),
	)
	out, errOut, code := runCLI(t, in, nil, "-i", mine.File)
	want := "2026-11-22 04:30 bob → alice: \n2026-11-22 05:00 " + strings.Repeat("x", 64) + "... → alice: hi\n"
	if code != 0 || out != want {
		t.Errorf("status %d, stdout %q, want %q, stderr %q", code, out, want, errOut)
	}
}

func TestPlaintextLimit(t *testing.T) {
	mine := newEd25519Key(t, filepath.Join(t.TempDir(), "mine"), "")
	ids, err := loadIdentities([]string{mine.File}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Armor this big is refused by the stream parser already; openBlock
	// must still refuse the plaintext on its own.
	rs, err := parseRecipients("test", []byte(mine.Line))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		size int
		ok   bool
	}{{maxPlaintext, true}, {maxPlaintext + 1, false}} {
		armored, err := sealUnchecked([]byte(strings.Repeat("a", tt.size)), rs)
		if err != nil {
			t.Fatal(err)
		}
		text, err := openBlock(armored, ids)
		if tt.ok && (err != nil || len(text) != tt.size) {
			t.Errorf("%d bytes: %v", tt.size, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "plaintext over 64 KiB refused")) {
			t.Errorf("%d bytes: error %v, want refusal", tt.size, err)
		}
	}
}

func TestIdentityErrors(t *testing.T) {
	home := isolate(t)
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		setup   func()
		wantErr string
	}{
		{"missing file", []string{"-i", filepath.Join(dir, "nope")}, nil, "no such file"},
		{"not a key", []string{"-i", writeFile(t, filepath.Join(dir, "junk"), "hello\n")}, nil, "not an SSH private key or age identity file"},
		{"no default keys", nil, nil, "no identity"},
		{"unsupported default key skipped", nil, func() {
			writeFile(t, filepath.Join(home, ".ssh", "id_rsa"), "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n-----END OPENSSH PRIVATE KEY-----\n")
		}, "warning: skipping identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			_, errOut, code := runCLI(t, "", nil, tt.args...)
			if code != 1 || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("status %d, stderr %q, want %q", code, errOut, tt.wantErr)
			}
		})
	}
}

func TestDefaultIdentities(t *testing.T) {
	home := isolate(t)
	ed := newEd25519Key(t, filepath.Join(home, ".ssh", "id_ed25519"), "")
	rsa := newRSAKey(t, filepath.Join(home, ".ssh", "id_rsa"), 2048)
	in := stream(block(1, "bob", sealText(t, "to ed", ed)), block(2, "bob", sealText(t, "to rsa", rsa)))
	out, errOut, code := runCLI(t, in, nil)
	if code != 0 || out != "2026-11-22 05:01 bob → alice: to ed\n2026-11-22 05:02 bob → alice: to rsa\n" {
		t.Errorf("status %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestEmptyInboxIsSaid: an inbox with no messages is said on stderr, exit
// 0, rather than printing nothing at all.
func TestEmptyInboxIsSaid(t *testing.T) {
	isolate(t)
	mine := newEd25519Key(t, filepath.Join(t.TempDir(), "mine"), "")
	for _, in := range []string{"", "\n\n"} {
		out, errOut, code := runCLI(t, in, nil, "-i", mine.File)
		if code != 0 || out != "" || errOut != "securechat-decrypt: no sealed messages in the input (the inbox is empty)\n" {
			t.Errorf("input %q: status %d, stdout %q, stderr %q; want 0 and the notice on stderr", in, code, out, errOut)
		}
	}
	// A stream with messages gets no such notice.
	out, errOut, code := runCLI(t, stream(block1(t, 1, "bob", "hi", mine)), nil, "-i", mine.File)
	if code != 0 || out == "" || errOut != "" {
		t.Errorf("one message: status %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestSentCopiesNameTheRecipient: inbox --sent mixes what you received with
// what you sent; every line says from whom to whom.
func TestSentCopiesNameTheRecipient(t *testing.T) {
	isolate(t)
	mine := newEd25519Key(t, filepath.Join(t.TempDir(), "mine"), "")
	in := stream(
		block1(t, 1, "bob", "to you", mine),
		"securechat-sealed id=2 time=2026-11-22T05:02:00Z from=alice to=carol\n"+sealText(t, "from you", mine),
	)
	out, errOut, code := runCLI(t, in, nil, "-i", mine.File)
	if want := "2026-11-22 05:01 bob → alice: to you\n2026-11-22 05:02 alice → carol: from you\n"; code != 0 || out != want {
		t.Errorf("status %d, stdout %q, want %q, stderr %q", code, out, want, errOut)
	}
}
