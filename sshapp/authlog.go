package sshapp

import (
	"errors"
	"io"
	"net"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

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
