package sshapp

import (
	"strings"
	"testing"
)

// TestDMEmptyInput: dm with nothing on standard input says the input was
// empty, not that it is no armored age file.
func TestDMEmptyInput(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	ts.login("bob", "secret-obo")
	for _, in := range []string{"", "\n \n"} {
		r := run(t, alice, "dm bob", in)
		if r.code != 1 || !strings.Contains(r.stderr, "securechat: dm: the input was empty") || strings.Contains(r.stderr, "not an armored") {
			t.Errorf("dm with input %q: %+v; want exit 1 saying the input was empty", in, r)
		}
	}
}

// FuzzCheckArmoredAge: whatever dm receives, checkArmoredAge never panics,
// and what it accepts is one armored age file of printable lines.
func FuzzCheckArmoredAge(f *testing.F) {
	recips, err := parseRecipients("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n")
	if err != nil {
		f.Fatal(err)
	}
	armored, err := seal(recips, "hello")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(armored))
	f.Add([]byte(""))
	f.Add([]byte(" \n"))
	f.Add([]byte(armorBegin + "\n" + armorEnd))
	f.Add([]byte(armorBegin + "\n\x1b[2J\n" + armorEnd))
	f.Fuzz(func(t *testing.T, b []byte) {
		text, err := checkArmoredAge(b, 4096)
		if err != nil {
			return
		}
		if !strings.HasPrefix(text, armorBegin) || !strings.HasSuffix(text, armorEnd+"\n") {
			t.Fatalf("accepted %q", text)
		}
		for _, c := range []byte(text) {
			if (c < 0x20 || c > 0x7e) && c != '\n' {
				t.Fatalf("accepted a byte %#x", c)
			}
		}
	})
}
