package hostkeys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/renameio/v2"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// FileName is the host key's file name inside the data folder.
const FileName = "ssh_host_ed25519_key"

// ErrNoKey is returned by Load when there is no host key at the path yet.
var ErrNoKey = errors.New("no host key")

// Load returns the ed25519 host key stored at path without changing
// anything: for read-only commands, which must not create state (a
// mistyped folder must not get a new key). A missing file is ErrNoKey.
func Load(path string) (gossh.Signer, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w at %s", ErrNoKey, path)
	case err != nil:
		return nil, fmt.Errorf("read host key %s: %w", path, err)
	}
	signer, err := gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("parse host key %s: %w", path, err)
	}
	return signer, nil
}

// LoadOrCreate returns the ed25519 host key stored at path, generating and
// saving one (mode 0600, written atomically) the first time. An existing file
// that does not hold a private key is an error: it is never overwritten, since
// replacing a host key would make every client see a changed server.
func LoadOrCreate(path string) (gossh.Signer, error) {
	signer, err := Load(path)
	switch {
	case err == nil:
		// Tighten permissions left loose by hand or by an old umask.
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("chmod host key %s: %w", path, err)
		}
		return signer, nil
	case errors.Is(err, ErrNoKey):
		return create(path)
	default:
		return nil, err
	}
}

func create(path string) (gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "securechat host key")
	if err != nil {
		return nil, fmt.Errorf("encode host key: %w", err)
	}
	if err := renameio.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("write host key %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	// renameio applies the mode through the umask; make it exact.
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("chmod host key %s: %w", path, err)
	}
	return gossh.NewSignerFromKey(priv)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// Fingerprint is the key's SHA256 fingerprint as `ssh-keygen -lf` prints it.
func Fingerprint(pub gossh.PublicKey) string {
	return gossh.FingerprintSHA256(pub)
}

// KnownHostsLine is the line a user adds to ~/.ssh/known_hosts to pin the
// server before the first connect. addr is host:port; port 22 is written bare
// and any other port in OpenSSH's [host]:port form.
func KnownHostsLine(addr string, pub gossh.PublicKey) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("known_hosts address %q: %w", addr, err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", fmt.Errorf("known_hosts port %q: %w", port, err)
	}
	return knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(host, port))}, pub), nil
}
