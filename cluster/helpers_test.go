package cluster

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// freeAddrs returns n loopback addresses whose ports were free a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var ls []net.Listener
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, "127.0.0.1:"+strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// without returns addrs less the i-th: a node's peers.
func without(addrs []string, i int) []string {
	var out []string
	for j, a := range addrs {
		if j != i {
			out = append(out, a)
		}
	}
	return out
}

// testNode is one node of a test cluster with its message log.
type testNode struct {
	node *Node
	log  *Log
	dir  string
}

// startCluster starts n embedded nodes on loopback and opens each one's
// message log; everything is closed at the end of the test.
func startCluster(t *testing.T, n int) []*testNode {
	t.Helper()
	addrs := freeAddrs(t, n)
	nodes := make([]*testNode, n)
	for i := range n {
		nodes[i] = &testNode{dir: t.TempDir()}
		nd, err := Start(context.Background(), nodeConfig(nodes[i].dir, "chat", i, addrs))
		if err != nil {
			t.Fatalf("start node %d: %v", i, err)
		}
		nodes[i].node = nd
	}
	t.Cleanup(func() {
		for _, tn := range nodes {
			if tn.log != nil {
				tn.log.Close()
			}
		}
		for _, tn := range nodes {
			tn.node.Close()
		}
	})
	// The stream can only be made once a majority is up, so open the logs
	// of all nodes at once.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, tn := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tn.log, errs[i] = OpenLog(context.Background(), tn.node, tn.dir+"/copy.jsonl")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open log on node %d: %v", i, err)
		}
	}
	return nodes
}

func nodeConfig(dir, cluster string, i int, addrs []string) Config {
	return Config{
		Name:         cluster,
		Node:         "n" + strconv.Itoa(i+1),
		Listen:       addrs[i],
		Peers:        without(addrs, i),
		Dir:          dir,
		StartTimeout: 30 * time.Second,
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling, not waiting for a fixed time
	}
}

func withID(id string) jetstream.PublishOpt { return jetstream.WithMsgID(id) }
