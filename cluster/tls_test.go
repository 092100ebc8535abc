package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"securechat/history"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newTestCA(t *testing.T, dir string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, file: filepath.Join(dir, "ca.pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue makes a node certificate for 127.0.0.1, good for both ends of a
// route, and returns its certificate and key files.
func (ca *testCA) issue(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kb)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTLSPair starts two nodes whose routes use TLS, node i with a
// certificate from cas[i], and opens both logs at once.
func startTLSPair(t *testing.T, cas []*testCA, trust []*testCA, timeout time.Duration) ([]*Log, []error) {
	t.Helper()
	addrs := freeAddrs(t, 2)
	logs := make([]*Log, 2)
	errs := make([]error, 2)
	nodes := make([]*Node, 2)
	for i := range 2 {
		dir := t.TempDir()
		certFile, keyFile := cas[i].issue(t, dir, "node")
		tlsCfg, err := RouteTLS(certFile, keyFile, trust[i].file)
		if err != nil {
			t.Fatal(err)
		}
		cfg := nodeConfig(dir, "chat", i, addrs)
		cfg.RouteTLS, cfg.StartTimeout = tlsCfg, timeout
		if nodes[i], err = Start(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logs[i], errs[i] = OpenLog(context.Background(), nodes[i], t.TempDir()+"/copy.jsonl")
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for i := range 2 {
			if logs[i] != nil {
				logs[i].Close()
			}
			nodes[i].Close()
		}
	})
	return logs, errs
}

func TestRoutesOverTLS(t *testing.T) {
	ca := newTestCA(t, t.TempDir())
	logs, errs := startTLSPair(t, []*testCA{ca, ca}, []*testCA{ca, ca}, 30*time.Second)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
	}
	if _, err := logs[0].AppendOrdered([]history.Entry{entry("alice", "over tls")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node 2's copy", func() bool { return logs[1].LastID() == 1 })
}

func TestRoutesRefuseACertificateFromAnotherCA(t *testing.T) {
	ours, theirs := newTestCA(t, t.TempDir()), newTestCA(t, t.TempDir())
	// Node 2's certificate is from another CA: no route forms, so neither
	// node can make the replicated stream.
	_, errs := startTLSPair(t, []*testCA{ours, theirs}, []*testCA{ours, ours}, 3*time.Second)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("node %d opened the log with a peer whose certificate no CA it trusts signed", i+1)
		}
	}
}
