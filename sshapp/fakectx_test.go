package sshapp

import (
	"context"
	"net"
	"sync"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// fakeContext is one connection's context as charmbracelet/ssh builds it:
// the username of the first attempt, and permissions that the auth
// callbacks write into. It lets a test drive the auth handlers across
// several attempts of one connection, which x/crypto/ssh's client cannot do
// with different usernames.
type fakeContext struct {
	context.Context
	sync.Mutex
	user   string
	values map[any]any
	perms  *ssh.Permissions
}

func newFakeContext(user string) *fakeContext {
	return &fakeContext{
		Context: context.Background(),
		user:    user,
		values:  map[any]any{},
		perms:   &ssh.Permissions{Permissions: &gossh.Permissions{}},
	}
}

func (c *fakeContext) User() string          { return c.user }
func (c *fakeContext) SessionID() string     { return "test" }
func (c *fakeContext) ClientVersion() string { return "SSH-2.0-test" }
func (c *fakeContext) ServerVersion() string { return "SSH-2.0-securechat" }
func (c *fakeContext) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 4242}
}
func (c *fakeContext) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
}
func (c *fakeContext) Permissions() *ssh.Permissions {
	return c.perms
}
func (c *fakeContext) SetValue(key, value any) { c.values[key] = value }
func (c *fakeContext) Value(key any) any {
	if v, ok := c.values[key]; ok {
		return v
	}
	return c.Context.Value(key)
}
