package sshapp

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	gossh "golang.org/x/crypto/ssh"
)

type testKey struct {
	signer gossh.Signer
	line   string // authorized_keys line
	ident  age.Identity
}

func newEd25519(t *testing.T, comment string) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ident, err := agessh.NewEd25519Identity(priv)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + " " + comment
	return testKey{signer: signer, line: line, ident: ident}
}

func newRSA(t *testing.T, bits int) testKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	k := testKey{signer: signer, line: strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey())))}
	if bits >= 2048 {
		k.ident, err = agessh.NewRSAIdentity(priv)
		if err != nil {
			t.Fatal(err)
		}
	}
	return k
}

var headerRE = regexp.MustCompile(`^securechat-sealed id=(\d+) time=\S+ from=(\S+) to=(\S+)$`)

// openInbox parses `inbox` output and opens every block with ident.
func openInbox(t *testing.T, out string, ident age.Identity) []string {
	t.Helper()
	var texts []string
	sc := bufio.NewScanner(strings.NewReader(out))
	var block strings.Builder
	in := false
	for sc.Scan() {
		l := sc.Text()
		switch {
		case headerRE.MatchString(l):
		case l == armorBegin:
			in = true
			block.Reset()
			block.WriteString(l + "\n")
		case l == armorEnd:
			block.WriteString(l + "\n")
			in = false
			r, err := age.Decrypt(armor.NewReader(strings.NewReader(block.String())), ident)
			if err != nil {
				t.Fatalf("open sealed block: %v", err)
			}
			b, _ := io.ReadAll(r)
			texts = append(texts, string(b))
		case in:
			block.WriteString(l + "\n")
		}
	}
	return texts
}

func TestKeysAddListRemoveAndLogin(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	ed := newEd25519(t, "alice@laptop")
	rk := newRSA(t, 2048)
	ageID, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	input := "# my keys\n" + ed.line + "\n\n" + rk.line + "\n" + ageID.Recipient().String() + "\n"
	if r := run(t, alice, "keys add", input); r.code != 0 || !strings.Contains(r.stdout, "added 3") {
		t.Fatalf("keys add: %+v", r)
	}
	r := run(t, alice, "keys list", "")
	if !strings.Contains(r.stdout, gossh.FingerprintSHA256(ed.signer.PublicKey())) || !strings.Contains(r.stdout, "alice@laptop") ||
		!strings.Contains(r.stdout, "ssh-rsa") || !strings.Contains(r.stdout, ageID.Recipient().String()) {
		t.Fatalf("keys list:\n%s", r.stdout)
	}
	// Key login, no password.
	for _, k := range []testKey{ed, rk} {
		c, err := dial(ts.addr, "alice", nil, gossh.PublicKeys(k.signer))
		if err != nil {
			t.Fatalf("key login: %v", err)
		}
		if r := run(t, c, "who", ""); r.code != 0 {
			t.Fatal(r)
		}
		c.Close()
	}
	// The key does not log in as anyone else.
	ts.login("bob", "secret-obo").Close()
	if c, err := dial(ts.addr, "bob", nil, gossh.PublicKeys(ed.signer)); err == nil {
		c.Close()
		t.Fatal("alice's key logged in as bob")
	}
	// An unknown key is declined and the client falls back to the password.
	stranger := newEd25519(t, "")
	c, err := dial(ts.addr, "alice", nil, gossh.PublicKeys(stranger.signer), gossh.Password("secret-nyvpr"))
	if err != nil {
		t.Fatalf("fallback to password after an unknown key: %v", err)
	}
	c.Close()
	// pubkey prints lines that age takes as recipients.
	r = run(t, c2(t, ts, "bob", "secret-obo"), "pubkey alice", "")
	recips, err := parseRecipients(r.stdout)
	if err != nil || len(recips) != 3 {
		t.Fatalf("pubkey output is not a recipients file (%v):\n%s", err, r.stdout)
	}
	// Remove.
	fp := gossh.FingerprintSHA256(rk.signer.PublicKey())
	if r := run(t, alice, "keys rm "+fp, ""); r.code != 0 {
		t.Fatal(r)
	}
	if c, err := dial(ts.addr, "alice", nil, gossh.PublicKeys(rk.signer)); err == nil {
		c.Close()
		t.Fatal("removed key still logs in")
	}
	if r := run(t, alice, "keys rm SHA256:nope", ""); r.code == 0 {
		t.Fatal("removing an unknown key succeeded")
	}
}

func c2(t *testing.T, ts *testServer, user, pw string) *gossh.Client {
	return ts.login(user, pw)
}

