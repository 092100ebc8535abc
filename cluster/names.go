package cluster

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// NamesBucket is the key-value bucket that reserves names across the
// cluster: one key per name, created once.
const NamesBucket = "SECURECHAT_NAMES"

// ErrNameTaken is returned by Claim when another node holds the name.
var ErrNameTaken = errors.New("name taken on another node")

// Names reserves names cluster-wide with JetStream's revision-checked
// create: of two nodes claiming one name at once, exactly one succeeds.
type Names struct {
	kv   jetstream.KeyValue
	node string
}

// OpenNames makes sure the bucket exists (waiting for the cluster up to the
// node's StartTimeout).
func OpenNames(ctx context.Context, n *Node) (*Names, error) {
	kv, err := n.openBucket(ctx, "names", jetstream.KeyValueConfig{
		Bucket:      NamesBucket,
		Description: "securechat names, each reserved by the node that registered it",
		History:     1,
	})
	if err != nil {
		return nil, err
	}
	return &Names{kv: kv, node: n.cfg.Node}, nil
}

// Claim reserves name for this node. Claiming a name this node already
// holds succeeds again (a registration retried after a crash); a name
// another node holds fails with ErrNameTaken.
func (ns *Names) Claim(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	key := nameKey(name)
	_, err := ns.kv.Create(ctx, key, []byte(ns.node))
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("reserve name: %w", err)
	}
	// A replica may answer the read before it has the key the create
	// lost to: ask again until it has.
	var e jetstream.KeyValueEntry
	for {
		var gerr error
		e, gerr = ns.kv.Get(ctx, key)
		if gerr == nil {
			break
		}
		if !errors.Is(gerr, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("reserve name: %w", gerr)
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("reserve name: %w", errors.Join(gerr, ctx.Err()))
		case <-t.C:
		}
	}
	if string(e.Value()) == ns.node {
		return nil
	}
	return fmt.Errorf("%w (%s)", ErrNameTaken, string(e.Value()))
}

// nameKey is a name as a key: names may hold dots, which separate a key's
// tokens, so the key is the name's bytes in hex.
func nameKey(name string) string { return "n" + hex.EncodeToString([]byte(name)) }

// openBucket makes sure a replicated, file-backed key-value bucket exists,
// waiting for the cluster up to the node's StartTimeout. cfg's Replicas and
// Storage are set here.
func (n *Node) openBucket(ctx context.Context, what string, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.StartTimeout)
	defer cancel()
	cfg.Replicas = n.cfg.Replicas
	cfg.Storage = jetstream.FileStorage
	var kv jetstream.KeyValue
	err := n.retry(ctx, "create the "+what+" bucket", func(ctx context.Context) error {
		var err error
		kv, err = n.js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	})
	return kv, err
}
