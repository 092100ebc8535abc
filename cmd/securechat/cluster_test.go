package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hinshun/vt10x"
	gossh "golang.org/x/crypto/ssh"
)

// freeRouteAddrs returns n loopback addresses whose ports were free a
// moment ago, for the nodes' --cluster-listen.
func freeRouteAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// launch starts securechat without waiting for it to listen: a node waits
// for a majority of its cluster before it does, so all nodes start first.
func launch(t *testing.T, data string, extra ...string) *server {
	t.Helper()
	return launchEnv(t, data, nil, extra...)
}

// clusterStartTimeout bounds a cluster's start: the nodes elect JetStream
// leaders before they listen, on a machine other tests share.
const clusterStartTimeout = 60 * time.Second

// awaitListening waits for a launched server's listening line.
func awaitListening(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(clusterStartTimeout)
	for {
		select {
		case <-s.done:
			t.Fatalf("securechat exited before listening (%v); stderr:\n%s", s.waitErr, s.stderr.String())
		default:
		}
		if m := listenRE.FindStringSubmatch(s.stderr.String()); m != nil {
			s.addr, s.port = m[1], m[2]
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("securechat did not listen within %s; stderr:\n%s", clusterStartTimeout, s.stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not a wait for an event
	}
}

// startNodes starts n securechat nodes of cluster "chat" on loopback, and
// returns each one's flags after --data, to start it again.
func startNodes(t *testing.T, n int) ([]*server, [][]string) {
	t.Helper()
	routes := freeRouteAddrs(t, n)
	nodes := make([]*server, n)
	argv := make([][]string, n)
	for i := range n {
		var peers []string
		for j, r := range routes {
			if j != i {
				peers = append(peers, r)
			}
		}
		args := append([]string{
			"--cluster-name", "chat", "--node-name", "n" + strconv.Itoa(i+1),
			"--cluster-listen", routes[i], "--cluster-peers", strings.Join(peers, ","),
		}, looseLimits...)
		argv[i] = args
		nodes[i] = launch(t, t.TempDir(), args...)
	}
	for _, s := range nodes {
		awaitListening(t, s)
	}
	return nodes, argv
}

// historyOf is `history --json` on a node: kind, sender and text of the
// room's messages with their IDs.
func historyOf(t *testing.T, c *gossh.Client) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(mustExec(t, c, "history --json -n 100", "")), "\n") {
		var m struct {
			ID   uint64 `json:"id"`
			Kind string `json:"kind"`
			From string `json:"from"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("history line %q: %v", line, err)
		}
		if m.Kind == "msg" {
			out = append(out, fmt.Sprintf("#%d %s: %s", m.ID, m.From, m.Text))
		}
	}
	return out
}

// screen is a chat UI over x/crypto/ssh with a PTY, drawn on a terminal
// model.
type screen struct {
	mu   sync.Mutex
	term vt10x.Terminal
}

func openScreen(t *testing.T, c *gossh.Client) *screen {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	if err := sess.RequestPty("xterm", 30, 100, gossh.TerminalModes{gossh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	sc := &screen{term: vt10x.New(vt10x.WithSize(100, 30))}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := out.Read(buf)
			sc.mu.Lock()
			_, _ = sc.term.Write(buf[:n])
			sc.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return sc
}

func (sc *screen) String() string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.term.String()
}

// TestClusterThreeNodesShareOneRoom runs three real nodes, and checks over
// SSH what they share; one cluster for all of it, as starting one is slow.
func TestClusterThreeNodesShareOneRoom(t *testing.T) {
	nodes, argv := startNodes(t, 3)
	pw := gossh.Password(testPassword)
	// Accounts are not shared between nodes yet: each user registers on
	// the node they use.
	alice := mustDial(t, nodes[0].addr, "alice", pw)
	bobB := mustDial(t, nodes[1].addr, "bob", pw)
	carolC := mustDial(t, nodes[2].addr, "carol", pw)

	ui := openScreen(t, bobB)
	waitFor(t, "bob's chat screen on node 2", func() (bool, string) {
		s := ui.String()
		return strings.Contains(s, "lobby"), s
	})

	// who on node 1 lists bob, whose chat screen is open on node 2.
	waitFor(t, "who on node 1 to list bob", func() (bool, string) {
		out := mustExec(t, alice, "who", "")
		return slices.Contains(strings.Fields(out), "bob"), out
	})

	// send exits 0 only once JetStream has acknowledged the message.
	mustExec(t, alice, "send", "first, from node 1\n")
	mustExec(t, carolC, "send", "second, from node 3\n")
	mustExec(t, alice, "send", "third, from node 1\n")

	want := historyOf(t, alice)
	if len(want) != 3 || !strings.HasSuffix(want[0], "alice: first, from node 1") ||
		!strings.HasSuffix(want[1], "carol: second, from node 3") || !strings.HasSuffix(want[2], "alice: third, from node 1") {
		t.Fatalf("history on node 1 = %q", want)
	}
	for i, c := range []*gossh.Client{bobB, carolC} {
		var got []string
		waitFor(t, fmt.Sprintf("node %d's history", i+2), func() (bool, string) {
			got = historyOf(t, c)
			return len(got) == len(want), strings.Join(got, "\n")
		})
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("node %d's history:\n%s\nnode 1's:\n%s", i+2, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	waitFor(t, "the three messages on bob's screen on node 2, in order", func() (bool, string) {
		s := ui.String()
		a, b, c := strings.Index(s, "first, from node 1"), strings.Index(s, "second, from node 3"), strings.Index(s, "third, from node 1")
		return a >= 0 && a < b && b < c, s
	})

	// Two first logins with one new name on two nodes at once: exactly one
	// account, on the node whose reservation won.
	var wg sync.WaitGroup
	dialErrs := make([]error, 2)
	for i := range dialErrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialSSH(nodes[i].addr, "dave", pw)
			if err == nil {
				c.Close()
			}
			dialErrs[i] = err
		}()
	}
	wg.Wait()
	accounts := 0
	for i := range dialErrs {
		users, err := usersInFile(filepath.Join(nodes[i].data, "users.json"))
		if err != nil {
			t.Fatal(err)
		}
		if users["dave"] != (dialErrs[i] == nil) {
			t.Fatalf("node %d: login error %v, but dave in users.json: %v", i+1, dialErrs[i], users["dave"])
		}
		if users["dave"] {
			accounts++
		}
	}
	if accounts != 1 {
		t.Fatalf("dave has %d accounts (login errors %v), want exactly 1", accounts, dialErrs)
	}

	// Last, as it changes the cluster: a node killed and started again.
	checkKilledNodeCatchesUp(t, nodes, argv, alice, carolC)
}

// checkKilledNodeCatchesUp kills node 2 with SIGKILL, sends on nodes 1 and
// 3 meanwhile, starts node 2 again and checks it has everything, in order,
// and takes part again. bob is registered on node 2.
func checkKilledNodeCatchesUp(t *testing.T, nodes []*server, argv [][]string, alice, carol *gossh.Client) {
	t.Helper()
	pw := gossh.Password(testPassword)
	victim := nodes[1]
	victim.stopOnce.Do(func() {}) // killed here, not stopped at cleanup
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-victim.done

	// Two of three nodes still acknowledge.
	mustExec(t, alice, "send", "while node 2 is down\n")
	mustExec(t, carol, "send", "also while it is down\n")
	// Node 1 has its own messages once send returns; node 3's arrive a
	// moment later.
	var want []string
	waitFor(t, "node 3's message on node 1", func() (bool, string) {
		want = historyOf(t, alice)
		return len(want) > 0 && strings.HasSuffix(want[len(want)-1], "carol: also while it is down"), strings.Join(want, "\n")
	})

	restarted := launch(t, victim.data, argv[1]...)
	awaitListening(t, restarted)
	bob := mustDial(t, restarted.addr, "bob", pw)
	var got []string
	waitFor(t, "the restarted node's history", func() (bool, string) {
		got = historyOf(t, bob)
		return len(got) == len(want), strings.Join(got, "\n")
	})
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("restarted node's history:\n%s\nnode 1's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// And it takes part again: a message sent there reaches node 1.
	mustExec(t, bob, "send", "back again\n")
	waitFor(t, "node 2's new message on node 1", func() (bool, string) {
		h := historyOf(t, alice)
		return len(h) == len(want)+1 && strings.HasSuffix(h[len(want)], "bob: back again"), strings.Join(h, "\n")
	})
}

func TestClusterFlagsAreCheckedBeforeStart(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
		code int // 2: a flag error; 1: refused at start
	}{
		{[]string{"--node-name", "n1", "--cluster-listen", "127.0.0.1:1"}, "--cluster-name is required", 2},
		{[]string{"--cluster-name", "chat", "--cluster-listen", "127.0.0.1:1"}, "--node-name and --cluster-listen are required", 2},
		{[]string{"--cluster-name", "chat", "--nats", "nats://127.0.0.1:1", "--cluster-peers", "127.0.0.1:2"}, "--nats uses an existing NATS", 2},
		{[]string{"--cluster-name", "chat", "--node-name", "n1", "--cluster-listen", "127.0.0.1:1", "--cluster-tls-cert", "c.pem"}, "go together", 2},
		{[]string{"--cluster-name", "chat", "--node-name", "n1", "--cluster-listen", "127.0.0.1:1", "--cluster-tls-cert", "c.pem", "--cluster-tls-key", "k.pem", "--cluster-tls-ca", "/nonexistent/ca.pem"}, "route tls: load certificate", 1},
	} {
		_, errOut, code := runBinary(t, append([]string{"--data", t.TempDir()}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("securechat %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestClusterRefusesADataFolderOfAnotherCluster(t *testing.T) {
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "cluster.json"), []byte(`{"cluster":"other","node":"n1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	routes := freeRouteAddrs(t, 2)
	_, errOut, code := runBinary(t, "--data", data, "--listen", "127.0.0.1:0",
		"--cluster-name", "chat", "--node-name", "n1", "--cluster-listen", routes[0], "--cluster-peers", routes[1])
	// The log quotes the error, and its quotes in turn.
	if code != 1 || !strings.Contains(errOut, `belongs to another cluster: it is cluster \"other\"'s, not \"chat\"`) {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 and the cluster named", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(data, "nats")); err == nil {
		t.Fatal("a JetStream store was made in the refused folder")
	}
}
