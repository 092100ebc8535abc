package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	gossh "golang.org/x/crypto/ssh"
)

// stalledSet is --stalled: sessions that open the chat and then never read
// their screen, like a frozen terminal. The server must drop them without
// delaying anyone else; the run reports how many it dropped.
type stalledSet struct {
	clients []*gossh.Client
	dropped atomic.Int64
	closing atomic.Bool
	wg      sync.WaitGroup
}

// openStalled opens n stalled sessions as the users after the regular ones,
// from source slots after theirs.
func (r *loadRun) openStalled(ctx context.Context, n int) (*stalledSet, error) {
	st := &stalledSet{}
	for i := range n {
		slot := r.cfg.sessions + i
		name := r.cfg.userName(slot)
		key, err := r.cfg.signerFor(name)
		if err != nil {
			return st, err
		}
		client, err := r.d.dial(ctx, slot, name, gossh.PublicKeys(key))
		if err != nil {
			return st, fmt.Errorf("stalled session %s: %w", name, err)
		}
		st.clients = append(st.clients, client)
		sess, err := client.NewSession()
		if err != nil {
			return st, fmt.Errorf("stalled session %s: %w", name, err)
		}
		if err := sess.RequestPty("xterm-256color", r.cfg.height, r.cfg.width, gossh.TerminalModes{}); err != nil {
			return st, fmt.Errorf("stalled session %s: %w", name, err)
		}
		// Asked for, never read: the SSH window fills and the server's
		// writes to this session block.
		if _, err := sess.StdoutPipe(); err != nil {
			return st, err
		}
		if err := sess.Shell(); err != nil {
			return st, fmt.Errorf("stalled session %s: %w", name, err)
		}
		st.wg.Go(func() {
			// Wait returns when the server closes the session, or when
			// close does at the end of the run.
			_ = sess.Wait()
			if !st.closing.Load() {
				st.dropped.Add(1)
			}
		})
	}
	r.prog.printf("opened %d stalled sessions that never read", n)
	return st, nil
}

func (st *stalledSet) close() {
	st.closing.Store(true)
	for _, c := range st.clients {
		_ = c.Close()
	}
	st.wg.Wait()
}
