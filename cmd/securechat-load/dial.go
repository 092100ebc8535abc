package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// numSources is how many source addresses the tool spreads its connections
// over: 127.0.0.2 to 127.0.0.254.
const numSources = 253

// ErrNotLoopback: the target is not on this machine. A load generator
// pointed at someone else's server is an attack, so it refuses.
var ErrNotLoopback = errors.New("not a loopback address (only 127.0.0.0/8 and ::1 are allowed)")

// target is a checked server address: a loopback IP and a port.
type target struct {
	ip   net.IP
	port string
}

func (t target) String() string { return net.JoinHostPort(t.ip.String(), t.port) }

// resolveLoopback resolves addr and accepts it only if every address it
// names is loopback; the first is then dialled, so a name cannot resolve to
// something else later.
func resolveLoopback(ctx context.Context, addr string) (target, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return target{}, fmt.Errorf("--addr %q: %w", addr, err)
	}
	if port == "" {
		return target{}, fmt.Errorf("--addr %q: no port", addr)
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		as, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return target{}, fmt.Errorf("--addr %q: %w (and it must resolve to loopback only)", addr, err)
		}
		for _, a := range as {
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return target{}, fmt.Errorf("--addr %q: resolves to nothing", addr)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return target{}, fmt.Errorf("--addr %q: %s is %w", addr, ip, ErrNotLoopback)
		}
	}
	ip := ips[0]
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return target{ip: ip, port: port}, nil
}

// sourceIP is the source address for connection slot i: perSource slots per
// address, from 127.0.0.2 upwards, wrapping after 127.0.0.254. For an IPv6
// target there is only ::1 (nil: let the kernel choose).
func (t target) sourceIP(i, perSource int) net.IP {
	if t.ip.To4() == nil {
		return nil
	}
	n := (i / perSource) % numSources
	return net.IPv4(127, 0, 0, byte(2+n)).To4()
}

// hostKeyPin trusts the first host key the server shows and then requires
// every later connection of the run to show the same one.
type hostKeyPin struct {
	mu  sync.Mutex
	key []byte
}

func (p *hostKeyPin) check(_ string, _ net.Addr, key gossh.PublicKey) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := key.Marshal()
	if p.key == nil {
		p.key = b
		return nil
	}
	if !bytes.Equal(p.key, b) {
		return errors.New("the server's host key changed during the run")
	}
	return nil
}

// dialer opens SSH connections to the target from chosen source addresses.
type dialer struct {
	t    target
	pin  *hostKeyPin
	per  int
	tout time.Duration
}

// dial connects from source slot slot and authenticates as user with the
// given methods. The handshake is bounded by the dialer's timeout and ctx.
func (d *dialer) dial(ctx context.Context, slot int, user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	nd := net.Dialer{Timeout: d.tout}
	if ip := d.t.sourceIP(slot, d.per); ip != nil {
		nd.LocalAddr = &net.TCPAddr{IP: ip}
	}
	conn, err := nd.DialContext(ctx, "tcp", d.t.String())
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	deadline := time.Now().Add(d.tout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	cfg := &gossh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: d.pin.check,
		Timeout:         d.tout,
	}
	c, chans, reqs, err := gossh.NewClientConn(conn, d.t.String(), cfg)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("ssh handshake as %s: %w", user, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return gossh.NewClient(c, chans, reqs), nil
}
