package sshapp

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"securechat/room"
)

// Private lines read the same at both ends: "[private] FROM → TO: text".
func TestPrivateLinesOneForm(t *testing.T) {
	m := newTestModel(80, 12, nil)
	m.Update(incomingMsg{msgs: ptrs(
		room.Message{Time: t0, Kind: room.KindPrivate, From: "alice", To: "bob", Text: "mine"},
		room.Message{Time: t0, Kind: room.KindPrivate, From: "bob", To: "alice", Text: "theirs"})})
	v := checkView(t, m, 80, 12)
	for _, want := range []string{"[private] alice → bob: mine", "[private] bob → alice: theirs"} {
		if !strings.Contains(v, want) {
			t.Errorf("lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "[private to") {
		t.Errorf("a second form of private line:\n%s", v)
	}
}

// A room joined with /join: the user's own join notice (stored as they
// entered) is not counted as an earlier message, and shows under the marker.
func TestOwnJoinIsNotAnEarlierMessage(t *testing.T) {
	for _, tc := range []struct {
		backlog []room.Message
		marker  string
	}{
		{[]room.Message{{ID: 7, Time: t0, Kind: room.KindJoin, Room: "go", From: "alice", Text: "alice joined"}}, ""},
		{[]room.Message{
			{ID: 6, Time: t0, Kind: room.KindMessage, Room: "go", From: "bob", Text: "hi"},
			{ID: 7, Time: t0, Kind: room.KindJoin, Room: "go", From: "alice", Text: "alice joined"}}, "— 1 earlier message above —"},
	} {
		m := newTestModel(80, 12, nil)
		m.Update(roomJoinedMsg{state: RoomState{Name: "go", Members: []string{"alice"}, Backlog: ptrs(tc.backlog...)}})
		v := checkView(t, m, 80, 12)
		join := strings.Index(v, "→ alice joined")
		if join < 0 {
			t.Fatalf("own join not shown:\n%s", v)
		}
		marker := strings.Index(v, "earlier message")
		switch {
		case tc.marker == "" && marker >= 0:
			t.Errorf("only the own join, yet a marker:\n%s", v)
		case tc.marker != "" && (!strings.Contains(v, tc.marker) || marker > join):
			t.Errorf("want %q above the own join:\n%s", tc.marker, v)
		}
		// The same join arriving live is not shown twice.
		m.Update(incomingMsg{msgs: ptrs(tc.backlog[len(tc.backlog)-1])})
		if v := checkView(t, m, 80, 12); strings.Count(v, "alice joined") != 1 {
			t.Errorf("own join shown twice:\n%s", v)
		}
	}
}

// An unread mention keeps the unread count beside its "@".
func TestUnreadMentionKeepsCount(t *testing.T) {
	m := newTestModel(120, 12, nil)
	m.Update(roomJoinedMsg{state: RoomState{Name: "go", Members: []string{"alice"}}})
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlN}) // back to the lobby
	m.Update(incomingMsg{msgs: ptrs(
		room.Message{ID: 1, Time: t0, Kind: room.KindMessage, Room: "go", From: "bob", Text: "hello"},
		room.Message{ID: 2, Time: t0, Kind: room.KindMessage, Room: "go", From: "bob", Text: "alice: there?"})})
	if v := checkView(t, m, 120, 12); !strings.Contains(v, "#go (2) @") {
		t.Fatalf("status line lacks \"#go (2) @\":\n%s", v)
	}
}

// Removing a key one does not have says so once, in words.
func TestRemoveUnknownKeyWording(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	r := run(t, ts.login("alice", "secret-nyvpr"), "keys rm SHA256:nope", "")
	if r.code == 0 || !strings.Contains(r.stderr, "you have no key SHA256:nope") || strings.Contains(r.stderr, "no such key") {
		t.Fatalf("keys rm of an unknown key: %+v", r)
	}
}

// A refused weak password reads as one sentence, not "cannot be used: that
// password is too easy".
func TestWeakPasswordWording(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits = realLimits(newFakeClock()) })
	tr := &kiTranscript{}
	if c, err := dial(ts.addr, "carol", ip(5), kiAnswer(tr, samePassword("password123"))); err == nil {
		c.Close()
		t.Fatal("weak password accepted")
	}
	said := strings.Join(tr.instructions, "|")
	if !strings.Contains(said, "That password cannot be used: too easy to guess") || strings.Contains(said, "that password is") {
		t.Fatalf("server said %q", said)
	}
}

// One sealed /msg gets one confirmation: the [sealed] line, not also a
// notice that says the same; a private message that was missed while away
// is counted in the singular.
func TestSealedMessageConfirmedOnceAndCountedRight(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	bob := ts.login("bob", "secret-obo")
	run(t, alice, "keys add", newEd25519(t, "").line)
	run(t, bob, "keys add", newEd25519(t, "").line)
	u := openUI(t, bob, 100, 30)
	u.waitFor("Welcome")
	u.send("/msg alice a sealed note\r")
	u.waitFor("[sealed] #")
	u.send("/who #lobby\r")
	scr := u.waitFor("In #lobby")
	if strings.Contains(scr, "sealed message #") {
		t.Fatalf("two confirmations for one sealed message:\n%s", scr)
	}
	// alice: a first visit, then one sealed message while she is away.
	ua := openUI(t, alice, 100, 30)
	ua.waitFor("Welcome")
	ua.send("/quit\r")
	ua.waitEnded()
	deadline := time.Now().Add(5 * time.Second)
	for p, _ := ts.acc.Prefs("alice"); p.LastRead["lobby"] == 0; p, _ = ts.acc.Prefs("alice") {
		if time.Now().After(deadline) {
			t.Fatal("last read not saved")
		}
		time.Sleep(10 * time.Millisecond)
	}
	run(t, bob, "msg alice one more", "")
	ua = openUI(t, ts.login("alice", "secret-nyvpr"), 100, 30)
	scr = ua.waitFor("while you were away")
	if !strings.Contains(scr, "1 private message while you were away") {
		t.Fatalf("one missed message miscounted:\n%s", scr)
	}
}
