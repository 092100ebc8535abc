package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config says how a node joins its cluster.
type Config struct {
	// Name is the cluster's name, the same on every node (required). It is
	// recorded in the data folder, which then refuses any other.
	Name string
	// Node is this node's name, unique in the cluster (required for the
	// embedded server).
	Node string
	// Listen is the host:port the embedded server takes route connections
	// from its peers on.
	Listen string
	// Peers are the other nodes' route addresses (host:port).
	Peers []string
	// RouteTLS, when set, encrypts and authenticates route connections
	// (see RouteTLS); nil leaves them in the clear and open to anyone who
	// can reach Listen.
	RouteTLS *tls.Config
	// NATS, when set, are the URLs of an existing NATS deployment with
	// JetStream, used instead of an embedded server (Listen and Peers are
	// then not used).
	NATS []string
	// Dir is the node's data folder (required; it must exist).
	Dir string
	// Replicas is how many copies of each message the stream keeps
	// (default 3, or the number of embedded nodes when fewer).
	Replicas int
	// StartTimeout bounds how long Start waits for the cluster to be able
	// to store messages (default 60s): a node started before its peers waits
	// for a majority of them.
	StartTimeout time.Duration
	// Logger receives the node's logs and the embedded server's (default:
	// discard).
	Logger *log.Logger
}

// Node is this process's place in the cluster: the embedded server (if
// any) and the connection to JetStream.
type Node struct {
	cfg    Config
	ns     *server.Server // nil with an external NATS
	nc     *nats.Conn
	js     jetstream.JetStream
	logger *natsLogger

	closeOnce sync.Once
}

func (c *Config) check() error {
	if c.Name == "" {
		return errors.New("cluster: a cluster name is required")
	}
	if c.Dir == "" {
		return errors.New("cluster: a data folder is required")
	}
	if len(c.NATS) == 0 {
		if c.Node == "" {
			return errors.New("cluster: a node name is required")
		}
		if c.Listen == "" {
			return errors.New("cluster: a route listen address is required")
		}
		if _, _, err := splitHostPort(c.Listen); err != nil {
			return fmt.Errorf("cluster: listen address: %w", err)
		}
		for _, p := range c.Peers {
			if _, _, err := splitHostPort(p); err != nil {
				return fmt.Errorf("cluster: peer %q: %w", p, err)
			}
		}
	}
	if c.Replicas <= 0 {
		c.Replicas = 3
		if len(c.NATS) == 0 {
			c.Replicas = min(3, 1+len(c.Peers))
		}
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = log.New(discard{})
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func splitHostPort(addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", ps)
	}
	return host, port, nil
}

// Start claims the data folder for the cluster, starts the embedded server
// (or connects to the external NATS) and returns once JetStream answers.
// It refuses, wrapping ErrOtherCluster, a folder recorded for another
// cluster or a peer that belongs to another one.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := claimFolder(cfg.Dir, cfg.Name, cfg.Node); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, logger: newNATSLogger(cfg.Logger.WithPrefix("nats"))}
	var err error
	if len(cfg.NATS) == 0 {
		err = n.startEmbedded()
	} else {
		n.nc, err = nats.Connect(strings.Join(cfg.NATS, ","), nats.Name("securechat "+cfg.Node), nats.MaxReconnects(-1))
		if err != nil {
			err = fmt.Errorf("cluster: connect to nats: %w", err)
		}
	}
	if err == nil {
		n.js, err = jetstream.New(n.nc)
	}
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) startEmbedded() error {
	host, port, _ := splitHostPort(n.cfg.Listen)
	routes := make([]string, len(n.cfg.Peers))
	for i, p := range n.cfg.Peers {
		routes[i] = "nats-route://" + p
	}
	store := filepath.Join(n.cfg.Dir, "nats")
	if err := os.MkdirAll(store, 0o700); err != nil {
		return fmt.Errorf("cluster: make store folder: %w", err)
	}
	// Routing starts only once the client listener is up (DontListen
	// would keep routes from ever starting), so there is one: on loopback,
	// on a random port, and it takes only a token that never leaves this
	// process, whose own connection is in-process.
	token := rand.Text()
	opts := &server.Options{
		ServerName:    n.cfg.Node,
		Host:          "127.0.0.1",
		Port:          server.RANDOM_PORT,
		Authorization: token,
		JetStream:     true,
		StoreDir:      store,
		// Acknowledged must mean on disk: the default syncs every 2 minutes.
		SyncAlways: true,
		NoSigs:     true,
	}
	// A node without peers runs JetStream alone: clustered JetStream with
	// no routes would wait for peers forever.
	if len(routes) > 0 {
		opts.Cluster = server.ClusterOpts{Name: n.cfg.Name, Host: host, Port: port}
		if n.cfg.RouteTLS != nil {
			opts.Cluster.TLSConfig = n.cfg.RouteTLS
			opts.Cluster.TLSTimeout = 5 // seconds
		}
		opts.Routes = server.RoutesFromStr(strings.Join(routes, ","))
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("cluster: embedded nats: %w", err)
	}
	ns.SetLoggerV2(n.logger, false, false, false)
	n.ns = ns
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		return errors.New("cluster: embedded nats did not start within 10s")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Token(token), nats.Name("securechat "+n.cfg.Node), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("cluster: connect to embedded nats: %w", err)
	}
	n.nc = nc
	return nil
}

// JetStream is the node's JetStream context.
func (n *Node) JetStream() jetstream.JetStream { return n.js }

// Config is the node's configuration, defaults filled in.
func (n *Node) Config() Config { return n.cfg }

// conflict returns the cluster-name conflict the embedded server has seen,
// if any.
func (n *Node) conflict() error { return n.logger.conflict() }

// Close ends the connection and shuts the embedded server down; calling it
// again does nothing.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		if n.nc != nil {
			n.nc.Close()
		}
		if n.ns != nil {
			n.ns.Shutdown()
			n.ns.WaitForShutdown()
		}
	})
	return nil
}

// retry calls f until it succeeds, ctx ends, or the embedded server has
// seen a cluster-name conflict, waiting a little between tries.
func (n *Node) retry(ctx context.Context, what string, f func(ctx context.Context) error) error {
	wait := 100 * time.Millisecond
	for {
		if err := n.conflict(); err != nil {
			return err
		}
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(tctx)
		cancel()
		if err == nil {
			return nil
		}
		if err := n.conflict(); err != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("cluster: %s: %w (last error: %w)", what, ctx.Err(), err)
		case <-n.logger.conflicted:
			t.Stop()
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}
