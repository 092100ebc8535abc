package sshapp

import (
	"regexp"
	"strings"
	"testing"
)

var sgrParams = regexp.MustCompile("\x1b\\[([0-9;]*)m")

// colours lists the colour parameters of the SGR sequences in out.
func colours(out string) []string {
	var found []string
	for _, m := range sgrParams.FindAllStringSubmatch(out, -1) {
		for _, p := range strings.Split(m[1], ";") {
			switch {
			case len(p) == 2 && (p[0] == '3' || p[0] == '4' || p[0] == '9') && p[1] != '9',
				len(p) == 3 && p[:2] == "10":
				found = append(found, m[0])
			}
		}
	}
	return found
}

// A session without colour (NO_COLOR, or a terminal type that has none)
// gets no colour but keeps its cues: the status line reversed, a mention
// marked in bold reverse; a theme with colours is refused with a reason.
// An ordinary terminal, for comparison, gets colours.
func TestNoColourKeepsCues(t *testing.T) {
	for _, tc := range []struct {
		name, term string
		env        map[string]string
		colour     bool
	}{
		{"NO_COLOR", "xterm-256color", map[string]string{"NO_COLOR": "1"}, false},
		{"vt100", "vt100", nil, false},
		{"dumb", "dumb", nil, false},
		{"xterm-256color", "xterm-256color", nil, true},
		{"empty NO_COLOR", "xterm-256color", map[string]string{"NO_COLOR": ""}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, t.TempDir(), nil)
			bob := ts.login("bob", "secret-obo")
			sess, err := ts.login("alice", "secret-nyvpr").NewSession()
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.env {
				if err := sess.Setenv(k, v); err != nil {
					t.Fatal(err)
				}
			}
			u := startUITerm(t, sess, tc.term, 100, 30)
			u.waitFor("Welcome")
			run(t, bob, "send alice: are you there?", "")
			u.waitFor("are you there?")
			raw := u.rawString()
			if got := colours(raw); tc.colour != (len(got) > 0) {
				t.Fatalf("colour sequences %q, want colour %v", got, tc.colour)
			}
			if !strings.Contains(raw, "\x1b[7m alice · #lobby") {
				t.Errorf("the status line is not reversed: %q", raw)
			}
			if !strings.Contains(raw, "\x1b[1;7mare you there?") && !strings.Contains(raw, "\x1b[1;7malice: are you there?") {
				t.Errorf("the mention is not marked: %q", raw)
			}
			if tc.colour {
				return
			}
			u.send("/theme dark\r")
			u.waitFor("cannot apply here")
			if p, _ := ts.acc.Prefs("alice"); p.Theme != "" {
				t.Errorf("refused theme saved: %q", p.Theme)
			}
		})
	}
}

func TestColourless(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		term string
		want bool
	}{
		{nil, "xterm-256color", false},
		{nil, "screen", false},
		{nil, "linux", false},
		{[]string{"NO_COLOR=1"}, "xterm-256color", true},
		{[]string{"NO_COLOR="}, "xterm-256color", false},
		{nil, "dumb", true},
		{nil, "", true},
		{nil, "VT100", true},
		{nil, "vt220", true},
		{nil, "xterm-mono", true},
	} {
		if got := colourless(tc.env, tc.term); got != tc.want {
			t.Errorf("colourless(%q, %q) = %v", tc.env, tc.term, got)
		}
	}
}
