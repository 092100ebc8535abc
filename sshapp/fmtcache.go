package sshapp

import (
	"sync"

	"github.com/muesli/termenv"
)

// formatCache shares formatted messages between sessions: a message is
// wrapped and styled once per (width, colour profile), not once per
// session, so a thousand sessions of a few sizes cost a few formats.
// Entries are read-only once stored. Memory is bounded by keeping two
// generations of at most limit entries each.
type formatCache struct {
	mu    sync.Mutex
	cur   map[formatKey][]line
	prev  map[formatKey][]line
	limit int
}

type formatKey struct {
	id      uint64
	width   int
	profile termenv.Profile
	theme   string
	stamps  string
}

func newFormatCache(limit int) *formatCache {
	return &formatCache{cur: map[formatKey][]line{}, limit: limit}
}

func (c *formatCache) get(k formatKey) ([]line, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.cur[k]; ok {
		return l, true
	}
	if l, ok := c.prev[k]; ok {
		c.cur[k] = l
		return l, true
	}
	return nil, false
}

func (c *formatCache) put(k formatKey, l []line) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.limit {
		c.prev, c.cur = c.cur, make(map[formatKey][]line, c.limit)
	}
	c.cur[k] = l
}
