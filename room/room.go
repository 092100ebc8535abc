package room

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind says what a message is; it is stored with the message.
type Kind string

// The kinds of message the room carries.
const (
	KindMessage Kind = "msg"     // a line someone typed into the room
	KindJoin    Kind = "join"    // a user's first session arrived
	KindLeave   Kind = "leave"   // a user's last session went away
	KindSystem  Kind = "system"  // a notice from the server
	KindPrivate Kind = "private" // to one user's live sessions, never stored
	KindSealed  Kind = "sealed"  // ciphertext for one user, stored
	KindEmote   Kind = "me"      // an action: "* alice waves"
	KindTopic   Kind = "topic"   // a room's new topic (Text; "" clears it)
)

// Lobby is the room every session starts in.
const Lobby = "lobby"

// Message is one event in the room. ID is the room's sequence number; it is
// zero for messages that are never stored (private notices).
type Message struct {
	ID   uint64
	Time time.Time
	Kind Kind
	// Room is the room a message belongs to; "" for messages addressed to
	// one user (To), which reach that user whatever rooms they are in.
	Room string
	From string
	// To is set for messages meant for one user: only sessions of From and To
	// receive them.
	To   string
	Text string
}

// Journal makes a batch of messages durable before the room shows them.
// AppendBatch returns only when every message is on disk (or with an error,
// in which case none of them is shown).
type Journal interface {
	AppendBatch(msgs []Message) error
}

// Sequencer is a Journal for a log that other servers append to as well,
// and that decides the order itself (a replicated stream). Sequence stores
// msgs and returns the ID the log gave each; the room does not show them
// then: every message of the log, these included, comes back through
// Deliver in the log's order.
type Sequencer interface {
	Sequence(msgs []Message) ([]uint64, error)
}

// Errors a subscription ends with, and that Publish returns.
var (
	// ErrClosed: the room is shutting down.
	ErrClosed = errors.New("room closed")
	// ErrFellBehind: the session did not take its messages fast enough and
	// its queue filled up.
	ErrFellBehind = errors.New("fell behind: too many unread messages")
	// ErrNotOnline: a private message went to a user with no live session.
	ErrNotOnline = errors.New("user is not online")
	// ErrTooManyRooms: the server's limit on live rooms is reached.
	ErrTooManyRooms = errors.New("too many rooms")
)

// MaxRooms bounds the rooms that exist at once (a room exists while someone
// is in it), so joining new names cannot grow memory without bound.
const MaxRooms = 1000

// RoomInfo describes a live room for /rooms.
type RoomInfo struct {
	Name    string
	Members int
	Topic   string
}

// Options configure a Room.
type Options struct {
	// Journal stores messages before fan-out; nil keeps them in memory only.
	Journal Journal
	// QueueSize bounds each subscriber's unread messages (default 1024).
	QueueSize int
	// Now is the clock (default time.Now); tests inject their own.
	Now func() time.Time
	// LastID is the highest ID already stored, so numbering continues.
	LastID uint64
	// Sequencer, when set, replaces Journal: the log numbers and orders
	// messages, and the room shows only what Deliver hands it.
	Sequencer Sequencer
}

// Room is one chat room. All methods are safe for concurrent use.
type Room struct {
	journal   Journal
	sequencer Sequencer
	deliverMu sync.Mutex // one Deliver at a time, so each keeps its order
	queueSize atomic.Int64
	now       func() time.Time

	mu       sync.Mutex
	closed   bool
	nextID   uint64
	pending  []pendingMsg
	sessions map[string]int // user -> live sessions
	subs     map[*Subscription]struct{}
	inRoom   map[string]map[string]int // room -> user -> sessions in it
	topics   map[string]string

	// snapshots read without the lock on the hot path
	subList  atomic.Pointer[[]*Subscription]
	members  atomic.Pointer[[]string]
	roomSnap atomic.Pointer[map[string][]string] // room -> sorted members

	wake chan struct{}
	done chan struct{}

	// counts for metrics: added once per batch, never per delivery
	posted, sealed, delivered, dropped atomic.Uint64
}

