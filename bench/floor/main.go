package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"

	gossh "golang.org/x/crypto/ssh"
)

// prompt is drawn once per session: the load tool counts a session as
// connected when it sees it, as it does securechat's input line.
const prompt = "\x1b[2J\x1b[H[ Send ]\r\n"

func main() {
	listen := flag.String("listen", "127.0.0.1:22023", "loopback address to listen on")
	flag.Parse()
	if err := run(*listen); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// ErrNotLoopback: the floor accepts any login, so it must not be reachable
// from elsewhere.
var ErrNotLoopback = errors.New("--listen must be a loopback IP address")

func run(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return ErrNotLoopback
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	return serve(ln)
}

// serve answers SSH connections on ln until it fails.
func serve(ln net.Listener) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return err
	}
	cfg := &gossh.ServerConfig{
		PasswordCallback: func(gossh.ConnMetadata, []byte) (*gossh.Permissions, error) { return nil, nil },
		PublicKeyCallback: func(gossh.ConnMetadata, gossh.PublicKey) (*gossh.Permissions, error) {
			return nil, nil
		},
		KeyboardInteractiveCallback: func(gossh.ConnMetadata, gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
			return nil, nil
		},
	}
	cfg.AddHostKey(signer)
	r := &room{members: map[*member]bool{}}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go r.serveConn(c, cfg)
	}
}

// room hands each line to every member's queue without waiting: a member
// whose queue is full misses the line, as in ssh-chat.
type room struct {
	mu      sync.Mutex
	members map[*member]bool
}

type member struct{ out chan []byte }

func (r *room) broadcast(line []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for m := range r.members {
		select {
		case m.out <- line:
		default:
		}
	}
}

func (r *room) serveConn(c net.Conn, cfg *gossh.ServerConfig) {
	conn, chans, reqs, err := gossh.NewServerConn(c, cfg)
	if err != nil {
		_ = c.Close()
		return
	}
	defer conn.Close()
	go gossh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(gossh.UnknownChannelType, "sessions only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go r.serveSession(conn.User(), ch, creqs)
	}
}

func (r *room) serveSession(user string, ch gossh.Channel, reqs <-chan *gossh.Request) {
	defer ch.Close()
	shell := make(chan struct{})
	go func() {
		started := false
		for req := range reqs {
			ok := req.Type == "pty-req" || req.Type == "window-change" || req.Type == "shell"
			if req.WantReply {
				_ = req.Reply(ok, nil)
			}
			if req.Type == "shell" && !started {
				started = true
				close(shell)
			}
		}
	}()
	<-shell
	m := &member{out: make(chan []byte, 100)}
	r.mu.Lock()
	r.members[m] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.members, m)
		r.mu.Unlock()
	}()
	if _, err := ch.Write([]byte(prompt)); err != nil {
		return
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case line := <-m.out:
				if _, err := ch.Write(line); err != nil {
					return
				}
			case <-stop:
				return
			}
		}
	}()
	in := bufio.NewScanner(ch)
	in.Split(splitCR)
	for in.Scan() {
		if len(in.Bytes()) > 0 {
			r.broadcast([]byte(user + ": " + in.Text() + "\r\n"))
		}
	}
}

// splitCR splits typed input into lines at carriage return or line feed.
func splitCR(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		if b == '\r' || b == '\n' {
			return i + 1, data[:i], nil
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
