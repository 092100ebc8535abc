package sshapp

import (
	"bufio"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
	"securechat/textsafe"
)

const (
	// maxKeysInput bounds what `keys add` reads, so a stream that never ends
	// cannot grow memory.
	maxKeysInput = 64 << 10
	// maxKeysPerUser bounds a user's entry in users.json.
	maxKeysPerUser = 32
	minRSABits     = 2048
)

// parseKeyLines reads public keys the way a user pastes them: one per line,
// blank lines and # comments skipped. Every key is checked to be one the
// server can log in with and seal to; the first bad line fails the whole
// input, named by its number, so nothing half-valid is ever stored.
func parseKeyLines(input string) ([]accounts.Key, error) {
	var keys []accounts.Key
	sc := bufio.NewScanner(strings.NewReader(input))
	sc.Buffer(make([]byte, 0, 4096), maxKeysInput)
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, err := parseOneKey(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	if len(keys) == 0 {
		return nil, errors.New("no key found: give authorized_keys lines (ssh-ed25519, ssh-rsa) or age1… recipients")
	}
	return keys, nil
}

func parseOneKey(text string) (accounts.Key, error) {
	k, err := accounts.ParseKey(text)
	if err != nil {
		return k, err
	}
	switch k.Type {
	case accounts.KeyTypeAge:
		if _, err := age.ParseX25519Recipient(k.Line); err != nil {
			return k, errors.New("not a valid age X25519 recipient (age1…)")
		}
	case gossh.KeyAlgoED25519:
	case gossh.KeyAlgoRSA:
		pub, _, _, _, err := gossh.ParseAuthorizedKey([]byte(k.Line))
		if err != nil {
			return k, err
		}
		cpk, ok := pub.(gossh.CryptoPublicKey)
		if !ok {
			return k, errors.New("unreadable RSA key")
		}
		rk, ok := cpk.CryptoPublicKey().(*rsa.PublicKey)
		if !ok || rk.N.BitLen() < minRSABits {
			return k, fmt.Errorf("RSA keys must have at least %d bits", minRSABits)
		}
	default:
		return k, fmt.Errorf("key type %s is not supported: use ssh-ed25519, ssh-rsa (%d bits or more) or an age1… recipient", textsafe.Sanitize(k.Type, false), minRSABits)
	}
	if _, err := recipientFor(k); err != nil {
		return k, fmt.Errorf("cannot seal to this key: %v", err)
	}
	return k, nil
}

// recipientFor turns a stored key into an age recipient.
func recipientFor(k accounts.Key) (age.Recipient, error) {
	if k.Type == accounts.KeyTypeAge {
		return age.ParseX25519Recipient(k.Line)
	}
	return agessh.ParseRecipient(k.Line)
}

// publicKeyHandler logs in a user by an uploaded SSH key. An unknown key is
// declined quietly, so the client falls back to a password; declining is not
// a failed password attempt (clients offer several keys from an agent).
func (s *Server) publicKeyHandler(ctx ssh.Context, key ssh.PublicKey) (ok bool) {
	defer s.recoverPanic("public key auth")
	if ci := connOf(ctx); ci != nil && ci.ended() {
		return false
	}
	name := accounts.Normalize(ctx.User())
	if accounts.ValidateUsername(name) != nil {
		return false
	}
	fp := gossh.FingerprintSHA256(key)
	u, found := s.acc.UserByKey(fp)
	if !found || u.Name != name {
		s.log.Info("key declined", "user", safeName(ctx.User()), "remote", remote(ctx), "fingerprint", fp)
		return false
	}
	// Bans are checked once the client proved it holds the key
	// (verifiedKey): this may be a mere query.
	setVerified(ctx, name)
	return true
}

// addKeys validates and stores keys for user; all or nothing.
func (s *Server) addKeys(user, input string) (n int, err error) {
	defer func() {
		if err != nil {
			s.log.Info("keys refused", "user", safeName(user), "err", safeName(err.Error()))
		}
	}()
	keys, err := parseKeyLines(input)
	if err != nil {
		return 0, err
	}
	u, ok := s.acc.Get(user)
	if !ok {
		return 0, accounts.ErrNoUser
	}
	if len(u.Keys)+len(keys) > maxKeysPerUser {
		return 0, fmt.Errorf("at most %d keys per user (you have %d)", maxKeysPerUser, len(u.Keys))
	}
	if err := s.acc.AddKeys(user, keys); err != nil {
		if errors.Is(err, accounts.ErrKeyTaken) {
			return 0, errors.New("a key you gave belongs to another user; nothing was added")
		}
		return 0, err
	}
	s.log.Info("keys added", "user", safeName(user), "count", len(keys))
	return len(keys), nil
}

// keyListing is `keys list` output: type, fingerprint, comment, date.
func (s *Server) keyListing(user string) []string {
	u, _ := s.acc.Get(user)
	var out []string
	for _, k := range u.Keys {
		comment := textsafe.Sanitize(k.Comment, false)
		if comment == "" {
			comment = "-"
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", k.Type, k.Fingerprint, comment, k.Added.UTC().Format("2006-01-02")))
	}
	return out
}

func (s *Server) removeKey(user, fp string) error {
	fp = strings.TrimSpace(fp)
	if fp == "" {
		return errors.New("give the fingerprint to remove (see keys list)")
	}
	if err := s.acc.RemoveKey(user, fp); err != nil {
		if errors.Is(err, accounts.ErrNoKey) {
			return fmt.Errorf("you have no key %s (your keys and their fingerprints: /keys, or ssh … keys)", textsafe.Sanitize(fp, false))
		}
		return fmt.Errorf("remove key %s: %w", textsafe.Sanitize(fp, false), err)
	}
	s.log.Info("key removed", "user", safeName(user), "fingerprint", safeName(fp))
	return nil
}
