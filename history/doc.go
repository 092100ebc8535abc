// Package history owns the append-only message log, DATA/message_history.jsonl:
// one JSON object per line, each an Entry.
//
// It owns appending (one write and one fsync per batch, so a batch is either
// durable or absent), reading back the newest entries without reading the
// whole file (Tail, Since), and recovery at Open (a torn or zero-filled tail
// left by a crash is cut back to the last whole line).
//
// It must not know anything about sockets, SSH, users, rooms or chat rules:
// Kind, Room, From, To and Text are opaque strings here, IDs are assigned by
// the caller, and filtering is a function the caller passes in. It imports
// nothing else from this module.
package history
