package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"

	gossh "golang.org/x/crypto/ssh"
)

// defaultPassword passes the server's registration policy (length, no
// username inside, zxcvbn strength 3 or more).
const defaultPassword = "load-test violet stapler orbit"

// userSigner derives user's ed25519 key from seed: the private key seed is
// sha256(seed + "/" + name), so --setup and later runs agree on it without
// storing any file.
func userSigner(seed, name string) (gossh.Signer, error) {
	sum := sha256.Sum256([]byte(seed + "/" + name))
	signer, err := gossh.NewSignerFromKey(ed25519.NewKeyFromSeed(sum[:]))
	if err != nil {
		return nil, fmt.Errorf("derive key for %s: %w", name, err)
	}
	return signer, nil
}

// authorizedLine is the authorized_keys line `keys add` takes for signer.
func authorizedLine(signer gossh.Signer, comment string) string {
	line := gossh.MarshalAuthorizedKey(signer.PublicKey()) // ends in "\n"
	return string(line[:len(line)-1]) + " " + comment + "\n"
}

// signerFor is the key of user name in this run's key seed.
func (c *config) signerFor(name string) (gossh.Signer, error) { return userSigner(c.keySeed, name) }
