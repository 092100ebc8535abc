package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"securechat/history"
)

// The stream that holds every room message, and its one subject.
const (
	StreamName = "SECURECHAT_MESSAGES"
	subject    = "securechat.messages"
)

// maxEntry bounds one stored message in bytes (the server's own default
// payload limit is 1 MiB).
const maxEntry = 1 << 20

// Log is the room's message log on a cluster. Appends go to the replicated
// stream and count only once JetStream has acknowledged them (stored by a
// majority of the replicas, each fsynced); the entries of every node come
// back through one ordered consumer, in the stream's order with the stream
// sequence as their ID, into this node's local copy (a history log) and to
// the function set with Feed. Reads are served from the local copy.
//
// It offers the methods of sshapp's History, plus AppendOrdered and Feed.
type Log struct {
	node  *Node
	local *history.Log
	log   *log.Logger
	iter  jetstream.MessagesContext
	done  chan struct{} // closed when run has returned
	// closing is closed when Close begins.
	closing chan struct{}
	// AckTimeout bounds how long an append waits for JetStream, retries
	// included (the same message id, so a retry is never stored twice).
	ackTimeout time.Duration

	mu      sync.Mutex
	applied uint64        // highest stream sequence in the local copy
	changed chan struct{} // closed and replaced whenever applied grows
	feed    func([]history.Entry)
	closed  bool
}

// OpenLog makes sure the message stream exists (waiting for the cluster
// up to the node's StartTimeout), opens this node's local copy at path and
// starts copying the stream into it from where the copy ends.
func OpenLog(ctx context.Context, n *Node, path string) (*Log, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.StartTimeout)
	defer cancel()
	var info *jetstream.StreamInfo
	err := n.retry(ctx, "create the message stream", func(ctx context.Context) error {
		s, err := n.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:        StreamName,
			Description: "securechat room messages, in room order",
			Subjects:    []string{subject},
			Storage:     jetstream.FileStorage,
			Replicas:    n.cfg.Replicas,
			MaxMsgSize:  maxEntry,
			Duplicates:  2 * time.Minute,
		})
		if err != nil {
			return err
		}
		info = s.CachedInfo()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := n.claimStream(info.Created); err != nil {
		return nil, err
	}
	local, err := history.Open(path, history.Options{Logger: n.cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if last := local.LastID(); last > info.State.LastSeq {
		local.Close()
		return nil, fmt.Errorf("cluster: the local copy %s ends at message %d but the stream at %d: it is not this stream's copy", path, last, info.State.LastSeq)
	}
	l := &Log{
		node:       n,
		local:      local,
		log:        n.cfg.Logger.WithPrefix("messages"),
		done:       make(chan struct{}),
		closing:    make(chan struct{}),
		ackTimeout: 10 * time.Second,
		applied:    local.LastID(),
		changed:    make(chan struct{}),
	}
	cons, err := n.js.OrderedConsumer(ctx, StreamName, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   local.LastID() + 1,
	})
	if err == nil {
		l.iter, err = cons.Messages()
	}
	if err != nil {
		local.Close()
		return nil, fmt.Errorf("cluster: consume the message stream: %w", err)
	}
	go l.run()
	return l, nil
}

// claimStream records which stream the folder's local copy comes from, and
// refuses a copy taken from another.
func (n *Node) claimStream(created time.Time) error {
	id, _, err := readIdentity(n.cfg.Dir)
	if err != nil {
		return err
	}
	if id.Stream.IsZero() {
		id.Stream = created
		return writeIdentity(n.cfg.Dir, id)
	}
	if !id.Stream.Equal(created) {
		return fmt.Errorf("cluster: data folder %s %w: its messages come from a stream created %s, this cluster's was created %s",
			n.cfg.Dir, ErrOtherCluster, id.Stream.Format(time.RFC3339), created.Format(time.RFC3339))
	}
	return nil
}

// Feed sets the function that receives every entry added to the local copy
// from now on, in stream order, IDs set; it is called from one goroutine
// and must not keep the slice.
func (l *Log) Feed(fn func([]history.Entry)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.feed = fn
}

