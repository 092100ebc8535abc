package sshapp

import (
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
)

func makeAdmin(t *testing.T, ts *testServer, name string) {
	t.Helper()
	if err := ts.acc.SetRole(name, accounts.RoleAdmin); err != nil {
		t.Fatal(err)
	}
}

func TestOnlyAdminsModerate(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	ts.login("bob", "secret-obo").Close()
	eve := ts.login("eve", "secret-rir")
	u := openWelcomed(t, eve, 120, 30)
	for _, cmd := range []string{"/kick bob", "/mute bob", "/ban bob", "/bans", "/unban bob"} {
		u.send(cmd + "\r")
		u.waitFor("only admins can do that")
		u.send("\x15")
	}
	if r := run(t, eve, "admin user del bob", ""); r.code == 0 || !strings.Contains(r.stderr, "only admins") {
		t.Fatalf("non-admin admin command: %+v", r)
	}
	if !ts.acc.Exists("bob") {
		t.Fatal("bob was deleted by a non-admin")
	}
}

func TestKickMuteBan(t *testing.T) {
	clk := newFakeClock()
	dir := t.TempDir()
	ts := startServer(t, dir, func(c *Config) { c.Now = clk.Now })
	alice := ts.login("alice", "secret-nyvpr")
	makeAdmin(t, ts, "alice")
	admin := openWelcomed(t, alice, 140, 30)

	// Kick: bob's UI ends with the reason; bob may come back.
	bob := openWelcomed(t, ts.login("bob", "secret-obo"), 100, 30)
	admin.send("/kick bob\r")
	admin.waitFor("kicked bob")
	bob.waitEnded()
	if !strings.Contains(bob.rawString(), "removed from the room by alice") {
		t.Fatalf("bob was not told why: %q", bob.rawString()[max(0, len(bob.rawString())-300):])
	}

	// Mute for 10 minutes: bob cannot post, and is told until when.
	bobc := ts.login("bob", "secret-obo")
	admin.send("/mute bob 10m\r")
	admin.waitFor("muted bob until")
	if r := run(t, bobc, "send am I muted", ""); r.code == 0 || !strings.Contains(r.stderr, "muted by an admin") {
		t.Fatalf("muted user posted: %+v", r)
	}
	if r := run(t, bobc, "msg alice psst", ""); r.code == 0 {
		t.Fatal("muted user sent a private message")
	}
	clk.Advance(11 * time.Minute)
	if r := run(t, bobc, "send free again", ""); r.code != 0 {
		t.Fatalf("mute did not expire: %+v", r)
	}
	admin.send("/mute bob\r")
	admin.waitFor("muted bob until unmuted")
	admin.send("/unmute bob\r")
	admin.waitFor("unmuted bob")
	if r := run(t, bobc, "send unmuted", ""); r.code != 0 {
		t.Fatalf("unmute did not work: %+v", r)
	}

	// Ban for a day with a reason: sessions end, logins refused.
	bobUI := openWelcomed(t, bobc, 100, 30)
	admin.send("/ban bob 1d spamming links\r")
	admin.waitFor("banned bob until")
	bobUI.waitEnded()
	if !strings.Contains(bobUI.rawString(), "spamming links") {
		t.Fatal("banned user not told the reason")
	}
	if c, err := dial(ts.addr, "bob", nil, gossh.Password("secret-obo")); err == nil {
		c.Close()
		t.Fatal("banned user logged in")
	}
	admin.send("/bans\r")
	admin.waitFor("bob banned by alice")

	// Bans survive a restart.
	ts.stop()
	ts = startServer(t, dir, func(c *Config) { c.Now = clk.Now })
	if c, err := dial(ts.addr, "bob", nil, gossh.Password("secret-obo")); err == nil {
		c.Close()
		t.Fatal("ban lost in a restart")
	}
	clk.Advance(25 * time.Hour)
	c, err := dial(ts.addr, "bob", nil, gossh.Password("secret-obo"))
	if err != nil {
		t.Fatalf("ban did not expire: %v", err)
	}
	c.Close()
	if !strings.Contains(ts.logs.String(), "login refused") {
		t.Fatal("refused login not logged")
	}
}

