package room

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// memSequencer is a real in-memory Sequencer: it numbers messages from a
// counter it shares with the test, which plays the other servers.
type memSequencer struct {
	mu     sync.Mutex
	next   uint64
	stored []Message
	fail   error
}

func (s *memSequencer) Sequence(msgs []Message) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	ids := make([]uint64, len(msgs))
	for i, m := range msgs {
		s.next++
		ids[i] = s.next
		m.ID = s.next
		s.stored = append(s.stored, m)
	}
	return ids, nil
}

// take hands the test what was stored since the last take.
func (s *memSequencer) take() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stored
	s.stored = nil
	return out
}

// remote numbers a message stored by another server.
func (s *memSequencer) remote(m Message) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	m.ID = s.next
	return m
}

func texts(ms []Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

func TestSequencedRoomShowsTheLogsOrderNotItsOwn(t *testing.T) {
	seq := &memSequencer{next: 40}
	r := newRoom(t, Options{Sequencer: seq, LastID: 40})
	ctx := context.Background()
	alice, err := r.Join(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r.Deliver(seq.take()) // alice's join notice: not shown to alice
	if alice.Pending() {
		t.Fatalf("alice was shown %+v", alice.Drain()[0])
	}

	m, err := r.Publish(ctx, Message{Kind: KindMessage, Room: Lobby, From: "alice", Text: "local"})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 42 {
		t.Fatalf("Publish returned ID %d, want the sequencer's 42", m.ID)
	}
	if alice.Pending() {
		t.Fatal("a sequenced message was shown before the log delivered it")
	}
	// Another server's message was ordered before ours reached us.
	before := seq.remote(Message{Kind: KindMessage, Room: Lobby, From: "bob", Text: "remote"})
	before.ID, m.ID = m.ID, before.ID // the log put bob's first
	local := seq.take()
	local[0].ID = m.ID
	r.Deliver([]Message{before})
	r.Deliver(local)
	got := recv(t, alice, 2)
	if !slices.Equal(texts(got), []string{"remote", "local"}) || got[0].ID != 42 || got[1].ID != 43 {
		t.Fatalf("alice saw %+v", got)
	}
	if r.LastID() != 43 {
		t.Fatalf("LastID = %d, want the highest delivered, 43", r.LastID())
	}
}

func TestSequencedJoinNoticeReachesOthers(t *testing.T) {
	seq := &memSequencer{}
	r := newRoom(t, Options{Sequencer: seq})
	ctx := context.Background()
	alice, err := r.Join(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r.Deliver(seq.take())
	bob, err := r.Join(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	r.Deliver(seq.take())
	got := recv(t, alice, 1)
	if got[0].Kind != KindJoin || got[0].From != "bob" {
		t.Fatalf("alice saw %+v, want bob's join", got[0])
	}
	if bob.Pending() {
		t.Fatalf("bob was shown %+v", bob.Drain()[0])
	}
}

func TestSequencedPublishFailsWhenTheLogFails(t *testing.T) {
	boom := errors.New("no quorum")
	seq := &memSequencer{fail: boom}
	r := newRoom(t, Options{Sequencer: seq})
	if _, err := r.Publish(context.Background(), Message{Kind: KindMessage, Room: Lobby, From: "a", Text: "x"}); !errors.Is(err, boom) {
		t.Fatalf("Publish error %v, want %v", err, boom)
	}
}

func TestDeliverAfterCloseShowsNothing(t *testing.T) {
	seq := &memSequencer{}
	r := New(Options{Sequencer: seq})
	sub, err := r.Join(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	r.Deliver([]Message{{ID: 9, Kind: KindMessage, Room: Lobby, From: "bob", Text: "late"}})
	if sub.Pending() {
		t.Fatal("a message delivered after Close was queued")
	}
	if r.LastID() == 9 {
		t.Fatal("LastID moved after Close")
	}
}
