package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/charmbracelet/log"

	"securechat/accounts"
	"securechat/cluster"
	"securechat/config"
	"securechat/history"
	"securechat/sshapp"
)

// storedHistory is the message log serve works on: the single-node file,
// or a cluster's shared log.
type storedHistory interface {
	sshapp.History
	// Size is the durable length of message_history.jsonl for a backup,
	// or -1 when this process does not write that file (a node).
	Size() int64
	// Err is what stopped the log acknowledging appends, for /readyz.
	Err() error
	Close() error
}

// openHistory opens the message log: the file in the data folder, or, as a
// node of a cluster, the cluster's shared log (starting the embedded
// server, which waits for a majority of the nodes).
func openHistory(o config.Config, opts history.Options, logger *log.Logger) (storedHistory, error) {
	if !o.Clustered() {
		h, err := history.Open(filepath.Join(o.Data, "message_history.jsonl"), opts)
		if err != nil {
			return nil, err
		}
		return h, nil
	}
	if fi, err := os.Stat(filepath.Join(o.Data, "message_history.jsonl")); err == nil && fi.Size() > 0 {
		logger.Warn("this data folder's single-node history is not part of the cluster's (import is not built yet)")
	}
	cfg := cluster.Config{
		Name:   o.ClusterName,
		Node:   o.NodeName,
		Listen: o.ClusterListen,
		Peers:  config.SplitList(o.ClusterPeers),
		NATS:   config.SplitList(o.NATS),
		Dir:    o.Data,
		Logger: logger.WithPrefix("cluster"),
	}
	if o.ClusterTLSCert != "" {
		var err error
		if cfg.RouteTLS, err = cluster.RouteTLS(o.ClusterTLSCert, o.ClusterTLSKey, o.ClusterTLSCA); err != nil {
			return nil, err
		}
	} else if o.NATS == "" {
		logger.Warn("route connections are neither encrypted nor authenticated: keep --cluster-listen on a private network, or use --cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca")
	}
	node, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	logger.Info("waiting for the cluster", "cluster", o.ClusterName, "node", o.NodeName)
	msgs, err := cluster.OpenLog(context.Background(), node, filepath.Join(o.Data, "cluster_messages.jsonl"))
	if err != nil {
		node.Close()
		return nil, err
	}
	names, err := cluster.OpenNames(context.Background(), node)
	if err != nil {
		msgs.Close()
		node.Close()
		return nil, err
	}
	presence, err := cluster.OpenPresence(context.Background(), node, presenceTTL)
	if err != nil {
		msgs.Close()
		node.Close()
		return nil, err
	}
	logger.Info("joined the cluster", "cluster", o.ClusterName, "node", o.NodeName, "replicas", node.Config().Replicas)
	return &clusterHistory{Log: msgs, node: node, names: names, presence: presence}, nil
}

// presenceTTL is how long the users of a node that died stay listed.
const presenceTTL = 30 * time.Second

// clusterHistory is the cluster's log together with the node it runs on,
// closed together.
type clusterHistory struct {
	*cluster.Log
	node     *cluster.Node
	names    *cluster.Names
	presence *cluster.Presence
}

// Size is -1: a node does not write message_history.jsonl, so a backup
// measures what is there itself.
func (h *clusterHistory) Size() int64 { return -1 }

func (h *clusterHistory) Close() error {
	// Best effort: without a majority (the last nodes of a cluster that
	// stops) the entry cannot be removed, and it expires anyway.
	_ = h.presence.Close()
	err := h.Log.Close()
	if nerr := h.node.Close(); err == nil {
		err = nerr
	}
	if err != nil {
		return fmt.Errorf("close cluster: %w", err)
	}
	return nil
}

// depsFor is what the server works on: the stores, and as a node of a
// cluster who is online on the other nodes.
func depsFor(users *accounts.Store, hist storedHistory) sshapp.Deps {
	deps := sshapp.Deps{Accounts: accountsFor(users, hist), History: hist}
	if ch, ok := hist.(*clusterHistory); ok {
		deps.Presence = ch.presence
	}
	return deps
}

// runPresence, as a node of a cluster, keeps telling the other nodes who
// is online here.
func runPresence(hist storedHistory, srv *sshapp.Server, logger *log.Logger) {
	if ch, ok := hist.(*clusterHistory); ok {
		ch.presence.Run(srv.Room().Members, func(err error) { logger.Warn("publish who is online", "err", err) })
	}
}

// accountsFor is the account store the server works on: as a node of a
// cluster, registering a new name first reserves it cluster-wide.
func accountsFor(users *accounts.Store, hist storedHistory) sshapp.Accounts {
	if ch, ok := hist.(*clusterHistory); ok {
		return clusterAccounts{Store: users, names: ch.names}
	}
	return users
}

// clusterAccounts is this node's account store whose new names are
// reserved across the cluster first, so one name is one person on every
// node (the accounts themselves stay on the node that made them).
type clusterAccounts struct {
	*accounts.Store
	names *cluster.Names
}

// Register checks what it can locally (so a bad name or weak password
// reserves nothing), reserves the name, then registers it here.
func (a clusterAccounts) Register(name, password string) (accounts.User, error) {
	if err := accounts.ValidateUsername(name); err != nil {
		return accounts.User{}, err
	}
	name = accounts.Normalize(name)
	if err := accounts.CheckNewPassword(name, password); err != nil {
		return accounts.User{}, err
	}
	if a.Exists(name) {
		return accounts.User{}, accounts.ErrUserExists
	}
	if err := a.names.Claim(context.Background(), name); err != nil {
		if errors.Is(err, cluster.ErrNameTaken) {
			return accounts.User{}, fmt.Errorf("%w: %w", accounts.ErrUserExists, err)
		}
		return accounts.User{}, err
	}
	return a.Store.Register(name, password)
}
