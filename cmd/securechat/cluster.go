package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/log"

	"securechat/accounts"
	"securechat/cluster"
	"securechat/history"
	"securechat/sshapp"
)

// clusterOptions are the flags that make this process one node of several
// (see cluster's doc). Without them nothing here runs.
type clusterOptions struct {
	name   string
	node   string
	listen string
	peers  string
	nats   string
	// Route TLS: this node's certificate and key, and the CA of all nodes.
	tlsCert, tlsKey, tlsCA string
}

func (c *clusterOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&c.name, "cluster-name", envOr("SECURECHAT_CLUSTER_NAME", ""), "run as a node of this cluster (preview; see README); recorded in the data folder (env SECURECHAT_CLUSTER_NAME)")
	fs.StringVar(&c.node, "node-name", envOr("SECURECHAT_NODE_NAME", ""), "this node's name, unique in the cluster (env SECURECHAT_NODE_NAME)")
	fs.StringVar(&c.listen, "cluster-listen", envOr("SECURECHAT_CLUSTER_LISTEN", ""), "host:port for route connections from the other nodes (env SECURECHAT_CLUSTER_LISTEN)")
	fs.StringVar(&c.peers, "cluster-peers", envOr("SECURECHAT_CLUSTER_PEERS", ""), "the other nodes' --cluster-listen addresses, comma-separated (env SECURECHAT_CLUSTER_PEERS)")
	fs.StringVar(&c.tlsCert, "cluster-tls-cert", envOr("SECURECHAT_CLUSTER_TLS_CERT", ""), "PEM certificate of this node for TLS on routes (with --cluster-tls-key and --cluster-tls-ca) (env SECURECHAT_CLUSTER_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "cluster-tls-key", envOr("SECURECHAT_CLUSTER_TLS_KEY", ""), "PEM key of --cluster-tls-cert (env SECURECHAT_CLUSTER_TLS_KEY)")
	fs.StringVar(&c.tlsCA, "cluster-tls-ca", envOr("SECURECHAT_CLUSTER_TLS_CA", ""), "PEM CA that signed every node's route certificate (env SECURECHAT_CLUSTER_TLS_CA)")
	fs.StringVar(&c.nats, "nats", envOr("SECURECHAT_NATS", ""), "use this existing NATS with JetStream (URLs, comma-separated) instead of an embedded server (env SECURECHAT_NATS)")
}

func (c *clusterOptions) enabled() bool {
	return c.name != "" || c.node != "" || c.listen != "" || c.peers != "" || c.nats != "" ||
		c.tlsCert != "" || c.tlsKey != "" || c.tlsCA != ""
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// check says what is missing or contradictory, before anything starts.
func (c *clusterOptions) check() error {
	if !c.enabled() {
		return nil
	}
	if c.name == "" {
		return errors.New("--cluster-name is required with the other cluster flags")
	}
	tls := c.tlsCert != "" || c.tlsKey != "" || c.tlsCA != ""
	if tls && (c.tlsCert == "" || c.tlsKey == "" || c.tlsCA == "") {
		return errors.New("--cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca go together")
	}
	if c.nats != "" {
		if c.listen != "" || c.peers != "" || tls {
			return errors.New("--nats uses an existing NATS: --cluster-listen, --cluster-peers and --cluster-tls-… are for the embedded one")
		}
		return nil
	}
	if c.node == "" || c.listen == "" {
		return errors.New("--node-name and --cluster-listen are required for a node (or --nats to use an existing NATS)")
	}
	return nil
}

// storedHistory is the message log serve works on: the single-node file,
// or a cluster's shared log.
type storedHistory interface {
	sshapp.History
	Close() error
}

// openHistory opens the message log: the file in the data folder, or, as a
// node of a cluster, the cluster's shared log (starting the embedded
// server, which waits for a majority of the nodes).
func openHistory(o options, logger *log.Logger) (storedHistory, error) {
	if !o.cluster.enabled() {
		h, err := history.Open(filepath.Join(o.data, "message_history.jsonl"), history.Options{
			Logger: logger.WithPrefix("history"),
		})
		if err != nil {
			return nil, err
		}
		return h, nil
	}
	c := o.cluster
	if fi, err := os.Stat(filepath.Join(o.data, "message_history.jsonl")); err == nil && fi.Size() > 0 {
		logger.Warn("this data folder's single-node history is not part of the cluster's (import is not built yet)")
	}
	cfg := cluster.Config{
		Name:   c.name,
		Node:   c.node,
		Listen: c.listen,
		Peers:  splitList(c.peers),
		NATS:   splitList(c.nats),
		Dir:    o.data,
		Logger: logger.WithPrefix("cluster"),
	}
	if c.tlsCert != "" {
		var err error
		if cfg.RouteTLS, err = cluster.RouteTLS(c.tlsCert, c.tlsKey, c.tlsCA); err != nil {
			return nil, err
		}
	} else if c.nats == "" {
		logger.Warn("route connections are neither encrypted nor authenticated: keep --cluster-listen on a private network, or use --cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca")
	}
	node, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	logger.Info("waiting for the cluster", "cluster", c.name, "node", c.node)
	msgs, err := cluster.OpenLog(context.Background(), node, filepath.Join(o.data, "cluster_messages.jsonl"))
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
	logger.Info("joined the cluster", "cluster", c.name, "node", c.node, "replicas", node.Config().Replicas)
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
