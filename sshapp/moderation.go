package sshapp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"

	"securechat/accounts"
	"securechat/textsafe"
)

// onlineConns remembers each user's live connections and the source they
// came from, so an admin can end them (kick, ban) and ban an address.
type onlineConns struct {
	mu    sync.Mutex
	conns map[string]map[*connInfo]int // user -> connection -> sessions
	last  map[string]netip.Prefix      // user -> last source seen
	seen  map[string]time.Time         // user -> when their last session ended
}

func (o *onlineConns) add(user string, ci *connInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conns == nil {
		o.conns, o.last, o.seen = map[string]map[*connInfo]int{}, map[string]netip.Prefix{}, map[string]time.Time{}
	}
	if o.conns[user] == nil {
		o.conns[user] = map[*connInfo]int{}
	}
	o.conns[user][ci]++
	o.last[user] = ci.src
	// Bound memory: forget the oldest sources once many users came by.
	if len(o.last) > 100000 {
		for u := range o.last {
			if o.conns[u] == nil {
				delete(o.last, u)
				delete(o.seen, u)
			}
		}
	}
}

func (o *onlineConns) remove(user string, ci *connInfo) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if m := o.conns[user]; m != nil {
		if m[ci]--; m[ci] <= 0 {
			delete(m, ci)
		}
		if len(m) == 0 {
			delete(o.conns, user)
			o.seen[user] = time.Now()
		}
	}
}

func (o *onlineConns) of(user string) []*connInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*connInfo
	for ci := range o.conns[user] {
		out = append(out, ci)
	}
	return out
}

func (o *onlineConns) lastSource(user string) (netip.Prefix, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.last[user]
	return p, ok
}

// removedError ends a session for a reason the user is shown.
type removedError struct{ msg string }

func (e removedError) Error() string { return e.msg }

// endSessions tells every UI of user why it ends, then cuts the user's
// connections, exec sessions included, a moment later.
func (s *Server) endSessions(user, why string) {
	s.room.Disconnect(user, removedError{why})
	conns := s.online.of(user)
	time.AfterFunc(time.Second, func() {
		for _, ci := range conns {
			_ = ci.conn.Close()
		}
	})
}

// loginAllowed refuses banned accounts and banned addresses.
func (s *Server) loginAllowed(ctx ssh.Context, name string) error {
	now := s.cfg.Now()
	if b, ok := s.acc.ActiveBan(name, now); ok {
		return fmt.Errorf("account banned%s", banEnd(b))
	}
	if ci := connOf(ctx); ci != nil {
		if who, b, ok := s.acc.BannedSource(ci.src, now); ok {
			return fmt.Errorf("address banned with %s%s", who, banEnd(b))
		}
	}
	return nil
}

func banEnd(b accounts.Ban) string {
	if b.Until.IsZero() {
		return " until lifted"
	}
	return " until " + b.Until.UTC().Format("2006-01-02 15:04 UTC")
}

// isAdmin reports whether user holds the admin role now.
func (s *Server) isAdmin(user string) bool {
	u, ok := s.acc.Get(user)
	return ok && u.Role == accounts.RoleAdmin
}