// Stats are the room's running totals since it was made.
type Stats struct {
	// Posted is how many messages users posted (lines, actions and sealed
	// messages; not notices) were stored and fanned out, Sealed how many of
	// them were sealed.
	Posted, Sealed uint64
	// Delivered is how many messages were queued for a session: one message
	// shown to 100 sessions counts 100.
	Delivered uint64
	// Dropped is how many sessions were ended for falling behind.
	Dropped uint64
}

// SetQueueSize changes how many unread messages a session may have, for
// sessions that join from now on (a config reload).
func (r *Room) SetQueueSize(n int) {
	if n > 0 {
		r.queueSize.Store(int64(n))
	}
}

// Stats reads the running totals without taking the room's lock.
func (r *Room) Stats() Stats {
	return Stats{Posted: r.posted.Load(), Sealed: r.sealed.Load(), Delivered: r.delivered.Load(), Dropped: r.dropped.Load()}
}

type pendingMsg struct {
	msg    *Message // shared by every session it is queued for
	except *Subscription
	result chan error
}

// New makes a room and starts its committer.
func New(opts Options) *Room {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Room{
		journal:   opts.Journal,
		sequencer: opts.Sequencer,
		now:       opts.Now,
		nextID:    opts.LastID,
		sessions:  map[string]int{},
		subs:      map[*Subscription]struct{}{},
		inRoom:    map[string]map[string]int{},
		topics:    map[string]string{},
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	r.queueSize.Store(int64(opts.QueueSize))
	r.subList.Store(&[]*Subscription{})
	r.members.Store(&[]string{})
	r.roomSnap.Store(&map[string][]string{})
	go r.commitLoop()
	return r
}

// Join subscribes a new session of user. The user's first session announces
// the join to everyone else; the returned subscription starts receiving
// everything published from now on.
func (r *Room) Join(ctx context.Context, user string) (*Subscription, error) {
	sub := &Subscription{
		User:   user,
		room:   r,
		limit:  int(r.queueSize.Load()),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
		rooms:  map[string]bool{},
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	r.subs[sub] = struct{}{}
	r.sessions[user]++
	first := r.sessions[user] == 1
	r.refreshLocked(user, first)
	r.mu.Unlock()
	if err := r.Enter(ctx, sub, Lobby); err != nil && !errors.Is(err, ErrClosed) {
		r.Leave(sub)
		return nil, err
	}
	return sub, nil
}

// Enter puts a session in a room (creating the room), announcing the user
// to the room when this is the user's first session there. Entering a room
// the session is in does nothing.
func (r *Room) Enter(ctx context.Context, sub *Subscription, name string) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	if sub.inRoom(name) {
		r.mu.Unlock()
		return nil
	}
	if r.inRoom[name] == nil {
		if len(r.inRoom) >= MaxRooms {
			r.mu.Unlock()
			return ErrTooManyRooms
		}
		r.inRoom[name] = map[string]int{}
	}
	r.inRoom[name][sub.User]++
	first := r.inRoom[name][sub.User] == 1
	sub.setRoom(name, true)
	if first {
		r.refreshRoomsLocked(sub.User, name)
	}
	r.mu.Unlock()
	if first {
		// Best effort, like the leave notice: a join notice that cannot be
		// stored (a full disk) must not keep anyone from reading the room.
		_, _ = r.publish(ctx, Message{Kind: KindJoin, Room: name, From: sub.User, Text: sub.User + " joined"}, sub)
	}
	return nil
}

// Exit takes a session out of a room, announcing the user's departure when
// it was their last session there.
func (r *Room) Exit(sub *Subscription, name string) {
	r.mu.Lock()
	last := r.exitLocked(sub, name)
	if last {
		r.refreshRoomsLocked(sub.User, name)
	}
	closed := r.closed
	r.mu.Unlock()
	if last && !closed {
		_, _ = r.publish(context.Background(), Message{Kind: KindLeave, Room: name, From: sub.User, Text: sub.User + " left"}, nil)
	}
}

// exitLocked removes sub from a room and reports whether that was the
// user's last session in it.
func (r *Room) exitLocked(sub *Subscription, name string) bool {
	if !sub.inRoom(name) {
		return false
	}
	sub.setRoom(name, false)
	users := r.inRoom[name]
	users[sub.User]--
	if users[sub.User] > 0 {
		return false
	}
	delete(users, sub.User)
	if len(users) == 0 {
		delete(r.inRoom, name)
	}
	return true
}

// RoomMembers is the sorted list of users with a session in a room. The
// slice is a shared snapshot, rebuilt once per change of membership and read
// without a lock (every session reads it when someone joins or leaves):
// callers must not modify it.
func (r *Room) RoomMembers(name string) []string {
	return (*r.roomSnap.Load())[name]
}

// refreshRoomsLocked rebuilds the member snapshots of the named rooms,
// where user just entered or left.
func (r *Room) refreshRoomsLocked(user string, names ...string) {
	old := *r.roomSnap.Load()
	next := make(map[string][]string, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	for _, name := range names {
		users := r.inRoom[name]
		if len(users) == 0 {
			delete(next, name)
			continue
		}
		next[name] = withName(old[name], user, users[user] > 0)
	}
	r.roomSnap.Store(&next)
}

// Rooms lists the live rooms, by name.
func (r *Room) Rooms() []RoomInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]RoomInfo, 0, len(r.inRoom))
	for name, users := range r.inRoom {
		out = append(out, RoomInfo{Name: name, Members: len(users), Topic: r.topics[name]})
	}
	slices.SortFunc(out, func(a, b RoomInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Topic is a room's topic ("" when none).
func (r *Room) Topic(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.topics[name]
}

// SetTopic records a room's topic (kept by the caller across restarts).
func (r *Room) SetTopic(name, topic string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if topic == "" {
		delete(r.topics, name)
		return
	}
	if len(r.topics) < MaxRooms*10 || r.topics[name] != "" {
		r.topics[name] = topic
	}
}

// Leave ends a session's subscription. The user's last session leaving
// announces it. Leave is idempotent.
func (r *Room) Leave(sub *Subscription) {
	r.mu.Lock()
	if _, ok := r.subs[sub]; !ok {
		r.mu.Unlock()
		return
	}
	delete(r.subs, sub)
	r.sessions[sub.User]--
	last := r.sessions[sub.User] == 0
	if last {
		delete(r.sessions, sub.User)
	}
	var left []string
	for _, name := range sub.roomNames() {
		if r.exitLocked(sub, name) {
			left = append(left, name)
		}
	}
	if len(left) > 0 {
		r.refreshRoomsLocked(sub.User, left...)
	}
	r.refreshLocked(sub.User, last)
	closed := r.closed
	r.mu.Unlock()
	sub.end(ErrClosed)
	if closed {
		return
	}
	// Best effort: a leave that cannot be stored is not worth holding the
	// session for.
	for _, name := range left {
		_, _ = r.publish(context.Background(), Message{Kind: KindLeave, Room: name, From: sub.User, Text: sub.User + " left"}, nil)
	}
}

// refreshLocked rebuilds the lock-free snapshots after a session of user
// came or went (membersChanged: its first, or its last).
func (r *Room) refreshLocked(user string, membersChanged bool) {
	list := make([]*Subscription, 0, len(r.subs))
	for s := range r.subs {
		list = append(list, s)
	}
	r.subList.Store(&list)
	if membersChanged {
		names := withName(*r.members.Load(), user, r.sessions[user] > 0)
		r.members.Store(&names)
	}
}

// withName is a copy of the sorted list names with name in it (in) or not.
// A crowd joining costs each join a copy, not a sort of everyone: sorting
// the lobby twice per join was 7% of the server's CPU while 1,000 sessions
// connected.
func withName(names []string, name string, in bool) []string {
	i, found := slices.BinarySearch(names, name)
	if found == in {
		return names
	}
	out := make([]string, 0, len(names)+1)
	out = append(out, names[:i]...)
	if in {
		out = append(out, name)
		return append(out, names[i:]...)
	}
	return append(out, names[i+1:]...)
}

// Members is the sorted list of users with at least one session. The slice is
// shared: callers must not modify it.
func (r *Room) Members() []string { return *r.members.Load() }

// Online reports whether user has a live session.
func (r *Room) Online(user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[user] > 0
}

// LastID is the highest ID handed out so far.
func (r *Room) LastID() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nextID
}

// Publish stores msg and shows it to every session (or, when msg.To is set, to
// the sessions of msg.From and msg.To). It returns the message as stored, with
// its ID and time, once it is durable and queued for everyone; an error means
// nobody saw it.
func (r *Room) Publish(ctx context.Context, msg Message) (Message, error) {
	return r.publish(ctx, msg, nil)
}

func (r *Room) publish(ctx context.Context, msg Message, except *Subscription) (Message, error) {
	res := make(chan error, 1)
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return msg, ErrClosed
	}
	if r.sequencer == nil {
		r.nextID++
		msg.ID = r.nextID
	}
	msg.Time = r.now().UTC()
	shared := msg
	r.pending = append(r.pending, pendingMsg{msg: &shared, except: except, result: res})
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	select {
	case err := <-res:
		return shared, err // its ID is set now, with a Sequencer too
	case <-ctx.Done():
		// It may still be stored and shown; the caller just stops waiting.
		return msg, ctx.Err()
	}
}

