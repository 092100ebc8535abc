package main

// The crash test: the real binary, killed with SIGKILL under load again and
// again on one data folder, must keep everything it acknowledged. It also
// holds the helpers the durability tests share: a server process a test may
// kill, and x/crypto/ssh clients (fast enough to drive hundreds of commands).

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// looseLimits lifts every abuse limit a test's traffic would trip: many
// registrations and sessions from 127.0.0.1, no flood control, and weak
// test passwords.
var looseLimits = []string{
	"--limit-registrations-per-source", "1000",
	"--limit-registrations-total", "1000",
	"--limit-flood-burst", "100000",
	"--limit-flood-rate", "100000",
	"--limit-sessions-per-source", "1000",
	"--limit-unauth-per-source", "1000",
	"--limit-conn-burst", "100000",
	"--limit-conn-rate", "100000",
	"--min-password-score", "1",
}

// testPassword contains no test username, so every registration accepts it.
const testPassword = "violet stapler orbit 7"

// liveServer is a securechat process that a test may SIGKILL; startServer's
// server insists on a clean SIGTERM stop.
type liveServer struct {
	cmd     *exec.Cmd
	addr    string
	stderr  *syncBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error
	killed  atomic.Bool // set just before SIGKILL is sent
}

// serverArgs are the flags every durability test starts the server with.
func serverArgs(data string) []string {
	return append([]string{"--data", data, "--listen", "127.0.0.1:0", "--bcrypt-cost", "10"}, looseLimits...)
}

// startLive runs name with args (the binary, or a shell that execs it),
// waits for the listening line, and SIGKILLs the process when the test ends
// if it is still running.
func startLive(t *testing.T, name string, args ...string) *liveServer {
	t.Helper()
	s := &liveServer{stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(name, args...)
	s.cmd.Stderr = s.stderr
	s.cmd.Env = append(os.Environ(), "SECURECHAT_LISTEN=", "SECURECHAT_DATA=")
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start securechat: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if !s.exited() {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	waitFor(t, "securechat to log that it is listening", func() (bool, string) {
		if s.exited() {
			t.Fatalf("securechat exited before listening (%v); stderr:\n%s", s.waitErr, s.stderr.String())
		}
		out := s.stderr.String()
		m := listenRE.FindStringSubmatch(out)
		if m == nil {
			return false, out
		}
		s.addr = m[1]
		return true, out
	})
	return s
}

func (s *liveServer) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *liveServer) kill(t *testing.T) {
	t.Helper()
	s.killed.Store(true)
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !s.exited() {
		t.Fatalf("SIGKILL securechat: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(waitTimeout):
		t.Fatalf("securechat still running %s after SIGKILL", waitTimeout)
	}
}

// terminate sends SIGTERM and wants exit status 0 within 10 s.
func (s *liveServer) terminate(t *testing.T) {
	t.Helper()
	if s.exited() {
		t.Fatalf("securechat exited before it was stopped (%v); stderr:\n%s", s.waitErr, s.stderr.String())
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM securechat: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("securechat did not exit within 10s of SIGTERM; stderr:\n%s", s.stderr.String())
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("securechat exited with status %d after SIGTERM, want 0; stderr:\n%s", code, s.stderr.String())
	}
}

// dialSSH opens an x/crypto/ssh connection as user. With password auth an
// unknown user is registered, so a nil error means the account is saved.
func dialSSH(addr, user string, auth gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User:            user,
		Auth:            []gossh.AuthMethod{auth},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), // the tests are not about the host key
		Timeout:         waitTimeout,
	})
}

