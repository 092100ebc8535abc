package sshapp

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// dialWith connects with a client config changed by mod (weak algorithms
// a real client would no longer offer).
func dialWith(addr string, local net.IP, mod func(*gossh.ClientConfig)) (*gossh.Client, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: local}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	cfg := &gossh.ClientConfig{User: "alice", HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
	mod(cfg)
	c, chans, reqs, err := gossh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return gossh.NewClient(c, chans, reqs), nil
}

// Item 7 of issue 14: SHA-1 key exchange and MACs were accepted.
func TestWeakTransportAlgorithmsRefused(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	ts.login("alice", "correct horse battery").Close()
	pw := gossh.Password("correct horse battery")
	for _, tc := range []struct {
		name string
		mod  func(*gossh.ClientConfig)
	}{
		{"kex diffie-hellman-group14-sha1", func(c *gossh.ClientConfig) { c.KeyExchanges = []string{gossh.InsecureKeyExchangeDH14SHA1} }},
		{"kex diffie-hellman-group1-sha1", func(c *gossh.ClientConfig) { c.KeyExchanges = []string{gossh.InsecureKeyExchangeDH1SHA1} }},
		{"kex diffie-hellman-group14-sha256", func(c *gossh.ClientConfig) { c.KeyExchanges = []string{gossh.KeyExchangeDH14SHA256} }},
		{"kex ecdh-sha2-nistp256", func(c *gossh.ClientConfig) { c.KeyExchanges = []string{gossh.KeyExchangeECDHP256} }},
		{"mac hmac-sha1", func(c *gossh.ClientConfig) {
			c.Ciphers = []string{gossh.CipherAES128CTR}
			c.MACs = []string{gossh.HMACSHA1}
		}},
		{"mac hmac-sha1-96", func(c *gossh.ClientConfig) {
			c.Ciphers = []string{gossh.CipherAES128CTR}
			c.MACs = []string{gossh.InsecureHMACSHA196}
		}},
		{"cipher aes128-cbc", func(c *gossh.ClientConfig) { c.Ciphers = []string{gossh.InsecureCipherAES128CBC} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := dialWith(ts.addr, ip(2), func(c *gossh.ClientConfig) { c.Auth = []gossh.AuthMethod{pw}; tc.mod(c) })
			if err == nil {
				c.Close()
				t.Fatal("the server agreed")
			}
			if !strings.Contains(err.Error(), "no common algorithm") {
				t.Fatalf("refused for another reason: %v", err)
			}
		})
	}
	// What modern clients use still works.
	for _, kex := range kexAlgorithms {
		c, err := dialWith(ts.addr, ip(3), func(c *gossh.ClientConfig) { c.Auth = []gossh.AuthMethod{pw}; c.KeyExchanges = []string{kex} })
		if err != nil {
			t.Fatalf("%s: %v", kex, err)
		}
		c.Close()
	}
	if !strings.Contains(ts.logs.String(), "handshake failed") {
		t.Fatal("failed handshakes are not logged")
	}
}

// SHA-1 RSA user signatures ("ssh-rsa") are refused; the same key signing
// with rsa-sha2-256 or -512 logs in.
func TestSHA1UserSignaturesRefused(t *testing.T) {
	ts := startServer(t, t.TempDir(), nil)
	k := newRSA(t, 2048)
	if r := run(t, ts.login("alice", "correct horse battery"), "keys add", k.line); r.code != 0 {
		t.Fatal(r)
	}
	for _, tc := range []struct {
		algo string
		ok   bool
	}{
		{gossh.KeyAlgoRSA, false},
		{gossh.KeyAlgoRSASHA256, true},
		{gossh.KeyAlgoRSASHA512, true},
	} {
		signer, err := gossh.NewSignerWithAlgorithms(k.signer.(gossh.AlgorithmSigner), []string{tc.algo})
		if err != nil {
			t.Fatal(err)
		}
		c, err := dial(ts.addr, "alice", ip(2), gossh.PublicKeys(signer))
		if err == nil {
			c.Close()
		}
		if (err == nil) != tc.ok {
			t.Fatalf("%s: login error %v, want success %v", tc.algo, err, tc.ok)
		}
	}
}

// ssh-audit (Debian's package, as run in CI) finds nothing that fails
// because of SHA-1.
func TestSSHAuditFindsNoSHA1(t *testing.T) {
	path, err := exec.LookPath("ssh-audit")
	if err != nil {
		t.Fatal("ssh-audit is not installed (.ci/run installs the Debian package)")
	}
	ts := startServer(t, t.TempDir(), nil)
	_, port, _ := net.SplitHostPort(ts.addr)
	// Batch mode without colours: one "(kind) algorithm -- [level] note"
	// line per finding. Its exit status is non-zero whenever it warns.
	out, _ := exec.Command(path, "-b", "-n", "-p", port, "127.0.0.1").Output()
	if !strings.Contains(string(out), "(kex) mlkem768x25519-sha256") {
		t.Fatalf("ssh-audit did not audit the server:\n%s", out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		low := strings.ToLower(l)
		if strings.Contains(low, "[fail]") && (strings.Contains(low, "sha1") || strings.Contains(low, "sha-1")) {
			t.Errorf("ssh-audit: %s", l)
		}
	}
	t.Logf("ssh-audit:\n%s", out)
}
