package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// maxSealPlaintext bounds what --encrypt seals. It leaves room for the age
// header and the armor's base64 inside the server's 64 KiB bound on a sealed
// message (see maxArmor), which is checked on the result as well.
const maxSealPlaintext = 48 << 10

// sealOptions is what --encrypt needs besides the message.
type sealOptions struct {
	User          string   // the recipient's user name, normalised and valid
	Files         []string // -R files
	KnownKeysPath string
	AcceptNew     bool
	// Self are the sender's own keys, sealed to as well (not pinned: they
	// are the sender's own files); NoSelf says the sender chose none.
	Self   []recipientKey
	NoSelf bool
}

// readPlaintext reads the message to seal, refusing what the reader would
// refuse: more than maxSealPlaintext bytes, or text that is not UTF-8.
func readPlaintext(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSealPlaintext+1))
	if err != nil {
		return nil, fmt.Errorf("read standard input: %w", err)
	}
	switch {
	case len(b) > maxSealPlaintext:
		return nil, fmt.Errorf("message too long: at most %d KiB (%d bytes) can be sealed", maxSealPlaintext>>10, maxSealPlaintext)
	case len(bytes.TrimSpace(b)) == 0:
		return nil, errors.New("empty message: nothing to seal")
	case !utf8.Valid(b):
		return nil, errors.New("message is not UTF-8 text")
	}
	return b, nil
}

// seal encrypts plaintext to every key, as one armored age file: what the
// server's `dm` command stores and `age -d` opens. The result fits the
// server's bound on a sealed message, or seal fails.
func seal(plaintext []byte, keys []recipientKey) ([]byte, error) {
	armored, err := sealUnchecked(plaintext, keys)
	if err != nil {
		return nil, err
	}
	if len(armored) > maxArmor {
		// The header grows with every key (an RSA key adds half a KiB), so
		// the plaintext bound alone cannot promise this.
		return nil, fmt.Errorf("sealed message too big: %d bytes armored, the server takes at most %d; shorten the message", len(armored), maxArmor)
	}
	return armored, nil
}

// sealUnchecked is seal without the size check.
func sealUnchecked(plaintext []byte, keys []recipientKey) ([]byte, error) {
	rs := make([]age.Recipient, len(keys))
	for i, k := range keys {
		rs[i] = k.Recipient
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, rs...)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return buf.Bytes(), nil
}

// sealTo is --encrypt: read the keys, check them against the known-keys
// file, seal the plaintext to them and to the sender's own keys, and only
// then remember the recipient's keys. It writes the
// armored file to out, and notices to errw.
func sealTo(opts sealOptions, in io.Reader, out, errw io.Writer) error {
	keys, err := parseRecipientsFiles(opts.Files)
	if err != nil {
		return err
	}
	plaintext, err := readPlaintext(in)
	if err != nil {
		return err
	}
	kk, err := loadKnownKeys(opts.KnownKeysPath)
	if err != nil {
		return err
	}
	fps := make([]string, len(keys))
	for i, k := range keys {
		fps[i] = k.Fingerprint
	}
	outcome, err := checkTrust(kk, opts.User, fps, opts.AcceptNew)
	if err != nil {
		return err
	}
	armored, err := seal(plaintext, withSelf(keys, opts.Self))
	if err != nil {
		return err
	}
	if len(opts.Self) == 0 && !opts.NoSelf {
		fmt.Fprintf(errw, "%s: warning: not sealed to you (no ~/.ssh/id_ed25519.pub or ~/.ssh/id_rsa.pub): you will not be able to read your copy with inbox --sent; give --self FILE (your public key, or what `pubkey YOURNAME` prints), or --no-self\n", progName)
	}
	switch outcome {
	case trustFirstUse:
		if err := kk.save(opts.KnownKeysPath); err != nil {
			return err
		}
		fmt.Fprintf(errw, "%s: first time sealing to %s; remembered keys: %s\n", progName, opts.User, strings.Join(kk[opts.User], " , "))
	case trustReplaced:
		if err := kk.save(opts.KnownKeysPath); err != nil {
			return err
		}
		fmt.Fprintf(errw, "%s: accepted new keys for %s; remembered keys: %s\n", progName, opts.User, strings.Join(kk[opts.User], " , "))
	}
	if _, err := out.Write(armored); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
