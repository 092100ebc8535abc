package room

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memJournal is a real in-memory Journal: it records batches and can be told
// to fail or to be slow, which is what the room must cope with.
type memJournal struct {
	mu      sync.Mutex
	batches [][]Message
	fail    error
	delay   time.Duration
}

func (j *memJournal) AppendBatch(msgs []Message) error {
	if j.delay > 0 {
		time.Sleep(j.delay)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail != nil {
		return j.fail
	}
	j.batches = append(j.batches, slices.Clone(msgs))
	return nil
}

func (j *memJournal) all() []Message {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Message
	for _, b := range j.batches {
		out = append(out, b...)
	}
	return out
}

// recv waits for n messages on sub or fails after a deadline.
func recv(t *testing.T, sub *Subscription, n int) []Message {
	t.Helper()
	var got []Message
	deadline := time.After(5 * time.Second)
	for len(got) < n {
		select {
		case <-sub.Ready():
			for _, m := range sub.Drain() {
				got = append(got, *m)
			}
		case <-deadline:
			t.Fatalf("got %d messages, want %d: %+v", len(got), n, got)
		}
	}
	return got
}

func newRoom(t *testing.T, opts Options) *Room {
	r := New(opts)
	t.Cleanup(r.Close)
	return r
}

func TestJoinNoticesAndMembers(t *testing.T) {
	j := &memJournal{}
	r := newRoom(t, Options{Journal: j})
	ctx := context.Background()
	alice, err := r.Join(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := r.Join(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	got := recv(t, alice, 1)
	if got[0].Kind != KindJoin || got[0].From != "bob" {
		t.Fatalf("alice saw %+v, want bob's join", got[0])
	}
	// A second session of bob is not a new join.
	bob2, err := r.Join(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Members(); !slices.Equal(m, []string{"alice", "bob"}) {
		t.Fatalf("members %v", m)
	}
	r.Leave(bob2)
	if m := r.Members(); !slices.Equal(m, []string{"alice", "bob"}) {
		t.Fatalf("members after one of two sessions left: %v", m)
	}
	r.Leave(bob)
	got = recv(t, alice, 1)
	if got[0].Kind != KindLeave || got[0].From != "bob" {
		t.Fatalf("alice saw %+v, want bob's leave", got[0])
	}
	if m := r.Members(); !slices.Equal(m, []string{"alice"}) {
		t.Fatalf("members %v", m)
	}
	kinds := []Kind{}
	for _, m := range j.all() {
		kinds = append(kinds, m.Kind)
	}
	if !slices.Equal(kinds, []Kind{KindJoin, KindJoin, KindLeave}) {
		t.Fatalf("journal kinds %v", kinds)
	}
	// The joiner's own session does not get its own join notice.
	select {
	case <-bob.Ready():
		if m := bob.Drain(); len(m) > 0 && m[0].Kind == KindJoin && m[0].From == "bob" {
			t.Fatal("bob was told bob joined")
		}
	default:
	}
}

func TestPublishOrderAndIDs(t *testing.T) {
	j := &memJournal{}
	r := newRoom(t, Options{Journal: j, LastID: 41})
	ctx := context.Background()
	a, _ := r.Join(ctx, "a") // id 42: a's join
	b, _ := r.Join(ctx, "b") // id 43
	recv(t, a, 1)
	const senders, each = 8, 50
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := r.Publish(ctx, Message{Kind: KindMessage, From: "a", Text: fmt.Sprintf("%d-%d", s, i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, sub := range []*Subscription{a, b} {
		got := recv(t, sub, senders*each)
		for i := 1; i < len(got); i++ {
			if got[i].ID != got[i-1].ID+1 {
				t.Fatalf("%s: id %d after %d", sub.User, got[i].ID, got[i-1].ID)
			}
		}
		if got[0].ID != 44 {
			t.Fatalf("first id %d, want 44", got[0].ID)
		}
	}
	stored := j.all()
	for i := 1; i < len(stored); i++ {
		if stored[i].ID <= stored[i-1].ID {
			t.Fatalf("journal out of order at %d", i)
		}
	}
	if r.LastID() != 43+senders*each {
		t.Fatalf("LastID %d", r.LastID())
	}
}

// A slow disk makes publishers that arrive together share one write.
func TestGroupCommit(t *testing.T) {
	j := &memJournal{delay: 20 * time.Millisecond}
	r := newRoom(t, Options{Journal: j})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Publish(context.Background(), Message{Kind: KindMessage, From: "x", Text: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	j.mu.Lock()
	n := len(j.batches)
	j.mu.Unlock()
	if n >= 40 {
		t.Fatalf("%d batches for 40 concurrent messages: no grouping", n)
	}
}

func TestJournalFailureShowsNothing(t *testing.T) {
	j := &memJournal{}
	r := newRoom(t, Options{Journal: j})
	ctx := context.Background()
	a, _ := r.Join(ctx, "a")
	j.mu.Lock()
	j.fail = errors.New("disk full")
	j.mu.Unlock()
	if _, err := r.Publish(ctx, Message{Kind: KindMessage, From: "a", Text: "lost"}); err == nil {
		t.Fatal("publish succeeded on a failing journal")
	}
	select {
	case <-a.Ready():
		if m := a.Drain(); len(m) > 0 {
			t.Fatalf("an unsaved message was shown: %+v", m)
		}
	default:
	}
	j.mu.Lock()
	j.fail = nil
	j.mu.Unlock()
	if _, err := r.Publish(ctx, Message{Kind: KindMessage, From: "a", Text: "saved"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, a, 1); got[0].Text != "saved" {
		t.Fatalf("got %+v", got)
	}
}

func TestStalledSubscriberIsDroppedAlone(t *testing.T) {
	r := newRoom(t, Options{QueueSize: 8})
	ctx := context.Background()
	stalled, _ := r.Join(ctx, "stalled")
	live, _ := r.Join(ctx, "live")
	recv(t, stalled, 1) // live's join
	for i := range 20 {
		if _, err := r.Publish(ctx, Message{Kind: KindMessage, From: "live", Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		// live keeps up
		if got := recv(t, live, 1); got[0].Text != fmt.Sprint(i) {
			t.Fatalf("live got %+v", got)
		}
	}
	select {
	case <-stalled.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("stalled subscriber was not dropped")
	}
	if !errors.Is(stalled.Err(), ErrFellBehind) {
		t.Fatalf("err %v", stalled.Err())
	}
	if live.Err() != nil {
		t.Fatalf("live subscriber ended: %v", live.Err())
	}
}

func TestAddressedMessagesReachOnlyTheTwo(t *testing.T) {
	r := newRoom(t, Options{})
	ctx := context.Background()
	a, _ := r.Join(ctx, "a")
	b, _ := r.Join(ctx, "b")
	c, _ := r.Join(ctx, "c")
	recv(t, a, 2)
	recv(t, b, 1)
	if _, err := r.Publish(ctx, Message{Kind: KindSealed, From: "a", To: "b", Text: "cipher"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SendPrivate("a", "b", "psst"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SendPrivate("a", "nobody", "psst"); !errors.Is(err, ErrNotOnline) {
		t.Fatalf("private to offline user: %v", err)
	}
	if got := recv(t, b, 2); got[0].Text != "cipher" || got[1].Text != "psst" {
		t.Fatalf("b got %+v", got)
	}
	recv(t, a, 2)
	if _, err := r.Publish(ctx, Message{Kind: KindMessage, From: "a", Text: "public"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c, 1); got[0].Text != "public" {
		t.Fatalf("c saw %+v before the public message", got)
	}
}

func TestCloseEndsEveryone(t *testing.T) {
	r := New(Options{})
	a, _ := r.Join(context.Background(), "a")
	r.Close()
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("subscription not ended by Close")
	}
	if !errors.Is(a.Err(), ErrClosed) {
		t.Fatalf("err %v", a.Err())
	}
	if _, err := r.Publish(context.Background(), Message{Kind: KindMessage}); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after close: %v", err)
	}
	if _, err := r.Join(context.Background(), "b"); !errors.Is(err, ErrClosed) {
		t.Fatalf("join after close: %v", err)
	}
	r.Close() // idempotent
}

func TestDisconnect(t *testing.T) {
	r := newRoom(t, Options{})
	ctx := context.Background()
	a1, _ := r.Join(ctx, "a")
	a2, _ := r.Join(ctx, "a")
	b, _ := r.Join(ctx, "b")
	kicked := errors.New("kicked")
	if n := r.Disconnect("a", kicked); n != 2 {
		t.Fatalf("disconnected %d sessions", n)
	}
	for _, s := range []*Subscription{a1, a2} {
		<-s.Done()
		if !errors.Is(s.Err(), kicked) {
			t.Fatalf("err %v", s.Err())
		}
	}
	if b.Err() != nil {
		t.Fatal("b was disconnected too")
	}
}

func BenchmarkFanOut1000(b *testing.B) {
	r := New(Options{QueueSize: 1 << 20})
	defer r.Close()
	ctx := context.Background()
	subs := make([]*Subscription, 1000)
	for i := range subs {
		subs[i], _ = r.Join(ctx, fmt.Sprintf("u%d", i))
	}
	for _, s := range subs {
		s.Drain()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Publish(ctx, Message{Kind: KindMessage, From: "u0", Text: "hello"}); err != nil {
			b.Fatal(err)
		}
		if i%512 == 0 {
			for _, s := range subs {
				s.Drain()
			}
		}
	}
	b.ReportMetric(float64(b.N*len(subs))/b.Elapsed().Seconds(), "deliveries/s")
}

// A join notice that cannot be stored does not keep anyone out.
func TestJoinWhileJournalFails(t *testing.T) {
	j := &memJournal{fail: errors.New("disk full")}
	r := newRoom(t, Options{Journal: j})
	sub, err := r.Join(context.Background(), "alice")
	if err != nil {
		t.Fatalf("join refused: %v", err)
	}
	if !r.Online("alice") || sub.Err() != nil {
		t.Fatal("not in the room")
	}
}

func TestRooms(t *testing.T) {
	r := newRoom(t, Options{})
	ctx := context.Background()
	a, _ := r.Join(ctx, "alice")
	b, _ := r.Join(ctx, "bob")
	recv(t, a, 1) // bob joined the lobby
	if err := r.Enter(ctx, a, "go"); err != nil {
		t.Fatal(err)
	}
	if err := r.Enter(ctx, b, "go"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, a, 1); got[0].Kind != KindJoin || got[0].Room != "go" || got[0].From != "bob" {
		t.Fatalf("alice saw %+v", got[0])
	}
	if m := r.RoomMembers("go"); !slices.Equal(m, []string{"alice", "bob"}) {
		t.Fatalf("members of go: %v", m)
	}
	// A message in a room reaches only that room's members.
	c, _ := r.Join(ctx, "carol")
	recv(t, a, 1)
	recv(t, b, 1)
	if _, err := r.Publish(ctx, Message{Kind: KindMessage, Room: "go", From: "alice", Text: "gophers"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Publish(ctx, Message{Kind: KindMessage, Room: Lobby, From: "alice", Text: "everyone"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c, 1); got[0].Text != "everyone" {
		t.Fatalf("carol saw %+v, not in #go", got[0])
	}
	if got := recv(t, b, 2); got[0].Text != "gophers" || got[1].Text != "everyone" {
		t.Fatalf("bob saw %+v", got)
	}
	r.SetTopic("go", "all things Go")
	rooms := r.Rooms()
	if len(rooms) != 2 || rooms[0].Name != "go" || rooms[0].Members != 2 || rooms[0].Topic != "all things Go" || rooms[1].Members != 3 {
		t.Fatalf("rooms %+v", rooms)
	}
	r.Exit(b, "go")
	if got := recv(t, a, 3); got[2].Kind != KindLeave || got[2].Room != "go" {
		t.Fatalf("alice saw %+v", got)
	}
	if slices.Contains(b.Rooms(), "go") {
		t.Fatal("bob still in go")
	}
	// Leaving the server leaves every room, each announced.
	r.Leave(a)
	got := recv(t, b, 1)
	if got[0].Kind != KindLeave || got[0].Room != Lobby {
		t.Fatalf("bob saw %+v", got[0])
	}
	if len(r.RoomMembers("go")) != 0 {
		t.Fatal("go not empty")
	}
}

// TestSessionsShareMessages: a message is queued for every session as one
// shared value, not a copy each, so a room of N sessions holds it once.
func TestSessionsShareMessages(t *testing.T) {
	r := newRoom(t, Options{})
	ctx := context.Background()
	a, err := r.Join(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Join(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Publish(ctx, Message{Kind: KindMessage, From: "a", Text: "shared"}); err != nil {
		t.Fatal(err)
	}
	last := func(s *Subscription) *Message {
		deadline := time.After(5 * time.Second)
		var found *Message
		for found == nil {
			select {
			case <-s.Ready():
				for _, m := range s.Drain() {
					if m.Text == "shared" {
						found = m
					}
				}
			case <-deadline:
				t.Fatal("message not delivered")
			}
		}
		return found
	}
	if ma, mb := last(a), last(b); ma != mb {
		t.Fatalf("each session got its own copy (%p, %p)", ma, mb)
	}
}

// TestOnEnd: the callback runs once the subscription ends, whether it was
// registered before or after, and carries the reason.
func TestOnEnd(t *testing.T) {
	r := newRoom(t, Options{QueueSize: 2})
	ctx := context.Background()
	for _, before := range []bool{true, false} {
		sub, err := r.Join(ctx, "slow")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		if before {
			sub.OnEnd(func(err error) { got <- err })
		}
		// Nobody drains: the queue of 2 overflows and the room drops it.
		for i := 0; i < 5 && sub.Err() == nil; i++ {
			if _, err := r.Publish(ctx, Message{Kind: KindMessage, From: "x", Text: "fill"}); err != nil {
				t.Fatal(err)
			}
		}
		if !before {
			sub.OnEnd(func(err error) { got <- err })
		}
		select {
		case err := <-got:
			if !errors.Is(err, ErrFellBehind) {
				t.Fatalf("OnEnd got %v, want ErrFellBehind", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("OnEnd (registered before: %v) never ran", before)
		}
		r.Leave(sub)
	}
}

// Ready is the one channel a session's helper needs: it receives after
// Wake, and when the subscription ends, even with nothing queued.
func TestReadyWakesForWakeAndEnd(t *testing.T) {
	r := newRoom(t, Options{QueueSize: 2})
	sub, err := r.Join(context.Background(), "helper")
	if err != nil {
		t.Fatal(err)
	}
	for len(sub.Drain()) > 0 {
	}
	select {
	case <-sub.Ready(): // the join notice's signal, if still there
	default:
	}
	sub.Wake()
	sub.Wake() // never blocks
	select {
	case <-sub.Ready():
	default:
		t.Fatal("Ready did not receive after Wake")
	}
	if msgs := sub.Drain(); len(msgs) != 0 {
		t.Fatalf("Wake queued %d messages", len(msgs))
	}
	r.Close()
	select {
	case <-sub.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("Ready did not receive when the subscription ended")
	}
	if !errors.Is(sub.Err(), ErrClosed) {
		t.Fatalf("Err = %v after Close", sub.Err())
	}
}

// A waker set on a subscription is called for new messages instead of
// Wake, so Ready stays quiet; the messages wait for the next Drain. With
// the waker removed, pushes wake Ready again.
func TestSetWakerReplacesWake(t *testing.T) {
	r := newRoom(t, Options{})
	sub, err := r.Join(context.Background(), "reader")
	if err != nil {
		t.Fatal(err)
	}
	calls := make(chan bool, 10)
	sub.SetWaker(func(notices bool) { calls <- notices })
	for _, text := range []string{"one", "two"} {
		if _, err := r.Publish(context.Background(), Message{Kind: KindMessage, Room: Lobby, From: "writer", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if len(calls) != 2 {
		t.Fatalf("waker called %d times for 2 messages", len(calls))
	}
	select {
	case <-sub.Ready():
		t.Fatal("Ready received although a waker was set")
	default:
	}
	if !sub.Pending() {
		t.Fatal("Pending is false with two messages waiting")
	}
	var texts []string
	for _, m := range sub.Drain() {
		texts = append(texts, m.Text)
	}
	if !slices.Equal(texts, []string{"one", "two"}) {
		t.Fatalf("drained %q, want one and two", texts)
	}
	if sub.Pending() {
		t.Fatal("Pending is true after Drain")
	}
	sub.SetWaker(nil)
	if _, err := r.Publish(context.Background(), Message{Kind: KindMessage, Room: Lobby, From: "writer", Text: "three"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, sub, 1); got[0].Text != "three" {
		t.Fatalf("after the waker was removed got %+v", got)
	}
	if len(calls) != 2 {
		t.Fatalf("removed waker still called (%d calls)", len(calls))
	}
}

// Stats count what users posted, what reached each session, and who fell
// behind.
func TestStats(t *testing.T) {
	r := newRoom(t, Options{QueueSize: 8})
	ctx := context.Background()
	a, _ := r.Join(ctx, "a")
	recv(t, a, 0)
	b, _ := r.Join(ctx, "b")
	recv(t, a, 1) // b's join notice
	before := r.Stats()
	if before.Posted != 0 || before.Delivered != 1 {
		t.Fatalf("after joins: %+v", before)
	}
	for _, m := range []Message{
		{Kind: KindMessage, From: "a", Text: "hi"},
		{Kind: KindEmote, From: "b", Text: "waves"},
		{Kind: KindSealed, From: "a", To: "b", Text: "-----BEGIN AGE ENCRYPTED FILE-----"},
	} {
		if _, err := r.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	recv(t, a, 3)
	recv(t, b, 3)
	st := r.Stats()
	if st.Posted != 3 || st.Sealed != 1 || st.Delivered != 1+6 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	for i := range 10 { // b stops reading and falls behind
		if _, err := r.Publish(ctx, Message{Kind: KindMessage, From: "a", Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		recv(t, a, 1)
	}
	<-b.Done()
	if st := r.Stats(); st.Dropped != 1 || st.Posted != 13 {
		t.Fatalf("after b fell behind: %+v", st)
	}
}

// The waker is told when a push brought only join and leave notices, which
// a session may show later than a message; and a queue half full wakes its
// session whatever the waker would do, so a session holding its frame
// never lets its queue fill.
func TestWakerNoticesAndHalfFull(t *testing.T) {
	r := newRoom(t, Options{QueueSize: 8})
	sub, err := r.Join(context.Background(), "reader")
	if err != nil {
		t.Fatal(err)
	}
	calls := make(chan bool, 16)
	sub.SetWaker(func(notices bool) { calls <- notices })
	t.Cleanup(func() { sub.SetWaker(nil) })
	other, err := r.Join(context.Background(), "writer") // a join notice for reader
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Leave(other) })
	if got := <-calls; !got {
		t.Fatal("a join alone was not reported as notices only")
	}
	if _, err := r.Publish(context.Background(), Message{Kind: KindMessage, Room: Lobby, From: "writer", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if got := <-calls; got {
		t.Fatal("a message was reported as notices only")
	}
	// Two waiting; two more make the queue of 8 half full: that push wakes
	// Ready instead of calling the waker.
	for i := range 2 {
		if _, err := r.Publish(context.Background(), Message{Kind: KindMessage, Room: Lobby, From: "writer", Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(calls) != 1 {
		t.Fatalf("waker called %d times for the two pushes before half full, want 1", len(calls))
	}
	select {
	case <-sub.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("a half-full queue did not wake Ready")
	}
}

// The member lists stay sorted and exact while users come and go in any
// order, with several sessions each (they are kept by insertion, not
// rebuilt and sorted per change).
func TestMembersStaySorted(t *testing.T) {
	r := newRoom(t, Options{})
	ctx := context.Background()
	users := []string{"mia", "bob", "zed", "amy", "kim", "bob", "amy"}
	var subs []*Subscription
	for _, u := range users {
		s, err := r.Join(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Enter(ctx, s, "go"); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	want := []string{"amy", "bob", "kim", "mia", "zed"}
	if got := r.Members(); !slices.Equal(got, want) {
		t.Fatalf("members %q, want %q", got, want)
	}
	if got := r.RoomMembers("go"); !slices.Equal(got, want) {
		t.Fatalf("room members %q, want %q", got, want)
	}
	// One of bob's two sessions leaves: bob stays. zed leaves #go only.
	r.Leave(subs[1])
	r.Exit(subs[2], "go")
	r.Leave(subs[0])
	if got, want := r.Members(), []string{"amy", "bob", "kim", "zed"}; !slices.Equal(got, want) {
		t.Fatalf("members after leaves %q, want %q", got, want)
	}
	if got, want := r.RoomMembers("go"), []string{"amy", "bob", "kim"}; !slices.Equal(got, want) {
		t.Fatalf("room members after leaves %q, want %q", got, want)
	}
}
