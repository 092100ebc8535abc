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
