package sshapp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/ssh"
	"github.com/google/renameio/v2"

	"securechat/accounts"
	"securechat/textsafe"
)

// maxMOTD bounds the message of the day, in characters.
const maxMOTD = 2000

// whoLine lists names after a title ("Online (3): alice, bob (away:
// lunch), carol"), with away notes.
func (s *Server) whoLine(title string, members []string) string {
	names := make([]string, 0, len(members))
	for _, n := range members {
		p, _ := s.acc.Prefs(n)
		n = textsafe.Sanitize(n, false)
		if p.Away != "" {
			n += " (away: " + textsafe.Sanitize(p.Away, false) + ")"
		}
		names = append(names, n)
	}
	return fmt.Sprintf("%s (%d): %s", title, len(names), strings.Join(names, ", "))
}

// setAway records (or clears) user's away note, kept with the account.
func (s *Server) setAway(user string, away bool, reason string) ([]string, error) {
	reason = strings.TrimSpace(textsafe.Sanitize(reason, false))
	if away && reason == "" {
		reason = "away"
	}
	reason, _ = textsafe.ClipBytes(reason, accounts.MaxAwayBytes)
	if !away {
		reason = ""
	}
	if err := s.acc.UpdatePrefs(user, func(p *accounts.Prefs) error {
		p.Away = reason
		return nil
	}); err != nil {
		return nil, err
	}
	if away {
		return []string{"You are marked away (" + reason + "). /back when you return."}, nil
	}
	return []string{"Welcome back: you are no longer marked away."}, nil
}

// awayNote is what a sender is told when the recipient is away.
func (s *Server) awayNote(user string) string {
	if p, _ := s.acc.Prefs(user); p.Away != "" {
		return " (" + user + " is away: " + textsafe.Sanitize(p.Away, false) + ")"
	}
	return ""
}

// whois describes a user: since when, keys, away, last seen; admins also
// see the last address.
func (s *Server) whois(asker, arg string) ([]string, error) {
	name := accounts.Normalize(strings.TrimPrefix(strings.TrimSpace(arg), "@"))
	if name == "" {
		return nil, errors.New("usage: /whois USER")
	}
	u, ok := s.acc.Get(name)
	if !ok {
		return nil, fmt.Errorf("no user %s", quoteName(name))
	}
	role := string(u.Role)
	if role == "" {
		role = string(accounts.RoleUser)
	}
	out := []string{fmt.Sprintf("%s: %s, registered %s", u.Name, role, u.Created.UTC().Format("2006-01-02"))}
	if len(u.Keys) == 0 {
		out = append(out, "  keys: none (private messages to them are not sealed)")
	}
	for _, k := range u.Keys {
		out = append(out, "  key: "+k.Type+" "+k.Fingerprint)
	}
	if p, _ := s.acc.Prefs(name); p.Away != "" {
		out = append(out, "  away: "+textsafe.Sanitize(p.Away, false))
	}
	if s.room.Online(name) {
		out = append(out, "  online now")
	} else if t, ok := s.online.lastSeen(name); ok {
		out = append(out, "  last seen "+t.UTC().Format("2006-01-02 15:04 UTC"))
	} else {
		out = append(out, "  not seen since the server started")
	}
	if s.isAdmin(asker) {
		if src, ok := s.online.lastSource(name); ok {
			out = append(out, "  last address "+src.String())
		}
	}
	return out, nil
}

// motd returns the message of the day.
func (s *Server) motd() string {
	s.motdMu.Lock()
	defer s.motdMu.Unlock()
	return s.motdText
}

// loadMOTD reads the message of the day at start; a missing file is none.
func (s *Server) loadMOTD() error {
	if s.cfg.MOTDPath == "" {
		return nil
	}
	b, err := os.ReadFile(s.cfg.MOTDPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read message of the day: %w", err)
	}
	text, _ := textsafe.Clip(strings.TrimSpace(textsafe.Sanitize(string(b), true)), maxMOTD)
	s.motdText = text
	return nil
}

// setMOTD lets an admin change the message of the day; it is written
// atomically so it survives restarts. "-" clears it.
func (s *Server) setMOTD(user, text string) ([]string, error) {
	if !s.isAdmin(user) {
		return nil, errNotAdmin
	}
	if s.cfg.MOTDPath == "" {
		return nil, errors.New("the server keeps no message of the day")
	}
	text = strings.TrimSpace(textsafe.Sanitize(text, true))
	if text == "" {
		return []string{"Message of the day: " + s.motd()}, nil
	}
	if text == "-" {
		text = ""
	}
	if n := len([]rune(text)); n > maxMOTD {
		return nil, fmt.Errorf("at most %d characters", maxMOTD)
	}
	if err := renameio.WriteFile(s.cfg.MOTDPath, []byte(text+"\n"), 0o600); err != nil {
		s.log.Error("save message of the day", "err", err)
		return nil, errors.New("not saved on the server, please try again")
	}
	if d, err := os.Open(filepath.Dir(s.cfg.MOTDPath)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	s.motdMu.Lock()
	s.motdText = text
	s.motdMu.Unlock()
	s.log.Info("admin action", "by", safeName(user), "action", "motd")
	if text == "" {
		return []string{"message of the day cleared"}, nil
	}
	return []string{"message of the day set"}, nil
}

// loginNotices are shown after the welcome: the message of the day, and how
// many sealed messages came while the user was away.
// loginScanLines bounds how far back a login looks for private messages.
const loginScanLines = 100_000

func (s *Server) loginNotices(sess ssh.Session, user string, lastRead uint64) []string {
	var out []string
	if m := s.motd(); m != "" {
		out = append(out, "Message of the day: "+m)
	}
	if lastRead > 0 {
		// Logins must not cost more the longer the user was away: the
		// count looks at the newest loginScanLines messages at most.
		f := sealedLines
		f.MaxLines = loginScanLines
		es, complete, err := s.hist.SinceFiltered(lastRead, sealedFor(user, false), 1000, f)
		open := fmt.Sprintf("Open them on your machine: %s --since %d | securechat-decrypt", s.inboxHint(sess, user), lastRead)
		switch {
		case err != nil:
		case !complete:
			out = append(out, fmt.Sprintf("Private messages may have arrived while you were away (%d among the newest %d messages). %s", len(es), loginScanLines, open))
		case len(es) > 0:
			out = append(out, fmt.Sprintf("%s while you were away. %s", plural(len(es), "private message", "private messages"), open))
		}
	}
	return out
}

// saveLastRead remembers the newest message a session showed in each room.
func (s *Server) saveLastRead(user string, ids map[string]uint64) {
	if len(ids) == 0 {
		return
	}
	err := s.acc.UpdatePrefs(user, func(p *accounts.Prefs) error {
		for name, id := range ids {
			if p.LastRead[name] >= id {
				continue
			}
			if p.LastRead == nil {
				p.LastRead = map[string]uint64{}
			}
			if len(p.LastRead) >= accounts.MaxLastRead {
				continue
			}
			p.LastRead[name] = id
		}
		return nil
	})
	if err != nil {
		s.log.Warn("save last read", "user", safeName(user), "err", err)
	}
}
