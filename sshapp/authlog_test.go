package sshapp

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
	"securechat/textsafe"
)

// queryOnly offers a public key it cannot sign with: all that anyone who
// fetched alice's public key (`pubkey alice`) can do.
type queryOnly struct{ pub gossh.PublicKey }

func (q queryOnly) PublicKey() gossh.PublicKey { return q.pub }
func (q queryOnly) Sign(io.Reader, []byte) (*gossh.Signature, error) {
	return nil, errors.New("no private key")
}

// Issue 16 item 3: offering alice's public key without her private key
// used to log "login user=alice method=publickey". A login is logged once
// the connection is authenticated, and only then.
func TestKeyQueryLogsNoLogin(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	k := newEd25519(t, "")
	if r := run(t, ts.login("alice", "correct horse battery"), "keys add", k.line); r.code != 0 {
		t.Fatal(r)
	}
	before := strings.Count(ts.logs.String(), "login user=alice")
	if c, err := dial(ts.addr, "alice", ip(2), gossh.PublicKeys(queryOnly{k.signer.PublicKey()})); err == nil {
		c.Close()
		t.Fatal("logged in without the private key")
	}
	if n := strings.Count(ts.logs.String(), "login user=alice"); n != before {
		t.Fatalf("a key query was logged as a login:\n%s", ts.logs.String())
	}
	c, err := dial(ts.addr, "alice", ip(3), gossh.PublicKeys(k.signer))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !strings.Contains(ts.logs.String(), "login user=alice remote=127.0.0.3") || !strings.Contains(ts.logs.String(), "method=publickey") {
		t.Fatalf("the real key login was not logged:\n%s", ts.logs.String())
	}
	// Issue 16 item 25: the client version is quoted once, by the logger.
	if !strings.Contains(ts.logs.String(), "client=SSH-2.0-Go") {
		t.Fatalf("client version not logged plainly:\n%s", ts.logs.String())
	}
}

// Item 10 of issue 14: what used to leave no log line.
func TestLogGaps(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits.MinPasswordScore = 0 })
	c := ts.login("alice", "correct horse battery")

	// A refused `keys add` line.
	if r := run(t, c, "keys add", "ssh-ed25519 not-a-key"); r.code == 0 {
		t.Fatal("a broken key line was added")
	}
	// A declined key.
	other := newEd25519(t, "")
	if c2, err := dial(ts.addr, "alice", ip(2), gossh.PublicKeys(other.signer)); err == nil {
		c2.Close()
		t.Fatal("an unknown key logged in")
	}
	// A username with a NUL byte is not logged as the clean name.
	if c2, err := dial(ts.addr, "ali\x00ce", ip(3), gossh.Password("correct horse battery")); err == nil {
		c2.Close()
		t.Fatal("ali\\x00ce logged in")
	}
	// An oversized packet before the key exchange.
	raw, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip(4)}}).Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 16) // length, padding length, payload
	binary.BigEndian.PutUint32(hdr, 1<<30)
	_, _ = raw.Write(append([]byte("SSH-2.0-probe\r\n"), hdr...))
	_, _ = io.Copy(io.Discard, raw) // until the server hangs up
	raw.Close()

	deadline := time.Now().Add(5 * time.Second)
	want := []string{"keys refused user=alice", "key declined user=alice remote=127.0.0.2", `user=ali\x00ce`, "handshake failed remote=127.0.0.4", "packet too large"}
	for {
		logs := ts.logs.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(logs, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			if strings.Contains(logs, "remote=127.0.0.3") && strings.Contains(logs, "user=alice remote=127.0.0.3") {
				t.Fatalf("ali\\x00ce was logged as alice:\n%s", logs)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", missing, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Issue 16 item 25: a password refused at registration is logged (never
// the password itself).
func TestRefusedRegistrationPasswordLogged(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits.MinPasswordScore = 3 })
	if c, err := dial(ts.addr, "carol", ip(2), kiAnswer(nil, samePassword("password123"))); err == nil {
		c.Close()
		t.Fatal("a weak password registered")
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "registration refused user=carol") {
		t.Fatalf("not logged:\n%s", logs)
	}
	if strings.Contains(logs, "password123") {
		t.Fatal("the password was logged")
	}
}

// safeName's output is one printable line of at most 64 characters, and a
// name that sanitising would change never comes out as a clean name.
func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"alice", "ali\x00ce", "x\nINFO login user=admin", "z\u2028y", "\xff\xfe", "bidi\u202eesrever", strings.Repeat("é", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		out := safeName(name)
		if utf8.RuneCountInString(out) > 64 {
			t.Fatalf("%d characters", utf8.RuneCountInString(out))
		}
		for _, r := range out {
			if !unicode.IsGraphic(r) {
				t.Fatalf("%q: non-graphic %U in %q", name, r, out)
			}
		}
		if textsafe.Sanitize(name, false) != name && accounts.ValidateUsername(out) == nil {
			t.Fatalf("%q logs as the valid name %q", name, out)
		}
	})
}