// commitLoop is the single writer: it takes whatever is pending, stores it as
// one batch (one fsync for all of it: group commit), then fans it out in ID
// order. Publishers that arrive during a slow write simply join the next batch.
func (r *Room) commitLoop() {
	defer close(r.done)
	var batch []pendingMsg
	var msgs []Message
	for {
		r.mu.Lock()
		for len(r.pending) == 0 {
			if r.closed {
				r.mu.Unlock()
				return
			}
			r.mu.Unlock()
			<-r.wake
			r.mu.Lock()
		}
		batch, r.pending = r.pending, batch[:0]
		r.mu.Unlock()

		msgs = msgs[:0]
		for _, p := range batch {
			msgs = append(msgs, *p.msg)
		}
		var err error
		switch {
		case r.sequencer != nil:
			err = r.sequence(batch, msgs)
		case r.journal != nil:
			err = r.journal.AppendBatch(msgs)
		}
		if err == nil && r.sequencer == nil {
			r.fanOut(batch) // with a Sequencer, Deliver shows them
		}
		if err == nil {
			var posted, sealed uint64
			for i := range msgs {
				switch msgs[i].Kind {
				case KindSealed:
					sealed++
					posted++
				case KindMessage, KindEmote:
					posted++
				}
			}
			r.posted.Add(posted)
			r.sealed.Add(sealed)
		}
		for i := range batch {
			batch[i].result <- err
			batch[i] = pendingMsg{}
		}
	}
}