// mustDial is dialSSH that fails the test on error and closes the client
// when the test ends.
func mustDial(t *testing.T, addr, user string, auth gossh.AuthMethod) *gossh.Client {
	t.Helper()
	c, err := dialSSH(addr, user, auth)
	if err != nil {
		t.Fatalf("ssh %s@%s: %v", user, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// execSSH runs one exec command in a new session of c, with stdin as its
// standard input. err is nil only for exit status 0; a *gossh.ExitError
// means the server answered with another status.
func execSSH(c *gossh.Client, cmd, stdin string) (stdout, stderr string, err error) {
	sess, err := c.NewSession()
	if err != nil {
		return "", "", err
	}
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errb
	sess.Stdin = strings.NewReader(stdin)
	err = sess.Run(cmd)
	return out.String(), errb.String(), err
}

// mustExec is execSSH that wants exit status 0.
func mustExec(t *testing.T, c *gossh.Client, cmd, stdin string) string {
	t.Helper()
	out, errOut, err := execSSH(c, cmd, stdin)
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", cmd, err, out, errOut)
	}
	return out
}

// storedLine is one line of message_history.jsonl, as the tests read it.
type storedLine struct {
	ID   uint64    `json:"id"`
	Time time.Time `json:"time"`
	Kind string    `json:"kind"`
	From string    `json:"from"`
	Text string    `json:"text"`
}

// parseStored parses one line the way the server must have written it: a
// JSON object with an id.
func parseStored(b []byte) (storedLine, error) {
	var l storedLine
	if len(b) == 0 || b[0] != '{' {
		return l, errors.New("not a JSON object")
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, err
	}
	if l.ID == 0 {
		return l, errors.New("no id")
	}
	return l, nil
}

// tornBytes is how much of the end of a history file a correct recovery
// cuts: everything after the last complete line that parses.
func tornBytes(b []byte) int {
	end := bytes.LastIndexByte(b, '\n') + 1
	for good := end; good > 0; {
		start := bytes.LastIndexByte(b[:good-1], '\n') + 1
		if _, err := parseStored(b[start : good-1]); err == nil {
			return len(b) - good
		}
		good = start
	}
	return len(b)
}

// usersInFile parses users.json and returns the names in it.
func usersInFile(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Users []struct {
			Name   string `json:"name"`
			Bcrypt string `json:"bcrypt"`
		} `json:"users"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("users.json is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("users.json has data after its JSON value")
	}
	names := map[string]bool{}
	for _, u := range f.Users {
		if u.Name == "" || !strings.HasPrefix(u.Bcrypt, "$2") {
			return nil, fmt.Errorf("users.json has a user without a name or hash: %+v", u)
		}
		names[u.Name] = true
	}
	return names, nil
}

// crashSender is one account that sends messages every round, logging in
// with a key so a round costs no bcrypt run.
type crashSender struct {
	name string
	auth gossh.AuthMethod
}

// ackedSend is one acknowledged `send`: when it started and when it exited 0.
type ackedSend struct {
	text       string
	sender     int
	start, ack time.Time
}

// crashState is what the test knows across rounds.
type crashState struct {
	data      string
	verified  []byte            // the history file as checked after the last restart
	lastID    uint64            // the last ID in verified
	attempted map[string]string // every text ever sent, to its sender
	seen      map[string]bool   // texts found in verified
	users     []string          // every acknowledged registration

	// Pending checks for the next restart.
	acked    []ackedSend    // sends acknowledged last round
	wantTorn int            // bytes the restart must cut
	tornSeen string         // why there is a torn tail: "crash" or the kind injected
	repairs  map[string]int // torn tails cut at a restart, by cause
	injected map[string]int // damage added between rounds, by kind
	messages int            // acknowledged messages in all rounds
	unacked  int            // sends cut off by a kill
	rounds   int
}

// TestCrashRecovery kills the server with SIGKILL at random moments while
// four senders post messages and a fifth client registers accounts, then
// restarts it on the same folder and checks that everything acknowledged
// (a `send` that exited 0, a registration whose handshake succeeded) is on
// disk, in order, and that nothing else (a torn tail, a stale temporary
// users file) breaks the start. Some rounds also append the kinds of damage
// a power cut leaves (half a line, zeros, a junk line) before the restart,
// since a SIGKILL alone almost never tears a write.
//
// SECURECHAT_CRASH_ROUNDS sets the number of rounds (default 50) and
// SECURECHAT_CRASH_SEED replays a run.
func TestCrashRecovery(t *testing.T) {
	rounds := 50
	if v := os.Getenv("SECURECHAT_CRASH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SECURECHAT_CRASH_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SECURECHAT_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SECURECHAT_CRASH_SEED=%q: want a number", v)
		}
		seed = n
	}
	t.Logf("%d rounds; SECURECHAT_CRASH_SEED=%d replays this run", rounds, seed)
	rng := mrand.New(mrand.NewPCG(seed, seed>>1|1))
	start := time.Now()

	st := &crashState{
		data:      filepath.Join(t.TempDir(), "data"),
		attempted: map[string]string{},
		seen:      map[string]bool{},
		repairs:   map[string]int{},
		injected:  map[string]int{},
	}
	senders := setUpSenders(t, st)

	for r := 1; r <= rounds && !t.Failed(); r++ {
		srv := startLive(t, binPath, serverArgs(st.data)...)
		checkRestart(t, st, srv, r)
		if r == 1 || r%10 == 0 {
			checkLockRefuses(t, st.data)
		}
		loadAndKill(t, st, srv, senders, rng, r)
		cause := "crash"
		if rng.IntN(4) == 0 {
			kind := injectDamage(t, st, rng, r)
			st.injected[kind]++
			if kind != staleUsersTemp {
				cause = "injected " + kind
			}
		}
		if n := tornBytes(readFile(t, historyPath(st.data))); n > 0 {
			st.wantTorn, st.tornSeen = n, cause
		}
		st.rounds++
	}
	if t.Failed() {
		return
	}

	// A last, clean start: check the last round, then that appends after
	// all those recoveries read back.
	srv := startLive(t, binPath, serverArgs(st.data)...)
	checkRestart(t, st, srv, rounds+1)
	c := mustDial(t, srv.addr, senders[0].name, senders[0].auth)
	mustExec(t, c, "send after-the-last-crash", "")
	out := mustExec(t, c, "history --json -n 3", "")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last, err := parseStored([]byte(lines[len(lines)-1]))
	if err != nil || last.Text != "after-the-last-crash" || last.ID <= st.lastID {
		t.Fatalf("history --json after the last restart ends with %q (%v); want the new message with an ID above %d", lines[len(lines)-1], err, st.lastID)
	}
	srv.terminate(t)

	t.Logf("%d rounds in %s: %d messages and %d registrations acknowledged (besides the %d senders'), %d sends cut off by a kill, %d history lines; damage injected: %v; torn tails cut at a restart, by cause: %v",
		st.rounds, time.Since(start).Round(time.Millisecond), st.messages, len(st.users)-len(senders), len(senders), st.unacked, bytes.Count(st.verified, []byte("\n")), st.injected, st.repairs)
}

// setUpSenders registers the senders with a password, gives each a key, and
// stops the server cleanly.
func setUpSenders(t *testing.T, st *crashState) []crashSender {
	t.Helper()
	srv := startLive(t, binPath, serverArgs(st.data)...)
	var senders []crashSender
	for i := range 4 {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := gossh.NewSignerFromKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		s := crashSender{name: fmt.Sprintf("sender%d", i), auth: gossh.PublicKeys(signer)}
		c := mustDial(t, srv.addr, s.name, gossh.Password(testPassword))
		mustExec(t, c, "keys add", string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
		c.Close()
		senders = append(senders, s)
		st.users = append(st.users, s.name)
	}
	srv.terminate(t)
	return senders
}

func historyPath(data string) string { return filepath.Join(data, "message_history.jsonl") }

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}

var tornLogRE = regexp.MustCompile(`cutting torn tail.* bytes=(\d+)`)

// checkRestart checks the data folder after the server restarted on it: the
// repair it logged, the history file, and users.json.
func checkRestart(t *testing.T, st *crashState, srv *liveServer, round int) {
	t.Helper()
	logs := srv.stderr.String()
	m := tornLogRE.FindStringSubmatch(logs)
	switch {
	case st.wantTorn > 0 && m == nil:
		t.Fatalf("round %d: the history file had a torn tail of %d bytes (%s) but the restart did not log cutting it; log:\n%s", round, st.wantTorn, st.tornSeen, logs)
	case st.wantTorn > 0 && m[1] != strconv.Itoa(st.wantTorn):
		t.Fatalf("round %d: the restart cut %s bytes of torn tail, want %d (%s); log:\n%s", round, m[1], st.wantTorn, st.tornSeen, logs)
	case st.wantTorn == 0 && m != nil:
		t.Fatalf("round %d: the restart cut %s bytes from a history file without a torn tail; log:\n%s", round, m[1], logs)
	case st.wantTorn > 0:
		st.repairs[st.tornSeen]++
	}
	st.wantTorn, st.tornSeen = 0, ""

	b := readFile(t, historyPath(st.data))
	if !bytes.HasPrefix(b, st.verified) {
		t.Fatalf("round %d: the history file no longer starts with the %d bytes checked after the previous restart: lines were lost or rewritten", round, len(st.verified))
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("round %d: after the restart the history file ends in a partial line: %q", round, tail(b))
	}
	pos := map[string]int{} // text -> line number, for this round's new lines
	n := bytes.Count(st.verified, []byte("\n"))
	for _, raw := range bytes.SplitAfter(b[len(st.verified):], []byte("\n")) {
		if len(raw) == 0 {
			continue
		}
		n++
		l, err := parseStored(bytes.TrimSuffix(raw, []byte("\n")))
		if err != nil {
			t.Fatalf("round %d: history line %d does not parse (%v): %q", round, n, err, raw)
		}
		if l.ID <= st.lastID {
			t.Fatalf("round %d: history line %d has id %d after id %d; ids must increase", round, n, l.ID, st.lastID)
		}
		st.lastID = l.ID
		from, ok := st.attempted[l.Text]
		if l.Kind != "msg" || !ok || from != l.From {
			t.Fatalf("round %d: history line %d is nothing any client sent: %q", round, n, raw)
		}
		if st.seen[l.Text] {
			t.Fatalf("round %d: history line %d repeats a message stored earlier: %q", round, n, raw)
		}
		st.seen[l.Text] = true
		pos[l.Text] = n
	}
	checkOrder(t, round, st.acked, pos)
	st.acked = nil
	st.verified = b

	users, err := usersInFile(filepath.Join(st.data, "users.json"))
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	for _, u := range st.users {
		if !users[u] {
			t.Fatalf("round %d: acknowledged registration %q is not in users.json after the restart", round, u)
		}
	}
	entries, err := os.ReadDir(st.data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".users.json") {
			t.Fatalf("round %d: a temporary users file %s is still there after the restart", round, e.Name())
		}
	}
}

// checkOrder checks that every acknowledged send is at a line in pos, that
// each sender's are in the order it sent them, and that a send started
// after another was acknowledged comes after it in the file.
func checkOrder(t *testing.T, round int, acked []ackedSend, pos map[string]int) {
	t.Helper()
	last := map[int]ackedSend{}
	for _, a := range acked {
		p, ok := pos[a.text]
		if !ok {
			t.Fatalf("round %d: acknowledged message %q is not in the history file after the restart", round, a.text)
		}
		if prev, ok := last[a.sender]; ok && pos[prev.text] > p {
			t.Fatalf("round %d: sender%d's message %q (line %d) is stored after %q (line %d), which it sent later", round, a.sender, prev.text, pos[prev.text], a.text, p)
		}
		last[a.sender] = a
	}
	byAck := slices.SortedFunc(slices.Values(acked), func(a, b ackedSend) int { return a.ack.Compare(b.ack) })
	latest := make([]ackedSend, len(byAck)) // latest[i]: the one furthest down the file among byAck[:i+1]
	for i, a := range byAck {
		latest[i] = a
		if i > 0 && pos[latest[i-1].text] > pos[a.text] {
			latest[i] = latest[i-1]
		}
	}
	for _, a := range acked {
		n, _ := slices.BinarySearchFunc(byAck, a.start, func(e ackedSend, t time.Time) int { return e.ack.Compare(t) })
		if n > 0 && pos[latest[n-1].text] > pos[a.text] {
			b := latest[n-1]
			t.Fatalf("round %d: %q (line %d) was sent after %q was acknowledged, yet is stored before it (line %d)", round, a.text, pos[a.text], b.text, pos[b.text])
		}
	}
}

// tail is the end of b, for messages.
func tail(b []byte) []byte {
	if len(b) > 120 {
		return b[len(b)-120:]
	}
	return b
}

// checkLockRefuses starts a second server on the folder the running one
// owns: it must refuse, quickly.
func checkLockRefuses(t *testing.T, data string) {
	t.Helper()
	_, errOut, code := runBinary(t, serverArgs(data)...)
	if code == 0 || !strings.Contains(errOut, "in use by another securechat process") {
		t.Fatalf("a second server on a folder in use exited %d, want a refusal naming the lock; stderr:\n%s", code, errOut)
	}
}

// clientsGoneTimeout bounds how long the clients may take to notice the
// killed server. Each notices at its next read or dial; under -race on a
// machine shared with other builds (load 10 on 2 cores) that took over 15 s
// twice, so the bound is generous: a client that hangs still fails it.
const clientsGoneTimeout = 60 * time.Second

// loadAndKill connects the senders, starts them and a registering client,
// and SIGKILLs the server 20-200 ms later. It records what was
// acknowledged for the next restart to check.
func loadAndKill(t *testing.T, st *crashState, srv *liveServer, senders []crashSender, rng *mrand.Rand, round int) {
	t.Helper()
	clients := make([]*gossh.Client, len(senders))
	for i, s := range senders {
		clients[i] = mustDial(t, srv.addr, s.name, s.auth)
	}

	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		failures []string // errors while the server was alive
	)
	failed := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			for n := 1; ; n++ {
				text := fmt.Sprintf("r%d-s%d-%d", round, i, n)
				mu.Lock()
				st.attempted[text] = senders[i].name
				mu.Unlock()
				began := time.Now()
				_, errOut, err := execSSH(c, "send "+text, "")
				if err != nil {
					var exit *gossh.ExitError
					if errors.As(err, &exit) || !srv.killed.Load() {
						failed("sender%d: send %s while the server was up: %v: %s", i, text, err, errOut)
					}
					mu.Lock()
					st.unacked++
					mu.Unlock()
					return
				}
				mu.Lock()
				st.acked = append(st.acked, ackedSend{text: text, sender: i, start: began, ack: time.Now()})
				st.messages++
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; ; n++ {
			name := fmt.Sprintf("r%dn%d", round, n)
			c, err := dialSSH(srv.addr, name, gossh.Password(testPassword))
			if err != nil {
				if !srv.killed.Load() {
					failed("registering %s while the server was up: %v", name, err)
				}
				return
			}
			mu.Lock()
			st.users = append(st.users, name)
			mu.Unlock()
			c.Close()
		}
	}()

	// The moment of the crash is the point of the test, not a wait for an
	// event.
	time.Sleep(time.Duration(20+rng.IntN(181)) * time.Millisecond)
	srv.kill(t)

	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(clientsGoneTimeout):
		t.Fatalf("round %d: clients still running %s after the server was killed", round, clientsGoneTimeout)
	}
	for _, f := range failures {
		t.Errorf("round %d: %s", round, f)
	}
}

// staleUsersTemp is the damage injectDamage leaves outside the history.
const staleUsersTemp = "a temporary users file"

// injectDamage appends what a power cut can leave at the end of the history
// file (the page cache lost, the size kept), or leaves the temporary users
// file of a save that never finished, and says which it did.
func injectDamage(t *testing.T, st *crashState, rng *mrand.Rand, round int) string {
	t.Helper()
	path := historyPath(st.data)
	line := fmt.Sprintf(`{"id":%d,"time":"2025-03-01T12:00:00Z","kind":"msg","from":"sender0","text":"never-acknowledged-%d"}`, st.lastID+1_000_000, round)
	var kind string
	var junk []byte
	switch rng.IntN(5) {
	case 0:
		kind, junk = "half a line", []byte(line[:1+rng.IntN(len(line)-1)])
	case 1:
		kind, junk = "a whole line without its newline", []byte(line)
	case 2:
		kind, junk = "zeros", make([]byte, 1+rng.IntN(8192))
	case 3:
		kind, junk = "a junk line", []byte("\x00\x17not json\xff\n")
	case 4:
		// Not history damage: a save cut off before its rename.
		tmp := filepath.Join(st.data, fmt.Sprintf(".users.json%d", 1000+round))
		if err := os.WriteFile(tmp, []byte(`{"users": [{"name": "ghost"`), 0o600); err != nil {
			t.Fatal(err)
		}
		return staleUsersTemp
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(junk); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return kind
}
