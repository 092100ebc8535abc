package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/renameio/v2"
)

// identityFile records, in a node's data folder, which cluster and node the
// folder belongs to.
const identityFile = "cluster.json"

// ErrOtherCluster is wrapped by Start when the data folder belongs to another
// cluster or node, or when a peer reports another cluster name.
var ErrOtherCluster = errors.New("belongs to another cluster")

type identity struct {
	Cluster string `json:"cluster"`
	Node    string `json:"node,omitempty"`
	// Stream is when the message stream this folder's local copy was taken
	// from was created, so a copy is never continued from another stream.
	Stream time.Time `json:"stream_created,omitzero"`
}

func readIdentity(dir string) (identity, bool, error) {
	var id identity
	b, err := os.ReadFile(filepath.Join(dir, identityFile))
	if errors.Is(err, fs.ErrNotExist) {
		return id, false, nil
	}
	if err != nil {
		return id, false, fmt.Errorf("read cluster identity: %w", err)
	}
	if err := json.Unmarshal(b, &id); err != nil {
		return id, false, fmt.Errorf("read cluster identity %s: %w", filepath.Join(dir, identityFile), err)
	}
	return id, true, nil
}

func writeIdentity(dir string, id identity) error {
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return fmt.Errorf("encode cluster identity: %w", err)
	}
	if err := renameio.WriteFile(filepath.Join(dir, identityFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write cluster identity: %w", err)
	}
	return nil
}

// claimFolder checks that dir belongs to cluster name and node (recording
// both the first time), so a node never joins a cluster with a folder, and
// a JetStream store, from another one.
func claimFolder(dir, name, node string) error {
	id, ok, err := readIdentity(dir)
	if err != nil {
		return err
	}
	if !ok {
		return writeIdentity(dir, identity{Cluster: name, Node: node})
	}
	if id.Cluster != name {
		return fmt.Errorf("data folder %s %w: it is cluster %q's, not %q", dir, ErrOtherCluster, id.Cluster, name)
	}
	if id.Node != node {
		return fmt.Errorf("data folder %s is node %q's, not %q: a node keeps its name", dir, id.Node, node)
	}
	return nil
}