func (r *Room) fanOut(batch []pendingMsg) {
	subs := *r.subList.Load()
	var delivered, dropped uint64
	for _, s := range subs {
		n, fell := s.pushBatch(batch)
		delivered += uint64(n)
		if fell {
			dropped++
		}
	}
	r.delivered.Add(delivered)
	if dropped > 0 {
		r.dropped.Add(dropped)
	}
}

// SendPrivate shows a message to the live sessions of to (and from), without
// storing it. It fails with ErrNotOnline when to has no session.
func (r *Room) SendPrivate(from, to, text string) (Message, error) {
	msg := Message{Time: r.now().UTC(), Kind: KindPrivate, From: from, To: to, Text: text}
	r.mu.Lock()
	closed := r.closed
	online := r.sessions[to] > 0
	r.mu.Unlock()
	if closed {
		return msg, ErrClosed
	}
	if !online {
		return msg, ErrNotOnline
	}
	p := []pendingMsg{{msg: &msg}}
	for _, s := range *r.subList.Load() {
		s.pushBatch(p)
	}
	return msg, nil
}

// Notify shows a notice to one user's live sessions only (whatever room
// they are looking at).
func (r *Room) Notify(user, text string) {
	p := []pendingMsg{{msg: &Message{Time: r.now().UTC(), Kind: KindSystem, To: user, Text: text}}}
	for _, s := range *r.subList.Load() {
		if s.User == user {
			s.pushBatch(p)
		}
	}
}

// Disconnect ends every session of user with err (a kick or a ban).
func (r *Room) Disconnect(user string, err error) int {
	n := 0
	for _, s := range *r.subList.Load() {
		if s.User == user {
			s.end(err)
			n++
		}
	}
	return n
}

// Close stops the room: pending messages are still stored, then every session
// is told the room closed. Close waits for the committer to finish.
func (r *Room) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done
		return
	}
	r.closed = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	<-r.done
	for _, s := range *r.subList.Load() {
		s.end(ErrClosed)
	}
}

