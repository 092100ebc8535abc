package main

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	gossh "golang.org/x/crypto/ssh"

	"securechat/textsafe"
)

// minRSABits is the smallest RSA key sealed to; age refuses smaller ones too,
// but this says so with the file and line.
const minRSABits = 2048

// recipientKey is one public key of a recipients file.
type recipientKey struct {
	Recipient age.Recipient
	// Fingerprint names the key in the known-keys file: gossh's SHA256
	// fingerprint for SSH keys (as the server shows them), the recipient
	// itself for age.
	Fingerprint string
	Where       string // FILE:LINE, for messages
}

// parseRecipientsFiles reads every file and returns their keys, each key
// once (the server may list one key under two comments).
func parseRecipientsFiles(files []string) ([]recipientKey, error) {
	var keys []recipientKey
	seen := map[string]bool{}
	for _, f := range files {
		data, err := readSmallFile(f)
		if err != nil {
			return nil, fmt.Errorf("recipients %s: %w", textsafe.Sanitize(f, false), err)
		}
		got, err := parseRecipients(textsafe.Sanitize(f, false), data)
		if err != nil {
			return nil, err
		}
		for _, k := range got {
			if !seen[k.Fingerprint] {
				seen[k.Fingerprint] = true
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// parseRecipients reads a recipients file as `pubkey USER` prints it (and as
// `age -R` takes it): one key a line, an authorized_keys line (ssh-ed25519
// or ssh-rsa) or an age recipient; blank lines and # comments are skipped.
// Anything else is an error naming name:line, never quoting the line: a
// private key pasted by mistake must not end up on the screen.
func parseRecipients(name string, data []byte) ([]recipientKey, error) {
	var keys []recipientKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxKeyFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		where := fmt.Sprintf("%s:%d", name, n)
		k, err := parseRecipientLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		k.Where = where
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no keys in this file", name)
	}
	return keys, nil
}

// parseRecipientLine parses one non-blank, non-comment line.
func parseRecipientLine(line string) (recipientKey, error) {
	if strings.HasPrefix(line, "age1") {
		rs, err := age.ParseRecipients(strings.NewReader(line + "\n"))
		if err != nil || len(rs) != 1 {
			return recipientKey{}, fmt.Errorf("not a valid age recipient")
		}
		return recipientKey{Recipient: rs[0], Fingerprint: line}, nil
	}
	pub, _, _, rest, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil || len(bytes.TrimSpace(rest)) > 0 {
		return recipientKey{}, fmt.Errorf("not an SSH public key line or an age1... recipient")
	}
	switch t := pub.Type(); t {
	case gossh.KeyAlgoED25519:
	case gossh.KeyAlgoRSA:
		ck, ok := pub.(gossh.CryptoPublicKey)
		if !ok {
			return recipientKey{}, fmt.Errorf("unreadable ssh-rsa key")
		}
		rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return recipientKey{}, fmt.Errorf("unreadable ssh-rsa key")
		}
		if bits := rk.N.BitLen(); bits < minRSABits {
			return recipientKey{}, fmt.Errorf("ssh-rsa key of %d bits is too weak to seal to (at least %d)", bits, minRSABits)
		}
	default:
		return recipientKey{}, fmt.Errorf("unsupported key type %s: messages can be sealed only to ssh-ed25519, ssh-rsa and age1... keys", textsafe.Sanitize(t, false))
	}
	r, err := agessh.ParseRecipient(line)
	if err != nil {
		return recipientKey{}, fmt.Errorf("unusable %s key", pub.Type())
	}
	return recipientKey{Recipient: r, Fingerprint: gossh.FingerprintSHA256(pub)}, nil
}
