package main

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"filippo.io/age"
	"filippo.io/age/agessh"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/term"

	"securechat/textsafe"
)

// maxKeyFile bounds an identity or public key file: real ones are a few KiB.
const maxKeyFile = 1 << 20

// passphraseFunc asks the user for a passphrase, showing prompt. The real one
// reads the terminal; tests inject their own.
type passphraseFunc func(prompt string) ([]byte, error)

// defaultIdentityFiles are tried, in order, when no -i is given: the keys the
// user most likely registered with the server.
func defaultIdentityFiles(home string) []string {
	return []string{
		filepath.Join(home, ".ssh", "id_ed25519"),
		filepath.Join(home, ".ssh", "id_rsa"),
	}
}

// loadDefaultIdentities loads the default key files under home that exist.
// One that cannot be used is skipped with a warning to warn: it may be a key
// type age cannot use while the other one works.
func loadDefaultIdentities(home string, ask passphraseFunc, warn io.Writer) []age.Identity {
	if home == "" {
		return nil // not the current folder's .ssh
	}
	var ids []age.Identity
	for _, f := range defaultIdentityFiles(home) {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		got, err := loadIdentityFile(f, ask)
		if err != nil {
			fmt.Fprintf(warn, "%s: warning: skipping %s\n", progName, textsafe.Sanitize(err.Error(), false))
			continue
		}
		ids = append(ids, got...)
	}
	return sortIdentities(ids)
}

// loadIdentities reads every file. Identities that need no passphrase come
// first, so that a message sealed to several of the user's keys is opened
// without asking for a passphrase at all.
func loadIdentities(files []string, ask passphraseFunc) ([]age.Identity, error) {
	var ids []age.Identity
	seen := map[string]bool{}
	for _, f := range files {
		if seen[filepath.Clean(f)] {
			continue // one file, one passphrase prompt
		}
		seen[filepath.Clean(f)] = true
		got, err := loadIdentityFile(f, ask)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return sortIdentities(ids), nil
}

// sortIdentities puts the identities that need no passphrase first.
func sortIdentities(ids []age.Identity) []age.Identity {
	slices.SortStableFunc(ids, func(a, b age.Identity) int {
		_, al := a.(*lockedIdentity)
		_, bl := b.(*lockedIdentity)
		switch {
		case !al && bl:
			return -1
		case al && !bl:
			return 1
		}
		return 0
	})
	return ids
}

// loadIdentityFile reads one identity file: an SSH private key (OpenSSH or
// PEM; ed25519 or RSA; optionally passphrase-protected) or an age identity
// file of AGE-SECRET-KEY-1 lines.
func loadIdentityFile(name string, ask passphraseFunc) ([]age.Identity, error) {
	shown := textsafe.Sanitize(name, false)
	data, err := readSmallFile(name)
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", shown, err)
	}
	first := firstLine(data)
	switch {
	case bytes.HasPrefix(first, []byte("-----BEGIN")):
		id, err := loadSSHIdentity(name, data, ask)
		if err != nil {
			return nil, fmt.Errorf("identity %s: %w", shown, err)
		}
		return []age.Identity{id}, nil
	case bytes.HasPrefix(first, []byte("age-encryption.org/")):
		return nil, fmt.Errorf("identity %s: passphrase-encrypted age identity files are not supported; decrypt it with age first", shown)
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		// age's messages never quote the file's content (it could be a key).
		return nil, fmt.Errorf("identity %s: not an SSH private key or age identity file: %v", shown, err)
	}
	return ids, nil
}