func TestKeysAddRefusals(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	bob := ts.login("bob", "secret-obo")
	good := newEd25519(t, "")
	weak := newRSA(t, 1024)
	held := newEd25519(t, "")
	if r := run(t, bob, "keys add", held.line+"\n"); r.code != 0 || r.stdout != "added 1 key\n" {
		t.Fatal(r)
	}
	trunc := good.line[:40]
	for _, tc := range []struct{ name, input, want string }{
		{"garbage", good.line + "\nhello world\n", "line 2"},
		{"truncated", trunc + "\n", "line 1"},
		{"rsa 1024", good.line + "\n" + weak.line + "\n", "2048"},
		{"ecdsa", "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg= x\n", "not supported"},
		{"bad age", "age1notarecipient\n", "line 1"},
		{"options", `command="ls" ` + good.line + "\n", "options"},
		{"held by another user", good.line + "\n" + held.line + "\n", "another user"},
		{"empty", "\n\n", "no key"},
		{"oversized", strings.Repeat("#", 70<<10), "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, alice, "keys add", tc.input)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("keys add %s: code %d stderr %q, want %q", tc.name, r.code, r.stderr, tc.want)
			}
			if r := run(t, alice, "keys list", ""); r.stdout != "" {
				t.Fatalf("something was stored: %q", r.stdout)
			}
		})
	}
}

func TestSealedPrivateMessages(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	bob := ts.login("bob", "secret-obo")
	eve := ts.login("eve", "secret-rir")
	aliceKey := newEd25519(t, "")
	bobKey := newEd25519(t, "")
	run(t, alice, "keys add", aliceKey.line)
	run(t, bob, "keys add", bobKey.line)

	// bob's UI and alice's UI are open; eve watches the room.
	ua := openWelcomed(t, alice, 120, 30)
	ub := openWelcomed(t, bob, 120, 30)
	ue := openWelcomed(t, eve, 120, 30)

	const secret = "the eagle lands at midnight"
	ub.send("/msg alice " + secret + "\r")
	ub.waitFor("[sealed] #") // the one confirmation: the sealed line
	scr := ua.waitFor("[sealed] #")
	if !strings.Contains(scr, "from bob") || !strings.Contains(scr, "inbox") {
		t.Fatalf("alice's screen:\n%s", scr)
	}
	if strings.Contains(scr, "BEGIN AGE") || strings.Contains(scr, secret) {
		t.Fatalf("alice's screen shows ciphertext or plaintext:\n%s", scr)
	}
	r := run(t, alice, "inbox", "")
	if got := openInbox(t, r.stdout, aliceKey.ident); len(got) != 1 || got[0] != secret {
		t.Fatalf("alice opened %q", got)
	}
	// The sender can open their own copy.
	if r := run(t, bob, "inbox", ""); strings.Contains(r.stdout, "securechat-sealed") {
		t.Fatalf("bob's inbox lists what he sent without --sent:\n%s", r.stdout)
	}
	r = run(t, bob, "inbox --sent", "")
	if got := openInbox(t, r.stdout, bobKey.ident); len(got) != 1 || got[0] != secret {
		t.Fatalf("bob opened %q", got)
	}
	// Via the exec command too.
	if r := run(t, bob, "msg alice second secret", ""); r.code != 0 {
		t.Fatal(r)
	}
	r = run(t, alice, "inbox --since 1 -n 10", "")
	if got := openInbox(t, r.stdout, aliceKey.ident); len(got) != 2 || got[1] != "second secret" {
		t.Fatalf("alice opened %q", got)
	}

	// Nobody else learns it exists.
	for _, cmd := range []string{"inbox", "history", "history --json"} {
		if r := run(t, eve, cmd, ""); strings.Contains(r.stdout, "sealed") || strings.Contains(r.stdout, "AGE") {
			t.Fatalf("eve's %s shows it:\n%s", cmd, r.stdout)
		}
	}
	if strings.Contains(ue.screen(), "sealed") {
		t.Fatalf("eve's screen shows it:\n%s", ue.screen())
	}
	// No plaintext anywhere in the data folder.
	assertNotInDataDir(t, ts.dir, secret)
	assertNotInDataDir(t, ts.dir, "second secret")
}

