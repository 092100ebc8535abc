package sshapp

import (
	"testing"

	"securechat/room"
)

// Sessions that load the same backlog share one copy of each message; the
// cache stays within two generations of its limit, and a message still
// being loaded is found again after a generation turns over.
func TestMessageCacheShares(t *testing.T) {
	c := newMessageCache(4)
	load := func(ids ...uint64) []*room.Message {
		msgs := make([]room.Message, len(ids))
		for i, id := range ids {
			msgs[i] = room.Message{ID: id, Kind: room.KindMessage, From: "bob", Text: "hi"}
		}
		return c.share(msgs)
	}
	a, b := load(1, 2, 3), load(1, 2, 3)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("message %d not shared between two loads", a[i].ID)
		}
	}
	load(4, 5, 6, 7, 8, 9)
	if n := len(c.cur) + len(c.prev); n > 2*c.limit {
		t.Fatalf("cache holds %d messages, limit %d per generation", n, c.limit)
	}
	again := load(9)
	if again[0].ID != 9 || again[0] != load(9)[0] {
		t.Fatal("a recent message is not shared")
	}
	local := c.share([]room.Message{{Text: "no id"}})
	if len(c.cur)+len(c.prev) > 2*c.limit || local[0].Text != "no id" {
		t.Fatal("a message without an ID was cached or lost")
	}
}
