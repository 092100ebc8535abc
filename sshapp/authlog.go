package sshapp

import (
	"errors"
	"io"
	"net"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"securechat/accounts"
	"securechat/textsafe"
)

// logAuth is x/crypto's AuthLogCallback for one connection: it runs after
// every real authentication attempt (never on a public key query), so a
// login is logged only once the connection is authenticated. On a refusal
// it sends the client the reason an auth handler left for it, as an SSH
// banner, which every client shows (a password prompt cannot carry text).
func (s *Server) logAuth(ctx ssh.Context) func(gossh.ConnMetadata, string, error) {
	return func(conn gossh.ConnMetadata, method string, err error) {
		if err == nil {
			user, verr := verifiedUser(ctx, conn.User())
			if verr != nil {
				return // refused at the session, and logged there
			}
			client, _ := textsafe.Clip(string(conn.ClientVersion()), 100)
			s.log.Info("login", "user", safeName(user), "remote", remote(ctx), "method", method, "client", safeName(client))
			return
		}
		if msg := takeBanner(ctx); msg != "" {
			if b, ok := conn.(interface{ SendAuthBanner(string) error }); ok {
				_ = b.SendAuthBanner(msg)
			}
		}
	}
}

type bannerKey struct{}

// leaveBanner records a message for the client, sent with the refusal of
// the current authentication attempt.
func leaveBanner(ctx ssh.Context, msg string) {
	ctx.SetValue(bannerKey{}, msg)
}

// pendingBanner is the message leaveBanner left, not yet sent.
func pendingBanner(ctx ssh.Context) string {
	msg, _ := ctx.Value(bannerKey{}).(string)
	return msg
}

func takeBanner(ctx ssh.Context) string {
	ctx.Lock()
	defer ctx.Unlock()
	msg, _ := ctx.Value(bannerKey{}).(string)
	if msg != "" {
		ctx.SetValue(bannerKey{}, "")
	}
	return msg
}

// logConnEnd logs why an authenticated connection ended, when that was not
// a plain hang-up: a packet over the size limit, a MAC failure, a protocol
// error.
func (s *Server) logConnEnd(ctx ssh.Context) {
	c, ok := ctx.Value(ssh.ContextKeyConn).(gossh.Conn)
	if !ok {
		return
	}
	if err := c.Wait(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		s.log.Info("connection ended", "user", safeName(c.User()), "remote", remote(ctx), "err", safeName(err.Error()))
	}
}

// bannerCallback runs at a connection's first authentication request: it
// keeps the connection's means of sending banners, and tells a blocked
// address why it is refused.
func (s *Server) bannerCallback(ctx ssh.Context) func(gossh.ConnMetadata) string {
	return func(conn gossh.ConnMetadata) string {
		ci := connOf(ctx)
		if ci == nil {
			return ""
		}
		ci.mu.Lock()
		ci.sender, _ = conn.(bannerSender)
		blocked := ci.blocked
		ci.mu.Unlock()
		if !blocked.IsZero() {
			return s.blockedNotice(blocked)
		}
		return ""
	}
}

// verifiedKey runs once a client has proved it holds the key it offered
// (the public key handler also runs on mere queries). Only now is a
// banned user told of the ban: someone with only the public key learns
// nothing. It also checks the proven key itself belongs to the account.
func (s *Server) verifiedKey(ctx ssh.Context) func(gossh.ConnMetadata, gossh.PublicKey, *gossh.Permissions, string) (*gossh.Permissions, error) {
	return func(conn gossh.ConnMetadata, key gossh.PublicKey, perms *gossh.Permissions, _ string) (*gossh.Permissions, error) {
		name := accounts.Normalize(conn.User())
		if u, ok := s.acc.UserByKey(gossh.FingerprintSHA256(key)); !ok || u.Name != name {
			return nil, errors.New("key does not belong to the user")
		}
		if err := s.loginAllowed(ctx, name); err != nil {
			s.log.Info("login refused", "user", safeName(name), "remote", remote(ctx), "err", err)
			leaveBanner(ctx, s.banNotice(ctx, name))
			return nil, err
		}
		return perms, nil
	}
}