func assertNotInDataDir(t *testing.T, dir, text string) {
	t.Helper()
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), text) {
			t.Errorf("%s holds the plaintext %q", path, text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPrivateMessageWithoutKeys(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	alice := ts.login("alice", "secret-nyvpr")
	bob := ts.login("bob", "secret-obo")
	const text = "unsealed whisper"
	if r := run(t, bob, "msg alice "+text, ""); r.code == 0 || !strings.Contains(r.stderr, "offline") {
		t.Fatalf("msg to offline user without keys: %+v", r)
	}
	ua := openWelcomed(t, alice, 100, 30)
	if r := run(t, bob, "msg alice "+text, ""); r.code != 0 || !strings.Contains(r.stdout, "not stored") {
		t.Fatalf("msg: %+v", r)
	}
	ua.waitFor("[private] bob → alice: " + text)
	assertNotInDataDir(t, ts.dir, text)
	if r := run(t, bob, "msg nobody hi", ""); r.code == 0 || !strings.Contains(r.stderr, "no user") {
		t.Fatalf("msg to unknown user: %+v", r)
	}
}

func TestDMRelaysClientSealedMessages(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.MaxSealed = 4096 })
	alice := ts.login("alice", "secret-nyvpr")
	bob := ts.login("bob", "secret-obo")
	aliceKey := newEd25519(t, "")
	run(t, alice, "keys add", aliceKey.line)

	r := run(t, bob, "pubkey alice", "")
	recips, err := parseRecipients(r.stdout)
	if err != nil {
		t.Fatal(err)
	}
	armored, err := seal(recips, "sealed on bob's machine")
	if err != nil {
		t.Fatal(err)
	}
	if r := run(t, bob, "dm alice", armored); r.code != 0 {
		t.Fatalf("dm: %+v", r)
	}
	r = run(t, alice, "inbox", "")
	if !strings.Contains(r.stdout, strings.TrimSpace(armored)) {
		t.Fatalf("stored ciphertext differs from what was sent:\n%s", r.stdout)
	}
	if got := openInbox(t, r.stdout, aliceKey.ident); len(got) != 1 || got[0] != "sealed on bob's machine" {
		t.Fatalf("opened %q", got)
	}
	lines := strings.Split(strings.TrimSpace(armored), "\n")
	corrupt := strings.Join(append(append([]string{}, lines[:1]...), append([]string{"!!!!"}, lines[2:]...)...), "\n")
	for _, tc := range []struct{ name, input, want string }{
		{"plain text", "hello", "not an armored age"},
		{"truncated", strings.Join(lines[:2], "\n"), "not an armored age"},
		{"corrupt base64", corrupt, "armor"},
		{"too large", armorBegin + "\n" + strings.Repeat("A", 5000) + "\n" + armorEnd, "too large"},
		{"escape bytes", armorBegin + "\n\x1b[2J\n" + armorEnd, "unexpected bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, bob, "dm alice", tc.input)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("dm %s: %+v, want %q", tc.name, r, tc.want)
			}
		})
	}
}

func TestKeysFromUI(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	u := openWelcomed(t, ts.login("alice", "secret-nyvpr"), 200, 30)
	u.send("/keys\r")
	u.waitFor("You have no keys")
	k := newEd25519(t, "from-ui")
	u.send("/keys add " + k.line + "\r")
	u.waitFor("added 1 key")
	u.send("/keys\r")
	u.waitFor(gossh.FingerprintSHA256(k.signer.PublicKey()))
	u.send("/keys add nonsense\r")
	scr := u.waitFor("not an SSH public key")
	// A failed command comes back to the input line to be fixed.
	if !strings.Contains(scr, "> /keys add nonsense") {
		t.Fatalf("failed command not restored:\n%s", scr)
	}
	u.send("\x15/msg\r") // Ctrl+U clears it
	u.waitFor("usage: /msg USER TEXT")
}

// parseRecipients reads `pubkey` output the way the age tool reads a
// recipients file with -R: age1 recipients and SSH public key lines.
func parseRecipients(s string) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		var r age.Recipient
		var err error
		if strings.HasPrefix(l, "age1") {
			r, err = age.ParseX25519Recipient(l)
		} else {
			r, err = agessh.ParseRecipient(l)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func FuzzParseKeyLines(f *testing.F) {
	for _, s := range []string{
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGu6Y1Y0bS2bZ0t1m6N4p8b0cR1m3L5r0VfXw3cK9z7Q me\n",
		"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n",
		"# comment\n\nssh-rsa AAAA\n",
		"ecdsa-sha2-nistp256 AAAA x\n",
		"\x00\xff\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		keys, err := parseKeyLines(in)
		if err != nil {
			if keys != nil {
				t.Fatal("keys returned with an error")
			}
			return
		}
		for _, k := range keys {
			if _, err := recipientFor(k); err != nil {
				t.Fatalf("accepted a key that cannot be sealed to: %+v", k)
			}
		}
	})
}