// Subscription is one session's view of the room: a bounded queue of
// messages it has not taken yet.
type Subscription struct {
	// User owns the session.
	User string

	room   *Room
	limit  int
	notify chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	pending []*Message
	spare   []*Message
	err     error
	rooms   map[string]bool // the rooms this session is in
	inLobby bool            // rooms[Lobby], read without a map lookup
	onEnd   func(error)
	waker   func(notices bool) // what a push does instead of Wake, when set

}

// OnEnd arranges for f to run, in a goroutine of its own, when the
// subscription ends (at once if it has ended): a session learns that the
// room dropped it without a goroutine of its own waiting on Done.
func (s *Subscription) OnEnd(f func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		go f(s.err)
		return
	}
	s.onEnd = f
}

func (s *Subscription) inRoom(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inRoomLocked(name)
}

// inRoomLocked is inRoom for a caller holding s.mu. Most messages are
// the lobby's, so its answer is kept apart from the map: fan-out to many
// sessions skips a string hash per message per session.
func (s *Subscription) inRoomLocked(name string) bool {
	if name == Lobby {
		return s.inLobby
	}
	return s.rooms[name]
}

func (s *Subscription) setRoom(name string, in bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == Lobby {
		s.inLobby = in
	}
	if in {
		s.rooms[name] = true
	} else {
		delete(s.rooms, name)
	}
}

// Rooms lists the rooms this session is in, sorted.
func (s *Subscription) Rooms() []string { return s.roomNames() }

func (s *Subscription) roomNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.rooms))
	for n := range s.rooms {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Ready receives a value when messages are waiting (then call Drain),
// when the subscription ends (see Done), and after Wake, so a session's
// helper can wait on it alone.
func (s *Subscription) Ready() <-chan struct{} { return s.notify }

// Wake makes Ready receive, without messages: the session's helper learns
// of something else to do on the one channel it waits on. It never blocks.
func (s *Subscription) Wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Done is closed when the subscription ended; Err says why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is why the subscription ended, or nil while it is live.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Pending reports whether messages wait for Drain.
func (s *Subscription) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) > 0
}

// Drain takes every waiting message, oldest first. The returned slice is
// valid until the next Drain; the messages are shared by every session
// that received them, so they must not be changed.
func (s *Subscription) Drain() []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.pending
	s.pending, s.spare = s.spare[:0], out
	return out
}

// pushBatch queues the messages of batch meant for s and wakes it; it
// reports how many it queued and whether s was ended for falling behind.
func (s *Subscription) pushBatch(batch []pendingMsg) (added int, fellBehind bool) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return 0, false
	}
	notices := true
	for i := range batch {
		p := &batch[i]
		if p.except == s {
			continue
		}
		if m := p.msg; m.To != "" && m.To != s.User && m.From != s.User {
			continue
		}
		if m := p.msg; m.To == "" && m.Room != "" && !s.inRoomLocked(m.Room) {
			continue
		}
		if len(s.pending) >= s.limit {
			s.endLocked(ErrFellBehind)
			s.mu.Unlock()
			return added, true
		}
		s.pending = append(s.pending, p.msg)
		added++
		notices = notices && p.msg.To == "" && (p.msg.Kind == KindJoin || p.msg.Kind == KindLeave)
	}
	waker := s.waker
	halfFull := len(s.pending) >= s.limit/2
	s.mu.Unlock()
	switch {
	case added == 0:
	case waker != nil && !halfFull:
		waker(notices)
	default:
		s.Wake()
	}
	return added, false
}

// SetWaker sets what a push of new messages calls instead of Wake (nil:
// Wake). A session that may not draw again yet can arm a timer there that
// calls Wake when it may, so the messages that arrive meanwhile wake
// nobody and are taken by one Drain. notices says that everything the push
// added is a join or leave notice, which a session may show later than a
// message. A queue half full wakes its session whatever the waker says, so
// a hold never lets it fill. f runs on the publisher's goroutine: it must
// not block, and it must see to it that Wake is called.
func (s *Subscription) SetWaker(f func(notices bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waker = f
}

func (s *Subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.endLocked(err)
	}
}

func (s *Subscription) endLocked(err error) {
	s.err = err
	s.pending = nil
	close(s.done)
	s.Wake()
	if f := s.onEnd; f != nil {
		s.onEnd = nil
		go f(err)
	}
}
