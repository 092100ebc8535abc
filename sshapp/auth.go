package sshapp

import (
	"errors"
	"fmt"
	"securechat/textsafe"
	"strconv"
	"strings"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
)

// extUser is the permissions extension that records the account verified by
// an auth handler. charmbracelet/ssh remembers the username of a
// connection's first auth attempt while a client may change the username
// between attempts, so the session trusts only this record, and only when
// the connection's final username names the same account.
const extUser = "securechat-verified-user"

// ErrIdentity: a session's username is not the account that was verified.
var ErrIdentity = errors.New("session user is not the authenticated user")

func setVerified(ctx ssh.Context, name string) {
	perms := ctx.Permissions()
	if perms.Permissions == nil {
		perms.Permissions = &gossh.Permissions{}
	}
	if perms.Extensions == nil {
		perms.Extensions = map[string]string{}
	}
	perms.Extensions[extUser] = name
}

// verifiedUser returns the account a session belongs to: the one an auth
// handler verified, provided the username the connection ended with and the
// username the context recorded both name it. Anything else is refused.
func verifiedUser(ctx ssh.Context, connUser string) (string, error) {
	perms := ctx.Permissions()
	if perms == nil || perms.Permissions == nil {
		return "", ErrIdentity
	}
	v := perms.Extensions[extUser]
	if v == "" || accounts.Normalize(connUser) != v || accounts.Normalize(ctx.User()) != v {
		return "", ErrIdentity
	}
	return v, nil
}

func remote(ctx ssh.Context) string {
	if a := ctx.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// quoteName makes a peer-chosen name safe for a message to a user:
// sanitised, capped and quoted.
func quoteName(name string) string {
	return strconv.Quote(safeName(name))
}

// safeName makes a peer-chosen string safe for a log value: sanitised (no
// control character can start a new line or forge a key) and capped. The
// logger quotes values that need it.
func safeName(name string) string {
	s, _ := textsafe.Clip(textsafe.Sanitize(name, false), 64)
	return s
}

// passwordHandler serves clients that only speak the plain password method.
// An unknown name registers with the password given, since such a client
// cannot be asked to confirm it.
func (s *Server) passwordHandler(ctx ssh.Context, password string) (ok bool) {
	defer s.recoverPanic("password auth")
	name := accounts.Normalize(ctx.User())
	if err := accounts.ValidateUsername(name); err != nil {
		s.log.Info("login refused", "user", safeName(ctx.User()), "remote", remote(ctx), "err", err)
		s.failed(ctx)
		return false
	}
	if s.acc.Exists(name) || !s.conf().AllowRegister {
		// Unknown names cost one bcrypt run too, so timing tells nothing.
		return s.verifyPassword(ctx, name, password, "password")
	}
	if err := s.checkNewPassword(name, password); err != nil {
		s.log.Info("registration refused", "user", safeName(name), "remote", remote(ctx), "err", err)
		s.failed(ctx)
		return false
	}
	return s.register(ctx, name, password) == nil
}

func (s *Server) verifyPassword(ctx ssh.Context, name, password, method string) bool {
	if err := s.checkPassword(ctx, name, password, method); err != nil {
		return false
	}
	return s.grant(ctx, name, method)
}

// grant records the verified account for the session to trust, unless the
// account is banned.
func (s *Server) grant(ctx ssh.Context, name, method string) bool {
	if err := s.loginAllowed(ctx, name); err != nil {
		s.log.Info("login refused", "user", safeName(name), "remote", remote(ctx), "err", err)
		s.cfg.Observer.Login(method, "refused")
		return false
	}
	setVerified(ctx, name)
	s.cfg.Observer.Login(method, "ok")
	client, _ := textsafe.Clip(textsafe.Sanitize(ctx.ClientVersion(), false), 100)
	s.log.Info("login", "user", safeName(name), "remote", remote(ctx), "method", method, "client", strconv.Quote(client))
	return true
}

func (s *Server) register(ctx ssh.Context, name, password string) error {
	if err := s.registerUser(ctx, name, password); err != nil {
		s.log.Info("registration failed", "user", safeName(name), "remote", remote(ctx), "err", err)
		return err
	}
	s.log.Info("registered", "user", safeName(name), "remote", remote(ctx))
	s.cfg.Observer.Registered()
	return s.grantErr(ctx, name, "register")
}

func (s *Server) grantErr(ctx ssh.Context, name, method string) error {
	if !s.grant(ctx, name, method) {
		return errors.New("login refused")
	}
	return nil
}

// keyboardInteractiveHandler lets the server talk to the person logging in:
// a known name is asked for its password; a new name is told it is new and
// asked for a password twice, with the reason for any refusal.
func (s *Server) keyboardInteractiveHandler(ctx ssh.Context, challenge gossh.KeyboardInteractiveChallenge) (ok bool) {
	defer s.recoverPanic("keyboard-interactive auth")
	name := accounts.Normalize(ctx.User())
	if err := accounts.ValidateUsername(name); err != nil {
		s.log.Info("login refused", "user", safeName(ctx.User()), "remote", remote(ctx), "err", err)
		_, _ = challenge("", "securechat: "+err.Error()+"\n", nil, nil)
		// A name that can never log in: end the connection rather than
		// let the client ask for passwords that cannot work.
		if ci := connOf(ctx); ci != nil {
			_ = ci.conn.Close()
		}
		return false
	}
	if s.acc.Exists(name) || !s.conf().AllowRegister {
		answers, err := challenge("", "", []string{"Password: "}, []bool{false})
		if err != nil || len(answers) != 1 {
			return false
		}
		return s.verifyPassword(ctx, name, answers[0], "keyboard-interactive")
	}
	instruction := fmt.Sprintf("Welcome to securechat! %q is a new name here.\n"+
		"Choose a password to register it: at least %d characters, at most %d bytes, not containing the username, and not easy to guess.\n",
		name, accounts.MinPasswordLen, accounts.MaxPasswordBytes)
	for range 3 {
		answers, err := challenge("", instruction, []string{"New password: ", "Repeat password: "}, []bool{false, false})
		if err != nil || len(answers) != 2 {
			return false
		}
		if answers[0] != answers[1] {
			instruction = "The two passwords were not the same. Please try again.\n"
			continue
		}
		if err := s.checkNewPassword(name, answers[0]); err != nil {
			instruction = "That password cannot be used: " + err.Error() + ". Please choose another.\n"
			continue
		}
		err = s.register(ctx, name, answers[0])
		if err == nil {
			return true
		}
		switch {
		case errors.Is(err, accounts.ErrUserExists):
			_, _ = challenge("", fmt.Sprintf("securechat: %q was registered by someone else just now.\n", name), nil, nil)
		case errors.Is(err, accounts.ErrInvalid) || isLimitReason(err):
			_, _ = challenge("", "securechat: "+err.Error()+"\n", nil, nil)
		default:
			_, _ = challenge("", "securechat: registration failed on the server; please try again later.\n", nil, nil)
		}
		return false
	}
	s.failed(ctx)
	return false
}

// isLimitReason reports errors whose text is written for the user.
func isLimitReason(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "too many") || strings.HasPrefix(msg, "the server is busy") || strings.HasPrefix(msg, "login refused")
}
