package sshapp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/charmbracelet/ssh"

	"securechat/accounts"
	"securechat/history"
	"securechat/room"
	"securechat/textsafe"
)

const (
	armorBegin = "-----BEGIN AGE ENCRYPTED FILE-----"
	armorEnd   = "-----END AGE ENCRYPTED FILE-----"
	// sealedHeader starts each message in `inbox` output; the decrypt helper
	// parses it.
	sealedHeader = "securechat-sealed"
)

// seal encrypts text with age to every recipient, armored, so the result is
// a standard age file that `age -d` opens too.
func seal(recipients []age.Recipient, text string) (string, error) {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, recipients...)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	if _, err := io.WriteString(w, text); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	if err := aw.Close(); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	buf.WriteByte('\n')
	return buf.String(), nil
}

// recipientsOf returns age recipients for every key of the given users,
// each key once.
func (s *Server) recipientsOf(users ...string) ([]age.Recipient, error) {
	seen := map[string]bool{}
	var out []age.Recipient
	for _, name := range users {
		u, _ := s.acc.Get(name)
		for _, k := range u.Keys {
			if seen[k.Fingerprint] {
				continue
			}
			seen[k.Fingerprint] = true
			r, err := recipientFor(k)
			if err != nil {
				return nil, fmt.Errorf("key %s of %s: %w", k.Fingerprint, name, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// privateMessage sends text from one user to another. When the recipient has
// keys it is sealed to their keys and the sender's, and only the ciphertext
// is stored and relayed: the plaintext is forgotten here. Without keys it
// reaches the recipient's live sessions only and is never stored.
func (s *Server) privateMessage(ctx context.Context, from, to, text string) (string, error) {
	to = accounts.Normalize(strings.TrimPrefix(strings.TrimSpace(to), "@"))
	if err := accounts.ValidateUsername(to); err != nil {
		return "", err
	}
	target, ok := s.acc.Get(to)
	if !ok {
		return "", fmt.Errorf("no user %s", quoteName(to))
	}
	text = strings.TrimSpace(textsafe.Sanitize(text, true))
	if text == "" {
		return "", errors.New("empty message")
	}
	if n := len([]rune(text)); n > s.conf().MaxMessage {
		return "", fmt.Errorf("message too long: %d characters, at most %d", n, s.conf().MaxMessage)
	}
	if err := s.checkMuted(from); err != nil {
		return "", err
	}
	if err := s.checkFlood(from); err != nil {
		return "", err
	}
	if len(target.Keys) == 0 {
		if _, err := s.room.SendPrivate(from, to, text); err != nil {
			if errors.Is(err, room.ErrNotOnline) {
				return "", fmt.Errorf("%s is offline; not sent. Messages can wait for %s once they upload a key (keys add)", to, to)
			}
			return "", err
		}
		return fmt.Sprintf("private message to %s delivered to their open sessions (not stored: %s has no key)%s", to, to, s.awayNote(to)), nil
	}
	recipients, err := s.recipientsOf(to, from)
	if err != nil {
		s.log.Error("build recipients", "user", safeName(to), "err", err)
		return "", errors.New("could not seal to this user's keys")
	}
	armored, err := seal(recipients, text)
	if err != nil {
		return "", err
	}
	m, err := s.room.Publish(ctx, room.Message{Kind: room.KindSealed, From: from, To: to, Text: armored})
	if err != nil {
		s.log.Error("sealed message not saved", "user", safeName(from), "err", err)
		return "", notSaved(err)
	}
	return fmt.Sprintf("sealed message #%d to %s sent (sealed to %s; the server keeps only ciphertext)%s", m.ID, to, plural(len(recipients), "key", "keys"), s.awayNote(to)), nil
}

// checkArmoredAge accepts only a well-formed armored age file: the armor
// decodes, the age header parses, and a payload follows. What is stored is
// exactly what the sender sealed.
func checkArmoredAge(b []byte, limit int) (string, error) {
	if len(b) > limit {
		return "", fmt.Errorf("too large: at most %d bytes of armored age", limit)
	}
	text := strings.TrimSpace(string(b))
	if text == "" {
		return "", errors.New("the input was empty: pipe in the armored age file to send, e.g. securechat-decrypt --encrypt --to USER -R USER.keys | ssh ... dm USER")
	}
	if !strings.HasPrefix(text, armorBegin) || !strings.HasSuffix(text, armorEnd) {
		return "", errors.New("not an armored age file (age -a): it must start with " + armorBegin)
	}
	for i := 0; i < len(text); i++ {
		if c := text[i]; (c < 0x20 || c > 0x7e) && c != '\n' && c != '\r' {
			return "", errors.New("not an armored age file: unexpected bytes")
		}
	}
	data, err := io.ReadAll(armor.NewReader(strings.NewReader(text)))
	if err != nil {
		return "", fmt.Errorf("malformed armor: %v", err)
	}
	hdr, err := age.ExtractHeader(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("not an age file: %v", err)
	}
	// A payload is a 16-byte nonce and at least one 16-byte tagged chunk.
	if len(data)-len(hdr) < 32 {
		return "", errors.New("truncated age file: no payload")
	}
	return strings.ReplaceAll(text, "\r\n", "\n") + "\n", nil
}

// relaySealed stores and relays a message the sender sealed on their own
// machine; the server never sees its plaintext.
func (s *Server) relaySealed(ctx context.Context, from, to string, armored []byte) (room.Message, error) {
	to = accounts.Normalize(to)
	if err := accounts.ValidateUsername(to); err != nil {
		return room.Message{}, err
	}
	if _, ok := s.acc.Get(to); !ok {
		return room.Message{}, fmt.Errorf("no user %s", quoteName(to))
	}
	text, err := checkArmoredAge(armored, s.cfg.MaxSealed)
	if err != nil {
		return room.Message{}, err
	}
	if err := s.checkMuted(from); err != nil {
		return room.Message{}, err
	}
	if err := s.checkFlood(from); err != nil {
		return room.Message{}, err
	}
	m, err := s.room.Publish(ctx, room.Message{Kind: room.KindSealed, From: from, To: to, Text: text})
	if err != nil {
		s.log.Error("sealed message not saved", "user", safeName(from), "err", err)
		return m, notSaved(err)
	}
	return m, nil
}

func (s *Server) cmdMsg(sess ssh.Session, user string, args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(sess.Stderr(), "securechat: usage: msg USER TEXT... (or the text on standard input)")
		return 2
	}
	text := strings.Join(args[1:], " ")
	if text == "" {
		b, err := io.ReadAll(io.LimitReader(sess, int64(s.conf().MaxMessage)*4+1))
		if err != nil {
			return 1
		}
		text = string(b)
	}
	notice, err := s.privateMessage(sess.Context(), user, args[0], text)
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "securechat: msg: %s\n", textsafe.Sanitize(err.Error(), false))
		return 1
	}
	fmt.Fprintln(sess, notice)
	return 0
}

func (s *Server) cmdDM(sess ssh.Session, user string, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(sess.Stderr(), "securechat: usage: dm USER < message.age   (an armored age file sealed to USER's keys, see pubkey USER)")
		return 2
	}
	b, err := io.ReadAll(io.LimitReader(sess, int64(s.cfg.MaxSealed)+1))
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "securechat: read standard input: %v\n", err)
		return 1
	}
	m, err := s.relaySealed(sess.Context(), user, args[0], b)
	if err != nil {
		fmt.Fprintf(sess.Stderr(), "securechat: dm: %s\n", textsafe.Sanitize(err.Error(), false))
		return 1
	}
	fmt.Fprintf(sess, "sealed message #%d to %s stored\n", m.ID, m.To)
	return 0
}

