package sshapp

import (
	"fmt"
	"testing"

	"securechat/room"
)

// The ring keeps the newest rows, in order, up to its limit, growing only
// as it fills; pop drops the newest.
func TestRing(t *testing.T) {
	r := newRing(100)
	if len(r.buf) != 64 {
		t.Fatalf("starts with %d rows of room, want 64", len(r.buf))
	}
	for i := range 250 {
		r.push(line{text: fmt.Sprint(i)})
	}
	if r.len() != 100 || len(r.buf) != 100 {
		t.Fatalf("len %d, room %d, want 100", r.len(), len(r.buf))
	}
	for i := range 100 {
		if got := r.at(i).text; got != fmt.Sprint(150+i) {
			t.Fatalf("row %d is %q, want %d", i, got, 150+i)
		}
	}
	r.pop(3)
	if r.len() != 97 || r.at(96).text != "246" {
		t.Fatalf("after pop: len %d, newest %q", r.len(), r.at(r.len()-1).text)
	}
	r.push(line{text: "new"})
	if r.at(97).text != "new" {
		t.Fatalf("push after pop: %q", r.at(97).text)
	}
	r.pop(1000)
	if r.len() != 0 {
		t.Fatalf("pop of more than it holds left %d", r.len())
	}
}

func TestBurstText(t *testing.T) {
	for _, tc := range []struct {
		kind  room.Kind
		names []string
		n     int
		want  string
	}{
		{room.KindJoin, []string{"a"}, 1, "a joined"},
		{room.KindLeave, []string{"a", "b"}, 2, "a and b left"},
		{room.KindJoin, []string{"a", "b", "c"}, 3, "a, b and c joined"},
		{room.KindJoin, []string{"a", "b", "c"}, 4, "a, b, c and 1 other joined"},
		{room.KindLeave, []string{"a", "b", "c"}, 10, "a, b, c and 7 others left"},
	} {
		b := burst{kind: tc.kind, names: tc.names, n: tc.n}
		if got := b.text(); got != tc.want {
			t.Errorf("%d: %q, want %q", tc.n, got, tc.want)
		}
	}
}
