package sshapp

import (
	"sync"

	"securechat/room"
)

// messageCache shares the messages sessions load from the history: every
// session that logs in shows much the same backlog, and each used to hold
// its own copy of it (about 9 KiB a session at 1,000 sessions, the largest
// single item of an idle session's heap). A message is read-only once
// made, as the room's own are, so one copy serves every session. It keeps
// two generations of at most limit messages each: bounded, and a message
// still in use is found again in the newer one.
type messageCache struct {
	mu    sync.Mutex
	cur   map[uint64]*room.Message
	prev  map[uint64]*room.Message
	limit int
}

func newMessageCache(limit int) *messageCache {
	return &messageCache{cur: map[uint64]*room.Message{}, limit: max(limit, 1)}
}

// share returns the cached copy of each message (by ID), caching the ones
// not seen yet. Messages without an ID are not shared.
func (c *messageCache) share(msgs []room.Message) []*room.Message {
	out := make([]*room.Message, len(msgs))
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range msgs {
		m := &msgs[i]
		if m.ID == 0 {
			out[i] = m
			continue
		}
		if p, ok := c.cur[m.ID]; ok {
			out[i] = p
			continue
		}
		p, ok := c.prev[m.ID]
		if !ok {
			cp := *m
			p = &cp
		}
		if len(c.cur) >= c.limit {
			c.prev, c.cur = c.cur, make(map[uint64]*room.Message, c.limit)
		}
		c.cur[m.ID] = p
		out[i] = p
	}
	return out
}