// sealedFor keeps sealed messages user receives, and with sent also those
// user sent (a message sealed on the sender's machine may not be sealed to
// the sender's own keys).
// sealedLines makes reads for sealed messages skip, undecoded, every line
// of the log that is not one: they are rare among the room's messages.
var sealedLines = history.Filter{Contains: []byte(`"kind":"` + string(room.KindSealed) + `"`)}

func sealedFor(user string, sent bool) func(history.Entry) bool {
	return func(e history.Entry) bool {
		return e.Kind == string(room.KindSealed) && (e.To == user || sent && e.From == user)
	}
}

// inboxUsage is how the inbox command is called.
const inboxUsage = "inbox [--since ID] [-n N] [--sent]"

func (s *Server) cmdInbox(sess ssh.Session, user string, args []string) int {
	fs := flag.NewFlagSet("inbox", flag.ContinueOnError)
	since := fs.Uint64("since", 0, "only messages with an id above this")
	n := fs.Int("n", 50, "at most this many messages")
	sent := fs.Bool("sent", false, "also list the sealed messages you sent")
	if code, ok := parseArgs(fs, args, sess.Stderr(), inboxUsage); !ok {
		return code
	}
	if fs.NArg() > 0 || *n < 1 || *n > 10000 {
		fmt.Fprintf(sess.Stderr(), "securechat: usage: %s  (N from 1 to 10000)\n", inboxUsage)
		return 2
	}
	var es []history.Entry
	var err error
	if *since > 0 {
		es, _, err = s.hist.SinceFiltered(*since, sealedFor(user, *sent), *n, sealedLines)
	} else {
		es, _, err = s.hist.TailFiltered(*n, sealedFor(user, *sent), sealedLines)
	}
	if err != nil {
		s.log.Error("read inbox", "err", err)
		fmt.Fprintln(sess.Stderr(), "securechat: inbox could not be read")
		return 1
	}
	w := bufio.NewWriter(sess)
	for i, e := range es {
		if i > 0 {
			w.WriteByte('\n')
		}
		fmt.Fprintf(w, "%s id=%d time=%s from=%s to=%s\n", sealedHeader, e.ID, e.Time.UTC().Format("2006-01-02T15:04:05Z"), e.From, e.To)
		// Stored text passed checkArmoredAge or came from seal; sanitise
		// anyway so an edited file cannot reach a terminal raw.
		w.WriteString(textsafe.Sanitize(strings.TrimRight(e.Text, "\n"), true))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return 1
	}
	return 0
}