// loadSSHIdentity parses an SSH private key. A passphrase-protected key is
// wrapped so that its passphrase is asked only when a message is actually
// sealed to it, and at most once.
func loadSSHIdentity(name string, data []byte, ask passphraseFunc) (age.Identity, error) {
	id, err := agessh.ParseIdentity(data)
	var missing *gossh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return nil, fmt.Errorf("unsupported SSH private key (ed25519 and RSA are): %v", err)
		}
		return id, nil
	}
	pub := missing.PublicKey
	if pub == nil {
		// Old PEM-encrypted keys do not carry their public key; ssh-keygen
		// leaves it next to them.
		b, err := readSmallFile(name + ".pub")
		if err != nil {
			return nil, fmt.Errorf("passphrase-protected key without its public key: %w", err)
		}
		pub, _, _, _, err = gossh.ParseAuthorizedKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s.pub: not an SSH public key", textsafe.Sanitize(name, false))
		}
	}
	l := &lockedIdentity{name: name, pem: data, pub: pub, ask: ask}
	l.inner, err = agessh.NewEncryptedSSHIdentity(pub, data, l.unlock)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// errUnlocked tells lockedIdentity.Unwrap that its callback has unlocked the
// key; the inner identity's failure that follows is expected.
var errUnlocked = errors.New("unlocked")

// lockedIdentity is a passphrase-protected SSH key. The inner
// agessh.EncryptedSSHIdentity decides when the passphrase is needed (a stanza
// is addressed to this key); lockedIdentity asks for it at most once per
// file, whatever the outcome, and turns a failure into a no-match so that
// the user's other keys are still tried.
type lockedIdentity struct {
	name  string
	pem   []byte
	pub   gossh.PublicKey
	ask   passphraseFunc
	inner *agessh.EncryptedSSHIdentity

	unlocked age.Identity // set once the passphrase was right
	err      error        // set once asking or unlocking failed: never ask again
	called   bool         // unlock ran during the current Unwrap
}

// unlockError says that a message was sealed to a key that could not be
// unlocked. It wraps age.ErrIncorrectIdentity so age.Decrypt goes on to the
// next identity.
type unlockError struct {
	name string
	err  error
}

func (e *unlockError) Error() string {
	return fmt.Sprintf("could not unlock %s: %v", textsafe.Sanitize(e.name, false), e.err)
}

func (e *unlockError) Unwrap() []error { return []error{age.ErrIncorrectIdentity, e.err} }

// Unwrap implements age.Identity.
func (l *lockedIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if l.unlocked != nil {
		return l.unlocked.Unwrap(stanzas)
	}
	l.called = false
	key, err := l.inner.Unwrap(stanzas) // calls l.unlock only on a match
	switch {
	case l.unlocked != nil:
		return l.unlocked.Unwrap(stanzas)
	case l.called && l.err != nil:
		return nil, &unlockError{name: l.name, err: l.err}
	}
	return key, err
}

// unlock is the inner identity's passphrase callback. It decrypts the key
// itself and keeps the result, so the key derivation (slow on purpose) runs
// once, and a wrong passphrase is not asked for again on every message.
func (l *lockedIdentity) unlock() ([]byte, error) {
	l.called = true
	if l.err != nil {
		return nil, l.err
	}
	pass, err := l.ask(fmt.Sprintf("Enter passphrase for %s: ", textsafe.Sanitize(l.name, false)))
	if err != nil {
		l.err = fmt.Errorf("no passphrase: %w", err)
		return nil, l.err
	}
	raw, err := gossh.ParseRawPrivateKeyWithPassphrase(l.pem, pass)
	clear(pass)
	if errors.Is(err, x509.IncorrectPasswordError) {
		l.err = errors.New("wrong passphrase")
		return nil, l.err
	}
	if err != nil {
		l.err = fmt.Errorf("decrypt key: %v", err)
		return nil, l.err
	}
	id, err := identityFromRaw(raw, l.pub)
	if err != nil {
		l.err = err
		return nil, l.err
	}
	l.unlocked = id
	return nil, errUnlocked
}