func TestBanByAddress(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	makeAdmin(t, ts, "alice")
	ts.login("carol", "secret-pnebyf").Close()
	mallory, err := dial(ts.addr, "mallory", ip(7), kiAnswer(nil, samePassword("secret-znyybel")))
	if err != nil {
		t.Fatal(err)
	}
	run(t, mallory, "who", "")
	if r := run(t, alice, "admin ban mallory --addr sock puppets", ""); r.code != 0 || !strings.Contains(r.stdout, "127.0.0.7/32") {
		t.Fatalf("ban by address: %+v", r)
	}
	// Another account from the same address is refused too...
	if c, err := dial(ts.addr, "carol", ip(7), gossh.Password("secret-pnebyf")); err == nil {
		c.Close()
		t.Fatal("login from a banned address")
	}
	// ...but not from elsewhere.
	c, err := dial(ts.addr, "carol", ip(8), gossh.Password("secret-pnebyf"))
	if err != nil {
		t.Fatalf("other address refused: %v", err)
	}
	c.Close()
	if r := run(t, alice, "admin unban mallory", ""); r.code != 0 {
		t.Fatal(r)
	}
	c, err = dial(ts.addr, "carol", ip(7), gossh.Password("secret-pnebyf"))
	if err != nil {
		t.Fatalf("address still banned after unban: %v", err)
	}
	c.Close()
	if !strings.Contains(ts.logs.String(), `action=ban`) || !strings.Contains(ts.logs.String(), `by=alice`) {
		t.Fatalf("admin action not logged:\n%s", ts.logs.String())
	}
}

func TestAdminUserCommandsOverSSH(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	makeAdmin(t, ts, "alice")
	ts.login("bob", "secret-obo").Close()
	if r := run(t, alice, "admin user add carol", "violet stapler orbit\n"); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	if _, err := ts.acc.Verify("carol", "violet stapler orbit"); err != nil {
		t.Fatal(err)
	}
	if r := run(t, alice, "admin user passwd carol", "another fine secret\n"); r.code != 0 {
		t.Fatal(r)
	}
	if _, err := ts.acc.Verify("carol", "another fine secret"); err != nil {
		t.Fatal("passwd did not take")
	}
	if r := run(t, alice, "admin user role bob admin", ""); r.code != 0 {
		t.Fatal(r)
	}
	r := run(t, alice, "admin user list", "")
	if !strings.Contains(r.stdout, "bob admin") || !strings.Contains(r.stdout, "carol user") {
		t.Fatalf("user list:\n%s", r.stdout)
	}
	if r := run(t, alice, "admin user del carol", ""); r.code != 0 || ts.acc.Exists("carol") {
		t.Fatalf("user del: %+v", r)
	}
	for _, bad := range []string{"admin", "admin user", "admin user role bob god", "admin user del alice", "admin frob bob"} {
		if r := run(t, alice, bad, ""); r.code == 0 {
			t.Fatalf("%q exited 0", bad)
		}
	}
}

func TestIgnoreIsPersonalAndRemembered(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	aliceC := ts.login("alice", "secret-nyvpr")
	bobC := ts.login("bob", "secret-obo")
	carolC := ts.login("carol", "secret-pnebyf")
	a := openWelcomed(t, aliceC, 100, 30)
	c := openWelcomed(t, carolC, 100, 30)
	a.send("/ignore bob\r")
	a.waitFor("Ignoring bob")
	run(t, bobC, "send noise from bob", "")
	run(t, carolC, "send signal from carol", "")
	a.waitFor("carol: signal from carol")
	c.waitFor("bob: noise from bob") // carol still sees bob
	if strings.Contains(a.screen(), "noise from bob") {
		t.Fatal("alice sees an ignored user")
	}
	// Remembered: a new session of alice still hides bob, backlog included.
	a2 := openUI(t, ts.login("alice", "secret-nyvpr"), 100, 30)
	a2.waitFor("carol: signal from carol")
	if strings.Contains(a2.screen(), "noise from bob") {
		t.Fatal("ignore forgotten in a new session")
	}
	a2.send("/unignore bob\r")
	a2.waitFor("No longer ignoring bob")
	run(t, bobC, "send bob again", "")
	a2.waitFor("bob: bob again")
	a2.send("/ignore nobody-here\r")
	a2.waitFor("no user")
}