// checkMuted refuses anything a muted user tries to post.
func (s *Server) checkMuted(user string) error {
	if until, ok := s.acc.MutedUntil(user, s.cfg.Now()); ok {
		return fmt.Errorf("you are muted by an admin until %s", until.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return nil
}

// parseDuration reads durations as admins type them: Go's forms plus days
// and weeks ("30m", "12h", "7d", "2w").
func parseDuration(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	mult := time.Duration(0)
	switch s[len(s)-1] {
	case 'd':
		mult = 24 * time.Hour
	case 'w':
		mult = 7 * 24 * time.Hour
	}
	if mult != 0 {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 || n > 3650 {
			return 0, false
		}
		return time.Duration(n) * mult, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, false
	}
	return d, true
}

// errNotAdmin is the refusal everyone but admins gets.
var errNotAdmin = errors.New("only admins can do that")

// moderate runs an admin command (kick, mute, unmute, ban, unban, bans) by
// admin and returns the lines to show.
func (s *Server) moderate(admin, cmd string, args []string) ([]string, error) {
	if !s.isAdmin(admin) {
		s.log.Warn("admin command refused", "by", safeName(admin), "action", cmd)
		return nil, errNotAdmin
	}
	if cmd == "bans" {
		var out []string
		for _, u := range s.acc.Bans(s.cfg.Now()) {
			b := u.Ban
			line := fmt.Sprintf("%s banned by %s%s", u.Name, b.By, banEnd(*b))
			if b.Source != "" {
				line += ", address " + b.Source
			}
			if b.Reason != "" {
				line += ": " + b.Reason
			}
			out = append(out, line)
		}
		if len(out) == 0 {
			out = []string{"nobody is banned"}
		}
		return out, nil
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("usage: /%s USER", cmd)
	}
	target := accounts.Normalize(strings.TrimPrefix(args[0], "@"))
	if _, ok := s.acc.Get(target); !ok {
		return nil, fmt.Errorf("no user %s", quoteName(target))
	}
	if target == admin && cmd != "unmute" && cmd != "unban" {
		return nil, errors.New("not on yourself")
	}
	rest := args[1:]
	var dur time.Duration
	if len(rest) > 0 {
		if d, ok := parseDuration(rest[0]); ok {
			dur, rest = d, rest[1:]
		}
	}
	now := s.cfg.Now()
	var out string
	switch cmd {
	case "kick":
		s.endSessions(target, "you were removed from the room by "+admin)
		out = "kicked " + target
	case "mute":
		until := now.Add(100 * 365 * 24 * time.Hour)
		if dur > 0 {
			until = now.Add(dur)
		}
		if err := s.acc.SetMute(target, until); err != nil {
			return nil, err
		}
		when := "until unmuted"
		if dur > 0 {
			when = "until " + until.UTC().Format("2006-01-02 15:04 UTC")
		}
		s.room.Notify(target, "You were muted by "+admin+" "+when+".")
		out = "muted " + target + " " + when
	case "unmute":
		if err := s.acc.SetMute(target, time.Time{}); err != nil {
			return nil, err
		}
		s.room.Notify(target, "You can talk again.")
		out = "unmuted " + target
	case "ban":
		byAddr := false
		var words []string
		for _, w := range rest {
			if w == "--addr" || w == "+addr" {
				byAddr = true
				continue
			}
			words = append(words, w)
		}
		reason, _ := textsafe.ClipBytes(textsafe.Sanitize(strings.Join(words, " "), false), accounts.MaxBanReasonBytes)
		b := accounts.Ban{Reason: reason, By: admin, At: now}
		if dur > 0 {
			b.Until = now.Add(dur)
		}
		if byAddr {
			src, ok := s.online.lastSource(target)
			if !ok {
				return nil, fmt.Errorf("no address known for %s since the server started", target)
			}
			b.Source = src.String()
		}
		if err := s.acc.SetBan(target, b); err != nil {
			return nil, err
		}
		why := "you were banned by " + admin + banEnd(b)
		if reason != "" {
			why += ": " + reason
		}
		s.endSessions(target, why)
		out = "banned " + target + banEnd(b)
		if b.Source != "" {
			out += " and address " + b.Source
		}
	case "unban":
		if err := s.acc.Unban(target); err != nil {
			if errors.Is(err, accounts.ErrNotBanned) {
				return nil, fmt.Errorf("%s is not banned", target)
			}
			return nil, err
		}
		out = "unbanned " + target
	default:
		return nil, fmt.Errorf("unknown admin command %s", cmd)
	}
	s.log.Info("admin action", "by", safeName(admin), "action", cmd, "target", safeName(target), "args", safeName(strings.Join(args[1:], " ")))
	return []string{out}, nil
}

// cmdAdmin serves `admin ...` over SSH: the moderation commands and
// `admin user list|add|passwd|del|role`, the online twin of the offline
// `securechat user` command.
func (s *Server) cmdAdmin(sess ssh.Session, user string, args []string) int {
	const usage = "usage: admin user list | user add NAME | user passwd NAME | user del NAME | user role NAME admin|user\n" +
		"       admin kick|mute|unmute|ban|unban USER [DURATION] [REASON] | admin bans | admin backup [--gzip] > FILE\n"
	if !s.isAdmin(user) {
		s.log.Warn("admin command refused", "by", safeName(user))
		fmt.Fprintln(sess.Stderr(), "securechat: only admins can use admin")
		return 1
	}
	if len(args) == 0 {
		fmt.Fprint(sess.Stderr(), usage)
		return 2
	}
	if args[0] == "backup" {
		return s.cmdBackup(sess, user, args[1:])
	}
	if args[0] != "user" {
		lines, err := s.moderate(user, args[0], args[1:])
		if err != nil {
			fmt.Fprintf(sess.Stderr(), "securechat: %s\n", textsafe.Sanitize(err.Error(), false))
			return 1
		}
		for _, l := range lines {
			fmt.Fprintln(sess, l)
		}
		return 0
	}
	args = args[1:]
	if len(args) == 0 {
		fmt.Fprint(sess.Stderr(), usage)
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(sess.Stderr(), "securechat: admin user %s: %s\n", args[0], textsafe.Sanitize(err.Error(), false))
		return 1
	}
	switch {
	case args[0] == "list" && len(args) == 1:
		now := s.cfg.Now()
		for _, u := range s.acc.List() {
			role := u.Role
			if role == "" {
				role = accounts.RoleUser
			}
			line := fmt.Sprintf("%s %s created=%s keys=%d", u.Name, role, u.Created.UTC().Format("2006-01-02"), len(u.Keys))
			if _, ok := s.acc.ActiveBan(u.Name, now); ok {
				line += " banned"
			}
			if _, ok := s.acc.MutedUntil(u.Name, now); ok {
				line += " muted"
			}
			fmt.Fprintln(sess, line)
		}
		return 0
	case (args[0] == "add" || args[0] == "passwd") && len(args) == 2:
		name := accounts.Normalize(args[1])
		pw, err := readPasswordLine(sess)
		if err != nil {
			return fail(err)
		}
		if err := s.checkNewPassword(name, pw); err != nil {
			return fail(err)
		}
		if args[0] == "add" {
			_, err = s.acc.Register(name, pw)
		} else {
			err = s.acc.SetPassword(name, pw)
		}
		if err != nil {
			return fail(err)
		}
		s.log.Info("admin action", "by", safeName(user), "action", "user "+args[0], "target", safeName(name))
		fmt.Fprintf(sess, "%s: done\n", name)
		return 0
	case args[0] == "del" && len(args) == 2:
		name := accounts.Normalize(args[1])
		if name == user {
			return fail(errors.New("not on yourself"))
		}
		if err := s.acc.Delete(name); err != nil {
			return fail(err)
		}
		s.endSessions(name, "your account was deleted by "+user)
		s.log.Info("admin action", "by", safeName(user), "action", "user del", "target", safeName(name))
		fmt.Fprintf(sess, "%s: deleted\n", name)
		return 0
	case args[0] == "role" && len(args) == 3 && (args[2] == "admin" || args[2] == "user"):
		name := accounts.Normalize(args[1])
		if err := s.acc.SetRole(name, accounts.Role(args[2])); err != nil {
			return fail(err)
		}
		s.log.Info("admin action", "by", safeName(user), "action", "user role", "target", safeName(name), "role", args[2])
		fmt.Fprintf(sess, "%s: role %s\n", name, args[2])
		return 0
	}
	fmt.Fprint(sess.Stderr(), usage)
	return 2
}

// readPasswordLine reads one password line from a script's standard input.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("give the password on standard input")
	}
	return line, nil
}

// setIgnore adds or removes name from user's ignore list and returns the
// new list.
func (s *Server) setIgnore(user, name string, ignore bool) ([]string, error) {
	name = accounts.Normalize(strings.TrimPrefix(strings.TrimSpace(name), "@"))
	if err := accounts.ValidateUsername(name); err != nil {
		return nil, err
	}
	if name == user {
		return nil, errors.New("you cannot ignore yourself")
	}
	if ignore {
		if _, ok := s.acc.Get(name); !ok {
			return nil, fmt.Errorf("no user %s", quoteName(name))
		}
	}
	var list []string
	err := s.acc.UpdatePrefs(user, func(p *accounts.Prefs) error {
		p.Ignore = slices.DeleteFunc(p.Ignore, func(n string) bool { return n == name })
		if ignore {
			p.Ignore = append(p.Ignore, name)
		}
		list = append([]string(nil), p.Ignore...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

func (o *onlineConns) lastSeen(user string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.seen[user]
	return t, ok
}