// identityFromRaw makes an age identity of a decrypted SSH private key,
// checking that it belongs to the public key the file announced (age would
// otherwise fail later with a less helpful error).
func identityFromRaw(raw any, pub gossh.PublicKey) (age.Identity, error) {
	var (
		id     age.Identity
		public crypto.PublicKey
		err    error
	)
	switch k := raw.(type) {
	case *ed25519.PrivateKey: // x/crypto returns either form
		id, err = agessh.NewEd25519Identity(*k)
		public = k.Public()
	case ed25519.PrivateKey:
		id, err = agessh.NewEd25519Identity(k)
		public = k.Public()
	case *rsa.PrivateKey:
		id, err = agessh.NewRSAIdentity(k)
		public = &k.PublicKey
	default:
		return nil, fmt.Errorf("unsupported SSH private key type %T (ed25519 and RSA are supported)", raw)
	}
	if err != nil {
		return nil, err
	}
	got, err := gossh.NewPublicKey(public)
	if err != nil || !bytes.Equal(got.Marshal(), pub.Marshal()) {
		return nil, errors.New("the private key does not match its public key")
	}
	return id, nil
}

// ttyPassphrase reads a passphrase from the terminal at path (normally
// /dev/tty). Standard input carries the inbox stream and standard error may
// be redirected, so the terminal is the only place to ask.
//
// Echo goes off before the prompt is shown (raw mode), so nothing typed
// ahead is ever echoed. In raw mode Ctrl-C is a plain byte: it ends the
// program, as at ssh's own prompt, after the terminal is restored; Ctrl-D
// skips this key. A signal from elsewhere also restores the terminal first.
func ttyPassphrase(path string) passphraseFunc {
	return func(prompt string) ([]byte, error) {
		tty, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("no terminal to ask on: %w", err)
		}
		defer tty.Close()
		fd := int(tty.Fd())
		if !term.IsTerminal(fd) {
			return nil, fmt.Errorf("no terminal to ask on: %s is not a terminal", path)
		}
		state, err := term.MakeRaw(fd)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		leave := func(status int) {
			term.Restore(fd, state)
			io.WriteString(tty, "\n")
			os.Exit(status)
		}
		sigs := make(chan os.Signal, 1)
		done := make(chan struct{})
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			select {
			case sig := <-sigs:
				leave(128 + int(sig.(syscall.Signal)))
			case <-done:
			}
		}()
		stop := func() {
			signal.Stop(sigs)
			close(done)
		}

		in := &interruptWatcher{r: tty}
		t := term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{in, tty}, "")
		if w, h, err := term.GetSize(fd); err == nil && w > 0 && h > 0 {
			t.SetSize(w, h) // so a long prompt wraps where the terminal does
		}
		line, err := t.ReadPassword(prompt) // writes the prompt, and CRLF after Enter
		stop()
		if in.interrupted {
			leave(130)
		}
		term.Restore(fd, state)
		switch {
		case errors.Is(err, term.ErrPasteIndicator):
			// A pasted passphrase: fine.
		case err == io.EOF:
			io.WriteString(tty, "\n")
			return nil, errors.New("cancelled")
		case err != nil:
			io.WriteString(tty, "\n")
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		return []byte(line), nil
	}
}

// interruptWatcher notes a Ctrl-C byte in what the terminal sends: raw mode
// turns off the signal, and term.Terminal reports Ctrl-C like Ctrl-D.
type interruptWatcher struct {
	r           io.Reader
	interrupted bool
}

func (w *interruptWatcher) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if bytes.IndexByte(p[:n], 3) >= 0 {
		w.interrupted = true
	}
	return n, err
}

// readSmallFile reads a key file, refusing anything absurdly large.
func readSmallFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("larger than %d KiB: not a key file", maxKeyFile>>10)
	}
	return b, nil
}

// firstLine returns the first non-blank line of data, trimmed.
func firstLine(data []byte) []byte {
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		if t := bytes.TrimSpace(line); len(t) > 0 {
			return t
		}
		data = rest
	}
	return nil
}