// run copies the stream into the local copy, a batch at a time: whatever
// is already waiting goes in one write and one fsync.
func (l *Log) run() {
	defer close(l.done)
	var batch []history.Entry
	var last uint64
	for {
		msg, err := l.iter.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if err != nil {
			// A closed connection answers at once: do not spin on it.
			l.log.Warn("read message stream", "err", err)
			t := time.NewTimer(100 * time.Millisecond)
			select {
			case <-l.closing:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		md, err := msg.Metadata()
		if err != nil {
			l.log.Error("message without metadata", "err", err)
			continue
		}
		seq := md.Sequence.Stream
		if seq <= l.appliedSeq() || seq <= last {
			continue // already copied
		}
		last = seq
		e, err := history.ParseLine(msg.Data())
		if err != nil {
			l.log.Error("skipping a message that does not parse", "seq", seq, "err", err)
		} else {
			e.ID = seq
			batch = append(batch, e)
		}
		if md.NumPending > 0 && len(batch) < 256 {
			continue
		}
		if !l.apply(batch, last) {
			return
		}
		batch = batch[:0]
	}
}

// apply writes a batch to the local copy (retrying a failed write: the
// stream keeps the messages, and not reading on holds the consumer back),
// then feeds it and wakes the appenders waiting for it.
func (l *Log) apply(batch []history.Entry, last uint64) bool {
	for {
		err := l.local.AppendBatch(batch)
		if err == nil {
			break
		}
		l.log.Error("write local copy of messages", "err", err)
		select {
		case <-l.closing:
			return false
		case <-time.After(time.Second):
		}
	}
	l.mu.Lock()
	feed := l.feed
	l.mu.Unlock()
	if feed != nil && len(batch) > 0 {
		feed(batch)
	}
	l.mu.Lock()
	l.applied = last
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	return true
}

func (l *Log) appliedSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.applied
}

// AppendOrdered stores es in the stream and returns the sequence each got,
// once JetStream acknowledged all of them and they are in the local copy
// (so a read on this node that follows sees them). The entries' IDs are
// ignored. On an error some of them may still have been stored: the caller
// tells its user they were not saved, and no retry of ours stores one twice.
func (l *Log) AppendOrdered(es []history.Entry) ([]uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.ackTimeout)
	defer cancel()
	data := make([][]byte, len(es))
	ids := make([]string, len(es))
	futures := make([]jetstream.PubAckFuture, len(es))
	for i, e := range es {
		e.ID = 0
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode message: %w", err)
		}
		if len(b) > maxEntry {
			return nil, fmt.Errorf("message too large: %d bytes, at most %d", len(b), maxEntry)
		}
		data[i], ids[i] = b, nuid.Next()
		m := nats.NewMsg(subject)
		m.Data = b
		// An error here (too many in flight) is retried below.
		futures[i], _ = l.node.js.PublishMsgAsync(m, jetstream.WithMsgID(ids[i]), jetstream.WithExpectStream(StreamName))
	}
	seqs := make([]uint64, len(es))
	for i, f := range futures {
		var err error
		if f != nil {
			select {
			case ack := <-f.Ok():
				seqs[i] = ack.Sequence
				continue
			case err = <-f.Err():
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		// Publish again with the same message id: if the first try was
		// stored after all, JetStream answers with its sequence.
		ack, rerr := l.publishAgain(ctx, data[i], ids[i])
		if rerr != nil {
			return nil, fmt.Errorf("store message: %w", errors.Join(err, rerr))
		}
		seqs[i] = ack.Sequence
	}
	if len(seqs) > 0 {
		l.waitApplied(ctx, slices.Max(seqs))
	}
	return seqs, nil
}

func (l *Log) publishAgain(ctx context.Context, data []byte, id string) (*jetstream.PubAck, error) {
	var err error
	for ctx.Err() == nil {
		var ack *jetstream.PubAck
		ack, err = l.node.js.Publish(ctx, subject, data, jetstream.WithMsgID(id), jetstream.WithExpectStream(StreamName))
		if err == nil {
			return ack, nil
		}
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return nil, errors.Join(err, ctx.Err())
}

// waitApplied waits until the local copy holds seq, ctx ends, or the log
// closes. Not reaching it is no error: the message is stored; it is only
// late here.
func (l *Log) waitApplied(ctx context.Context, seq uint64) {
	for {
		l.mu.Lock()
		applied, ch, closed := l.applied, l.changed, l.closed
		l.mu.Unlock()
		if applied >= seq || closed {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			l.log.Warn("stored message not yet in the local copy", "seq", seq)
			return
		}
	}
}

// AppendBatch stores es in the stream (see AppendOrdered).
func (l *Log) AppendBatch(es []history.Entry) error {
	_, err := l.AppendOrdered(es)
	return err
}

// Tail is history.Log's Tail on the local copy.
func (l *Log) Tail(n int, keep func(history.Entry) bool) ([]history.Entry, error) {
	return l.local.Tail(n, keep)
}

// Since is history.Log's Since on the local copy.
func (l *Log) Since(afterID uint64, keep func(history.Entry) bool, max int) ([]history.Entry, error) {
	return l.local.Since(afterID, keep, max)
}

// TailFiltered is history.Log's TailFiltered on the local copy.
func (l *Log) TailFiltered(n int, keep func(history.Entry) bool, f history.Filter) ([]history.Entry, bool, error) {
	return l.local.TailFiltered(n, keep, f)
}

// SinceFiltered is history.Log's SinceFiltered on the local copy.
func (l *Log) SinceFiltered(afterID uint64, keep func(history.Entry) bool, max int, f history.Filter) ([]history.Entry, bool, error) {
	return l.local.SinceFiltered(afterID, keep, max, f)
}

// LastID is the highest stream sequence in the local copy.
func (l *Log) LastID() uint64 { return l.local.LastID() }

// Err is the error that stopped the local copy taking entries (a failed
// fsync), or nil.
func (l *Log) Err() error { return l.local.Err() }

// Close stops copying the stream and closes the local copy. The node stays
// up; close it after.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.closing)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	l.iter.Stop()
	<-l.done
	return l.local.Close()
}
