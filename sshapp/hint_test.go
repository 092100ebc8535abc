package sshapp

import (
	"net"
	"strings"
	"testing"
)

// TestInboxHintNamesTheHostUsersType: the "open it on your machine" command
// names --hostname when set, else the address the client reached
// ("localhost" on loopback), never this machine's own name, which users do
// not type and their known_hosts does not hold.
func TestInboxHintNamesTheHostUsersType(t *testing.T) {
	for _, tc := range []struct{ publicHost, want string }{
		{"", "bob@localhost inbox --since"},
		{"chat.example.org", "bob@chat.example.org inbox --since"},
	} {
		t.Run("hostname="+tc.publicHost, func(t *testing.T) {
			ts := startServer(t, t.TempDir(), func(c *Config) { c.PublicHost = tc.publicHost })
			_, port, _ := net.SplitHostPort(ts.addr)
			alice := ts.login("alice", "secret-nyvpr")
			bob := ts.login("bob", "secret-obo")
			run(t, bob, "keys add", newEd25519(t, "").line)
			ub := openUI(t, bob, 200, 30)
			ub.waitFor("Welcome")
			if r := run(t, alice, "msg bob a sealed hello", ""); r.code != 0 {
				t.Fatalf("msg: %+v", r)
			}
			scr := ub.waitFor("[sealed] #")
			if want := "ssh -p " + port + " " + tc.want; !strings.Contains(scr, want) {
				t.Fatalf("bob's screen lacks %q:\n%s", want, scr)
			}
		})
	}
}

func TestHintAddr(t *testing.T) {
	for _, tc := range []struct {
		publicHost string
		local      net.Addr
		host, port string
	}{
		{"", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "localhost", "8080"},
		{"", &net.TCPAddr{IP: net.IPv6loopback, Port: 2222}, "localhost", "2222"},
		{"", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 8080}, "192.0.2.7", "8080"},
		{"", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 8080}, "2001:db8::1", "8080"},
		{"chat.example.org", &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 8022}, "chat.example.org", "8022"},
		{"", nil, "HOST", "8080"},
	} {
		host, port := hintAddr(tc.publicHost, tc.local)
		if host != tc.host || port != tc.port {
			t.Errorf("hintAddr(%q, %v) = %s %s, want %s %s", tc.publicHost, tc.local, host, port, tc.host, tc.port)
		}
	}
}
