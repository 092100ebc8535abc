package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"securechat/history"
)

func entry(from, text string) history.Entry {
	return history.Entry{Time: time.Now().UTC(), Kind: "msg", Room: "lobby", From: from, Text: text}
}

// copyOf is everything in a node's local copy, oldest first.
func copyOf(t *testing.T, tn *testNode) []history.Entry {
	t.Helper()
	es, err := tn.log.Since(0, nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// feedRecorder records what a log feeds, in order.
type feedRecorder struct {
	mu  sync.Mutex
	got []history.Entry
}

func (f *feedRecorder) add(es []history.Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, es...)
}

func (f *feedRecorder) entries() []history.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

func testOneStreamWithThreeReplicas(t *testing.T, nodes []*testNode) {
	var feeds [3]feedRecorder
	for i, tn := range nodes {
		tn.log.Feed(feeds[i].add)
	}

	info, err := nodes[0].node.JetStream().Stream(context.Background(), StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.CachedInfo().Config.Replicas; got != 3 {
		t.Fatalf("stream replicas = %d, want 3", got)
	}

	seqs, err := nodes[0].log.AppendOrdered([]history.Entry{entry("alice", "one"), entry("alice", "two"), entry("alice", "three")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs, []uint64{1, 2, 3}) {
		t.Fatalf("sequences = %v, want [1 2 3]", seqs)
	}
	// The appending node has them as soon as the append returns.
	if got := nodes[0].log.LastID(); got != 3 {
		t.Fatalf("appending node's copy ends at %d right after the append, want 3", got)
	}
	for i, tn := range nodes {
		waitFor(t, fmt.Sprintf("node %d's copy", i), func() bool { return tn.log.LastID() == 3 })
		es := copyOf(t, tn)
		var texts []string
		for j, e := range es {
			if e.ID != uint64(j+1) || e.From != "alice" {
				t.Fatalf("node %d entry %d = %+v", i, j, e)
			}
			texts = append(texts, e.Text)
		}
		if !slices.Equal(texts, []string{"one", "two", "three"}) {
			t.Fatalf("node %d has %q", i, texts)
		}
		waitFor(t, fmt.Sprintf("node %d's feed", i), func() bool { return len(feeds[i].entries()) == 3 })
		if !slices.EqualFunc(feeds[i].entries(), es, func(a, b history.Entry) bool { return a.ID == b.ID && a.Text == b.Text }) {
			t.Fatalf("node %d fed %+v, has %+v", i, feeds[i].entries(), es)
		}
	}

	// Every copy is fsynced JetStream data on all three: the stream's two
	// other replicas are current.
	si, err := info.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if si.Cluster == nil || len(si.Cluster.Replicas) != 2 {
		t.Fatalf("stream cluster info = %+v, want a leader and two replicas", si.Cluster)
	}
}

func testConcurrentAppendsInOneOrder(t *testing.T, nodes []*testNode) {
	before := nodes[0].log.LastID()
	const per = 15
	var wg sync.WaitGroup
	errs := make(chan error, len(nodes)*per)
	for i, tn := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range per {
				batch := []history.Entry{entry(fmt.Sprintf("n%d", i), fmt.Sprintf("%d-%d", i, j))}
				if j%5 == 0 { // some batches of two
					batch = append(batch, entry(fmt.Sprintf("n%d", i), fmt.Sprintf("%d-%d+", i, j)))
				}
				if _, err := tn.log.AppendOrdered(batch); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := before + uint64(len(nodes)*(per+per/5))
	for i, tn := range nodes {
		waitFor(t, fmt.Sprintf("node %d's copy", i), func() bool { return tn.log.LastID() == total })
	}
	want := copyOf(t, nodes[0])
	if uint64(len(want)) != total {
		t.Fatalf("node 0 has %d entries, want %d", len(want), total)
	}
	for j, e := range want {
		if e.ID != uint64(j+1) {
			t.Fatalf("entry %d has ID %d: IDs must be the stream's sequence, without gaps", j, e.ID)
		}
	}
	for i, tn := range nodes[1:] {
		got := copyOf(t, tn)
		if !slices.EqualFunc(got, want, func(a, b history.Entry) bool { return a.ID == b.ID && a.Text == b.Text && a.From == b.From }) {
			t.Fatalf("node %d's order differs from node 0's", i+1)
		}
	}
	// Each sender's own messages keep the order it sent them in.
	for i := range nodes {
		last := -1
		for _, e := range want {
			var n, j int
			if _, err := fmt.Sscanf(e.Text, "%d-%d", &n, &j); err != nil || n != i {
				continue
			}
			if j < last {
				t.Fatalf("node %d's message %d stored after its message %d", i, j, last)
			}
			last = j
		}
	}
}

func testRestartedNodeCatchesUp(t *testing.T, nodes []*testNode) {
	base := nodes[0].log.LastID()
	if _, err := nodes[0].log.AppendOrdered([]history.Entry{entry("alice", "before")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node 3's copy", func() bool { return nodes[2].log.LastID() == base+1 })
	cfg := nodes[2].node.Config()
	nodes[2].log.Close()
	nodes[2].node.Close()

	// Two of three still store with three replicas configured.
	for _, text := range []string{"while down 1", "while down 2"} {
		if _, err := nodes[1].log.AppendOrdered([]history.Entry{entry("bob", text)}); err != nil {
			t.Fatal(err)
		}
	}

	nd, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	nodes[2].node = nd
	nodes[2].log, err = OpenLog(context.Background(), nd, nodes[2].dir+"/copy.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restarted node's copy", func() bool { return nodes[2].log.LastID() == base+3 })
	var texts []string
	for _, e := range copyOf(t, nodes[2])[base:] {
		texts = append(texts, e.Text)
	}
	if !slices.Equal(texts, []string{"before", "while down 1", "while down 2"}) {
		t.Fatalf("restarted node has %q", texts)
	}
}

func TestARetriedAppendIsStoredOnce(t *testing.T) {
	nodes := startCluster(t, 1)
	js := nodes[0].node.JetStream()
	ctx := context.Background()
	first, err := js.Publish(ctx, subject, []byte(`{"kind":"msg","from":"a","text":"x"}`), withID("retry-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := js.Publish(ctx, subject, []byte(`{"kind":"msg","from":"a","text":"x"}`), withID("retry-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Sequence != first.Sequence {
		t.Fatalf("second publish with the same id: %+v, first %+v; want a duplicate of the first", again, first)
	}
	waitFor(t, "the copy", func() bool { return nodes[0].log.LastID() == first.Sequence })
	if n := len(copyOf(t, nodes[0])); n != 1 {
		t.Fatalf("copy has %d entries, want 1", n)
	}
}

func TestRefusesAFolderOfAnotherClusterOrNode(t *testing.T) {
	for _, tc := range []struct {
		name, recorded, wantErr string
		other                   bool
	}{
		{"other cluster", `{"cluster":"other","node":"n1"}`, `cluster "other"'s, not "chat"`, true},
		{"other node", `{"cluster":"chat","node":"n9"}`, `node "n9"'s, not "n1"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, identityFile), []byte(tc.recorded), 0o600); err != nil {
				t.Fatal(err)
			}
			addrs := freeAddrs(t, 1)
			nd, err := Start(context.Background(), nodeConfig(dir, "chat", 0, addrs))
			if err == nil {
				nd.Close()
				t.Fatal("started with a folder of another cluster or node")
			}
			if errors.Is(err, ErrOtherCluster) != tc.other || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q, want one containing %q (ErrOtherCluster: %v)", err, tc.wantErr, tc.other)
			}
			if _, err := os.Stat(filepath.Join(dir, "nats")); err == nil {
				t.Fatal("a JetStream store was made in a refused folder")
			}
		})
	}
}

func TestRecordsTheClusterInANewFolder(t *testing.T) {
	nodes := startCluster(t, 1)
	id, ok, err := readIdentity(nodes[0].dir)
	if err != nil || !ok {
		t.Fatalf("identity: %v %v", ok, err)
	}
	if id.Cluster != "chat" || id.Node != "n1" || id.Stream.IsZero() {
		t.Fatalf("recorded %+v", id)
	}
}

func TestRefusesAPeerOfAnotherCluster(t *testing.T) {
	addrs := freeAddrs(t, 2)
	dirs := []string{t.TempDir(), t.TempDir()}
	good, err := Start(context.Background(), nodeConfig(dirs[0], "chat", 0, addrs))
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	cfg := nodeConfig(dirs[1], "other", 1, addrs)
	bad, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	l, err := OpenLog(context.Background(), bad, dirs[1]+"/copy.jsonl")
	if err == nil {
		l.Close()
		t.Fatal("a node of cluster \"other\" opened the log with a peer of cluster \"chat\"")
	}
	if !errors.Is(err, ErrOtherCluster) {
		t.Fatalf("error %q, want ErrOtherCluster", err)
	}
}

// TestThreeNodes runs the checks that need three nodes on one cluster
// (starting one is the slow part); the restart comes last.
func TestThreeNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	for _, tc := range []struct {
		name string
		test func(*testing.T, []*testNode)
	}{
		{"one stream with three replicas", testOneStreamWithThreeReplicas},
		{"every node sees concurrent appends in one order", testConcurrentAppendsInOneOrder},
		{"a name is reserved by exactly one node", testNames},
		{"presence", testPresence},
		{"a restarted node catches up", testRestartedNodeCatchesUp},
		{"without a majority an append fails", testNoMajorityNoAck},
	} {
		if !t.Run(tc.name, func(t *testing.T) { tc.test(t, nodes) }) {
			return // later checks build on the state the earlier ones left
		}
	}
}

func testNames(t *testing.T, nodes []*testNode) {
	names := make([]*Names, len(nodes))
	for i, tn := range nodes {
		var err error
		if names[i], err = OpenNames(context.Background(), tn.node); err != nil {
			t.Fatal(err)
		}
	}
	for round, name := range []string{"dave", "e.v.e", "x_1"} {
		errs := make([]error, len(names))
		var wg sync.WaitGroup
		for i, ns := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = ns.Claim(context.Background(), name)
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: nodes %d and %d both reserved %q", round, winner, i, name)
			case err == nil:
				winner = i
			case !errors.Is(err, ErrNameTaken):
				t.Fatalf("round %d: node %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody reserved %q: %v", round, name, errs)
		}
		// The holder may claim again (a retried registration); nobody else.
		if err := names[winner].Claim(context.Background(), name); err != nil {
			t.Fatalf("the holder's second claim: %v", err)
		}
		other := (winner + 1) % len(names)
		if err := names[other].Claim(context.Background(), name); !errors.Is(err, ErrNameTaken) || !strings.Contains(err.Error(), fmt.Sprintf("n%d", winner+1)) {
			t.Fatalf("another node's claim: %v, want ErrNameTaken naming n%d", err, winner+1)
		}
	}
}

func testPresence(t *testing.T, nodes []*testNode) {
	ctx := context.Background()
	ps := make([]*Presence, len(nodes))
	for i, tn := range nodes {
		var err error
		if ps[i], err = OpenPresence(ctx, tn.node, 3*time.Second); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ps[i].Close() })
	}
	others := func(i int) string {
		got, err := ps[i].Others(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, ",")
	}
	if err := ps[0].Publish(ctx, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	if err := ps[1].Publish(ctx, []string{"alice", "bob"}); err != nil {
		t.Fatal(err)
	}
	ps[2].Run(func() []string { return []string{"carol"} }, func(err error) { t.Error(err) })
	waitFor(t, "node 1 to see bob and carol", func() bool { return others(0) == "alice,bob,carol" })
	if got := others(2); got != "alice,bob" {
		t.Fatalf("node 3 sees %q on the others, want alice,bob", got)
	}
	// A node that stops says so at once.
	if err := ps[1].Close(); err != nil {
		t.Fatal(err)
	}
	if got := others(2); got != "alice" {
		t.Fatalf("after node 2 closed its presence node 3 sees %q, want alice", got)
	}
	// A node that dies (node 1 never refreshes its entry) is gone after
	// the TTL; node 3 keeps refreshing its own.
	waitFor(t, "node 1's stale entry to stop counting", func() bool { return others(2) == "" })
	if got := others(0); got != "carol" {
		t.Fatalf("node 1 sees %q, want carol, who node 3 keeps refreshing", got)
	}
}

func TestTwoNodesOnAnExistingNATS(t *testing.T) {
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	var logs []*Log
	for i := range 2 {
		dir := t.TempDir()
		nd, err := Start(context.Background(), Config{
			Name: "chat", Node: fmt.Sprintf("n%d", i+1), NATS: []string{ns.ClientURL()},
			Dir: dir, Replicas: 1, StartTimeout: 30 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		l, err := OpenLog(context.Background(), nd, dir+"/copy.jsonl")
		if err != nil {
			nd.Close()
			t.Fatal(err)
		}
		t.Cleanup(func() {
			l.Close()
			nd.Close()
		})
		logs = append(logs, l)
	}
	if _, err := logs[0].AppendOrdered([]history.Entry{entry("alice", "one")}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs[1].AppendOrdered([]history.Entry{entry("bob", "two")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first node's copy", func() bool { return logs[0].LastID() == 2 })
	for i, l := range logs {
		es, err := l.Since(0, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 2 || es[0].Text != "one" || es[1].Text != "two" || es[1].ID != 2 {
			t.Fatalf("node %d has %+v", i+1, es)
		}
	}
}

func testNoMajorityNoAck(t *testing.T, nodes []*testNode) {
	for _, tn := range nodes[1:] {
		tn.log.Close()
		tn.node.Close()
	}
	l := nodes[0].log
	l.ackTimeout = 2 * time.Second
	before := l.LastID()
	if _, err := l.AppendOrdered([]history.Entry{entry("alice", "alone")}); err == nil {
		t.Fatal("an append was acknowledged by one node of three")
	}
	if l.LastID() != before {
		t.Fatalf("the local copy grew from %d to %d without an acknowledgement", before, l.LastID())
	}
}
