package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// PresenceBucket is the key-value bucket where each node lists who is
// online on it, one key per node.
const PresenceBucket = "SECURECHAT_PRESENCE"

// Presence tells the cluster who is online on this node and reads who is
// online on the others. A node refreshes its entry well within TTL; an
// entry older than TTL (a node that died) counts as nobody.
type Presence struct {
	kv   jetstream.KeyValue
	node string
	ttl  time.Duration

	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool
	once    sync.Once
}

// OpenPresence makes sure the bucket exists; ttl is how long a dead node's
// users stay listed (at least 3s).
func OpenPresence(ctx context.Context, n *Node, ttl time.Duration) (*Presence, error) {
	ttl = max(ttl, 3*time.Second)
	kv, err := n.openBucket(ctx, "presence", jetstream.KeyValueConfig{
		Bucket:      PresenceBucket,
		Description: "who is online on each securechat node",
		History:     1,
		TTL:         ttl,
	})
	if err != nil {
		return nil, err
	}
	return &Presence{kv: kv, node: n.cfg.Node, ttl: ttl, stop: make(chan struct{}), done: make(chan struct{})}, nil
}

// Publish records members as who is online on this node.
func (p *Presence) Publish(ctx context.Context, members []string) error {
	b, err := json.Marshal(members)
	if err != nil {
		return fmt.Errorf("encode presence: %w", err)
	}
	if _, err := p.kv.Put(ctx, nameKey(p.node), b); err != nil {
		return fmt.Errorf("publish presence: %w", err)
	}
	return nil
}

// Run publishes members() whenever it changes (checked every second) and
// at least every third of TTL, until Close. It starts a goroutine and
// returns.
func (p *Presence) Run(members func() []string, onErr func(error)) {
	if p.started.Swap(true) {
		return
	}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var last []string
		var at time.Time
		for {
			if m := members(); at.IsZero() || !slices.Equal(m, last) || time.Since(at) >= p.ttl/3 {
				ctx, cancel := context.WithTimeout(context.Background(), p.ttl/3)
				err := p.Publish(ctx, m)
				cancel()
				if err == nil {
					last, at = m, time.Now()
				} else if onErr != nil {
					onErr(err)
				}
			}
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
}

// Others is the sorted, distinct list of users online on the other nodes
// whose entries are fresh.
func (p *Presence) Others(ctx context.Context) ([]string, error) {
	keys, err := p.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("read presence: %w", err)
	}
	var out []string
	for key := range keys.Keys() {
		if key == nameKey(p.node) {
			continue
		}
		e, err := p.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue
		}
		if err != nil {
			keys.Stop()
			return nil, fmt.Errorf("read presence: %w", err)
		}
		if time.Since(e.Created()) > p.ttl {
			continue // a node that stopped refreshing: gone
		}
		var names []string
		if err := json.Unmarshal(e.Value(), &names); err != nil {
			continue
		}
		out = append(out, names...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Close stops Run and removes this node's entry, so its users stop being
// listed at once; that needs a majority of the cluster, and waits at most
// 2s for it.
func (p *Presence) Close() error {
	var err error
	p.once.Do(func() {
		close(p.stop)
		if p.started.Load() {
			<-p.done
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = p.kv.Delete(ctx, nameKey(p.node))
	})
	return err
}
