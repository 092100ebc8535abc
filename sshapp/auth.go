package sshapp

import (
	"errors"
	"fmt"
	"securechat/textsafe"
	"strconv"

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

// quoteName makes a peer-chosen username safe for a log line: sanitised,
// capped, and quoted, so it can never forge a line or a key.
func quoteName(name string) string {
	s, _ := textsafe.Clip(textsafe.Sanitize(name, false), 64)
	return strconv.Quote(s)
}

// passwordHandler serves clients that only speak the plain password method.
// An unknown name registers with the password given, since such a client
// cannot be asked to confirm it.
func (s *Server) passwordHandler(ctx ssh.Context, password string) (ok bool) {
	defer s.recoverPanic("password auth")
	name := accounts.Normalize(ctx.User())
	if err := accounts.ValidateUsername(name); err != nil {
		s.log.Info("login refused", "user", quoteName(ctx.User()), "remote", remote(ctx), "err", err)
		return false
	}
	if s.acc.Exists(name) {
		return s.verifyPassword(ctx, name, password, "password")
	}
	if !s.cfg.AllowRegister {
		s.verifyPassword(ctx, name, password, "password") // same cost as a real miss
		return false
	}
	if err := accounts.CheckNewPassword(name, password); err != nil {
		s.log.Info("registration refused", "user", quoteName(name), "remote", remote(ctx), "err", err)
		return false
	}
	return s.register(ctx, name, password)
}

func (s *Server) verifyPassword(ctx ssh.Context, name, password, method string) bool {
	if _, err := s.acc.Verify(name, password); err != nil {
		s.log.Info("login failed", "user", quoteName(name), "remote", remote(ctx), "method", method, "err", err)
		return false
	}
	setVerified(ctx, name)
	s.log.Info("login", "user", quoteName(name), "remote", remote(ctx), "method", method)
	return true
}

func (s *Server) register(ctx ssh.Context, name, password string) bool {
	if _, err := s.acc.Register(name, password); err != nil {
		s.log.Info("registration failed", "user", quoteName(name), "remote", remote(ctx), "err", err)
		return false
	}
	setVerified(ctx, name)
	s.log.Info("registered", "user", quoteName(name), "remote", remote(ctx))
	return true
}

// keyboardInteractiveHandler lets the server talk to the person logging in:
// a known name is asked for its password; a new name is told it is new and
// asked for a password twice, with the reason for any refusal.
func (s *Server) keyboardInteractiveHandler(ctx ssh.Context, challenge gossh.KeyboardInteractiveChallenge) (ok bool) {
	defer s.recoverPanic("keyboard-interactive auth")
	name := accounts.Normalize(ctx.User())
	if err := accounts.ValidateUsername(name); err != nil {
		s.log.Info("login refused", "user", quoteName(ctx.User()), "remote", remote(ctx), "err", err)
		_, _ = challenge("", "securechat: "+err.Error()+"\n", nil, nil)
		return false
	}
	if s.acc.Exists(name) || !s.cfg.AllowRegister {
		answers, err := challenge("", "", []string{"Password: "}, []bool{false})
		if err != nil || len(answers) != 1 {
			return false
		}
		return s.verifyPassword(ctx, name, answers[0], "keyboard-interactive")
	}
	instruction := fmt.Sprintf("Welcome to securechat! %q is a new name here.\n"+
		"Choose a password to register it: at least %d characters, at most %d bytes, not the username.\n",
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
		if err := accounts.CheckNewPassword(name, answers[0]); err != nil {
			instruction = "That password cannot be used: " + err.Error() + ". Please choose another.\n"
			continue
		}
		if s.register(ctx, name, answers[0]) {
			return true
		}
		if s.acc.Exists(name) {
			_, _ = challenge("", fmt.Sprintf("securechat: %q was registered by someone else just now.\n", name), nil, nil)
		} else {
			_, _ = challenge("", "securechat: registration failed on the server; please try again later.\n", nil, nil)
		}
		return false
	}
	return false
}
