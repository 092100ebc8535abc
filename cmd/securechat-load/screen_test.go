package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestGridMatchesVT10x: fixed sequences of the kind full-screen programs
// send give the same characters in grid as in vt10x.
func TestGridMatchesVT10x(t *testing.T) {
	tests := []struct{ name, input string }{
		{"text and newlines", "hello\r\nworld\r\n\tx"},
		{"wrap", strings.Repeat("abcdefghij", 5) + "Z"},
		{"exact width then CR", strings.Repeat("x", 40) + "\rY"},
		{"cup and erase", "\x1b[2J\x1b[3;5Habc\x1b[3;6H\x1b[K\x1b[10;40Hq\x1b[1;1H\x1b[2K"},
		{"alt screen", "main\x1b[?1049h\x1b[Halt\x1b[?1049lback"},
		{"scroll at bottom", "\x1b[10;1Hone\r\ntwo\r\nthree"},
		{"scroll region", "\x1b[H1\r\n2\r\n3\r\n4\r\n5\x1b[2;4r\x1b[4;1H\nX\x1b[r"},
		{"reverse index", "\x1b[Ha\r\nb\x1b[H\x1bMtop"},
		{"insert and delete lines", "\x1b[Ha\r\nb\r\nc\x1b[2;1H\x1b[Lnew\x1b[1;1H\x1b[M\x1b[3;4H\x1b[Lx"},
		{"insert and delete chars", "abcdef\x1b[1;3H\x1b[2@XY\x1b[1;1H\x1b[P\x1b[1;10H\x1b[3X"},
		{"cursor moves", "\x1b[5;5H*\x1b[2A+\x1b[3C-\x1b[4D=\x1b[2B#\x1b[G!\x1b[7d?"},
		{"colours are ignored", "\x1b[1;38;5;245mab\x1b[0m\x1b[48;2;1;2;3mc\x1b[m"},
		{"save and restore", "\x1b[3;3H\x1b7\x1b[Hx\x1b8y\x1b[5;5H\x1b[s\x1b[Hz\x1b[uw"},
		{"osc title", "\x1b]0;title\x07ab\x1b]2;t\x1b\\cd"},
		{"box drawing", "12:00 a: t1-2-abcde │ load0001 · x → y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, v := newGrid(40, 10), newVTModel(40, 10)
			g.write([]byte(tt.input))
			v.write([]byte(tt.input))
			if gs, vs := screenText(g), screenText(v); gs != vs {
				t.Errorf("grid:\n%s\nvt10x:\n%s", gs, vs)
			}
		})
	}
}

// TestGridMatchesVT10xRandom writes random sequences of the operations a
// renderer uses, in random chunks (splitting escape sequences), and
// compares the screens after every chunk.
func TestGridMatchesVT10xRandom(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 1))
		input := randomOps(rng, 60, 30, 12)
		g, v := newGrid(30, 12), newVTModel(30, 12)
		for i := 0; i < len(input); {
			n := min(1+rng.IntN(40), len(input)-i)
			g.write([]byte(input[i : i+n]))
			v.write([]byte(input[i : i+n]))
			i += n
		}
		if gs, vs := screenText(g), screenText(v); gs != vs {
			t.Fatalf("seed %d: screens differ for %q\ngrid:\n%s\nvt10x:\n%s", seed, input, gs, vs)
		}
	}
}

// randomOps makes n random operations for a cols×rows screen. It avoids
// the corners where vt10x differs from xterm (whose behaviour grid follows):
// vertical moves across scroll margins; editing with a wrap pending (xterm
// cancels the wrap, vt10x keeps it), so edits come after a CHA; and erasing
// above the cursor (vt10x's ED 1 leaves row 0 alone when the cursor is on
// row 1), so ED 1 is left out.
func randomOps(rng *rand.Rand, n, cols, rows int) string {
	var b strings.Builder
	b.WriteString("\x1b[?1049h\x1b[H\x1b[2J")
	region := false
	for range n {
		switch op := rng.IntN(16); {
		case op < 4:
			b.WriteString(randomText(rng, 1+rng.IntN(cols)))
		case op == 4:
			b.WriteString([]string{"\r", "\n", "\r\n", "\b"}[rng.IntN(4)])
		case op == 5:
			fmt.Fprintf(&b, "\x1b[%d;%dH", 1+rng.IntN(rows), 1+rng.IntN(cols))
		case op == 6 && !region:
			fmt.Fprintf(&b, "\x1b[%d%c", rng.IntN(4), "ABCD"[rng.IntN(4)])
		case op == 7:
			fmt.Fprintf(&b, "\x1b[%dG\x1b[%dK", 1+rng.IntN(cols), rng.IntN(3))
		case op == 8:
			fmt.Fprintf(&b, "\x1b[%dG\x1b[%dJ", 1+rng.IntN(cols), 2*rng.IntN(2))
		case op == 9:
			fmt.Fprintf(&b, "\x1b[%dG\x1b[%d%c", 1+rng.IntN(cols), 1+rng.IntN(3), "@PX"[rng.IntN(3)])
		case op == 10:
			fmt.Fprintf(&b, "\x1b[%d;%dm", rng.IntN(2), 30+rng.IntN(8))
		case op == 11 && !region:
			top := 1 + rng.IntN(rows-2)
			fmt.Fprintf(&b, "\x1b[%d;%dr", top, top+1+rng.IntN(rows-top))
			region = true
		case op == 11:
			b.WriteString("\x1b[r")
			region = false
		case op == 12 && region:
			// Inside the region: IL, DL, IND, RI.
			fmt.Fprintf(&b, "%s", []string{"\x1b[L", "\x1b[2M", "\x1bD", "\x1bM"}[rng.IntN(4)])
		case op == 13:
			fmt.Fprintf(&b, "\x1b[%dG", 1+rng.IntN(cols))
		}
	}
	return b.String()
}

func randomText(rng *rand.Rand, n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789 :-│"
	rs := []rune(chars)
	out := make([]rune, n)
	for i := range out {
		out[i] = rs[rng.IntN(len(rs))]
	}
	return string(out)
}

// TestGridChangedRows: every token that becomes visible is on a row the
// grid reports as changed, whatever the operations; and rows only
// scrolled are not reported.
func TestGridChangedRows(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 2))
		g := newGrid(30, 12)
		visible := map[string]bool{}
		for range 40 {
			chunk := randomOps(rng, 1+rng.IntN(4), 30, 12)
			if rng.IntN(3) == 0 {
				chunk += fmt.Sprintf("\x1b[%d;1H%d: t%d-%d-abcde", 1+rng.IntN(12), rng.IntN(9), rng.IntN(5), rng.IntN(5))
			}
			g.write([]byte(chunk))
			changed := map[string]bool{}
			g.changedRows(func(_ int, row []rune) {
				for _, tok := range tokensIn(row) {
					changed[tok] = true
				}
			})
			now := map[string]bool{}
			for y := range 12 {
				for _, tok := range tokensIn(g.rowText(y)) {
					now[tok] = true
					if !visible[tok] && !changed[tok] {
						t.Fatalf("seed %d: %s became visible on row %d, not reported as changed; chunk %q", seed, tok, y, chunk)
					}
				}
			}
			visible = now
		}
	}
	g := newGrid(20, 5)
	g.write([]byte("\x1b[Ha: t1-1-abcde\x1b[5;1H"))
	g.forget()
	g.write([]byte("\n\n"))
	var rows []int
	g.changedRows(func(y int, _ []rune) { rows = append(rows, y) })
	if len(rows) != 0 {
		t.Errorf("scrolling reported rows %v as changed", rows)
	}
	// A token printed and then scrolled up within one read is reported
	// where it went: the server's frames scroll a region, and two frames
	// can arrive in one read.
	g = newGrid(20, 6)
	g.forget()
	g.write([]byte("\x1b[1;4r\x1b[4;1Ha: t1-2-abcde\x1b[4;1H\n\nnext"))
	var got []string
	g.changedRows(func(_ int, row []rune) { got = append(got, tokensIn(row)...) })
	if !slices.Contains(got, "1-2-abcde") {
		t.Errorf("a token scrolled up in the read that printed it was not reported: %q", got)
	}
}

func tokensIn(row []rune) []string {
	var out []string
	scanTokens(row, func(f foundToken) { out = append(out, fmt.Sprintf("%d-%d-%s", f.sender, f.seq, string(f.rnd))) })
	return out
}

// TestGridChangedRowsExact: a write that prints on two rows reports those
// two rows.
func TestGridChangedRowsExact(t *testing.T) {
	g := newGrid(40, 10)
	g.write([]byte("\x1b[?1049h\x1b[2J"))
	g.forget()
	g.write([]byte("\x1b[5;1H12:00 a: t1-2-abcde\x1b[6;1Hsecond\x1b[1;1H"))
	var rows []int
	g.changedRows(func(y int, _ []rune) { rows = append(rows, y) })
	if !slices.Equal(rows, []int{4, 5}) {
		t.Errorf("changed rows %v, want [4 5]", rows)
	}
}

// TestSplitUTF8: a multi-byte character cut between two reads still lands
// on the screen whole, in both models.
func TestSplitUTF8(t *testing.T) {
	for _, m := range []termModel{newGrid(20, 3), newVTModel(20, 3)} {
		b := []byte("a│b→c")
		for i := range b {
			m.write(b[i : i+1])
		}
		if got := strings.Split(screenText(m), "\n")[0]; got != "a│b→c" {
			t.Errorf("%T shows %q", m, got)
		}
	}
}

// TestGridWide: a wide character takes two cells, and overwriting half of
// it blanks the other half.
func TestGridWide(t *testing.T) {
	g := newGrid(6, 2)
	g.write([]byte("a世b"))
	if got := strings.Split(screenText(g), "\n")[0]; got != "a世b" {
		t.Errorf("got %q", got)
	}
	g.write([]byte("\x1b[1;3Hx"))
	if got := strings.Split(screenText(g), "\n")[0]; got != "a xb" {
		t.Errorf("after overwrite: %q", got)
	}
	g = newGrid(6, 3)
	g.write([]byte("\x1b[1;6H世"))
	if got := strings.Split(screenText(g), "\n"); got[0] != "" || got[1] != "世" {
		t.Errorf("a wide character at the last column should wrap: %q", got)
	}
}

// BenchmarkModels compares the cost per byte of the two terminal models
// on a full repaint of a chat screen, the worst case a renderer sends.
func BenchmarkModels(b *testing.B) {
	frame := chatFrame(100, 30)
	for _, kind := range []string{emulatorGrid, emulatorVT10x} {
		b.Run(kind, func(b *testing.B) {
			m, _ := newTermModel(kind, 100, 30)
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				m.write(frame)
				m.changedRows(func(_ int, row []rune) { scanTokens(row, func(foundToken) {}) })
			}
		})
	}
}

// chatFrame is a whole chat screen as a line renderer repaints it: styled
// time, name and token on every pane row, the online list at the right.
func chatFrame(cols, rows int) []byte {
	var b strings.Builder
	b.WriteString("\x1b[H")
	for y := range rows - 2 {
		fmt.Fprintf(&b, "\x1b[38;5;245m12:%02d \x1b[0m\x1b[1;38;5;%dmload%04d\x1b[0m: t%d-%d-abcde%s\x1b[38;5;240m│\x1b[0m \x1b[38;5;81mload%04d\x1b[0m\x1b[K\r\n",
			y, 100+y, y, y, y*3, strings.Repeat(" ", cols-52), y)
	}
	b.WriteString("\x1b[7m load0001 · #lobby · 100 online\x1b[K\x1b[0m\r\n> \x1b[7m \x1b[0m\x1b[K")
	return []byte(b.String())
}

// FuzzGrid feeds the grid arbitrary bytes, split at an arbitrary point:
// it never panics, keeps the cursor and every row inside the screen, and
// reports only rows that exist, whether changed or scrolled off.
func FuzzGrid(f *testing.F) {
	for _, s := range []string{
		"\x1b[1;4r\x1b[4;1Ha: t1-2-abcde\x1b[4;1H\n\nnext",
		"\x1b[?1049h\x1b[2J\x1b[5;1H12:00 a: t1-2-abcde\x1bM\x1bM\x1b[r",
		"你好👍🏽\x1b[10X\x1b[10C|\x1b[K\r\n\x1b[999;999H\x1b[3L\x1b[2M",
		"\x1b[0;0r\x1b[5;2r\x1bD\x1bE\x1b7\x1b8\x1bc",
	} {
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		g := newGrid(20, 6)
		g.onScrollOff(func(row []rune) {
			if len(row) != 20 {
				t.Fatalf("row scrolled off with %d cells", len(row))
			}
		})
		at := min(int(cut), len(b))
		g.write(b[:at])
		g.write(b[at:])
		cols, rows := g.size()
		if g.x < 0 || g.x >= cols || g.y < 0 || g.y >= rows {
			t.Fatalf("cursor at %d,%d on a %dx%d screen", g.x, g.y, cols, rows)
		}
		for y := range rows {
			if n := len(g.rowText(y)); n != cols {
				t.Fatalf("row %d has %d cells, want %d", y, n, cols)
			}
		}
		g.changedRows(func(y int, row []rune) {
			if y < 0 || y >= rows || len(row) != cols {
				t.Fatalf("changed row %d of %d cells", y, len(row))
			}
		})
	})
}

// TestGridScrollOff: a changed row pushed out of the scroll region before
// anyone looked at it is handed to the scroll-off hook, once, with its text;
// rows already looked at and blank rows are not.
func TestGridScrollOff(t *testing.T) {
	g := newGrid(20, 6)
	var off []string
	g.onScrollOff(func(row []rune) { off = append(off, strings.TrimRight(string(row), " ")) })
	// A pane of rows 1-4 (a scroll region), like the server's.
	g.write([]byte("\x1b[1;4r\x1b[4;1Hseen"))
	g.forget()
	// One read: two frames, each scrolling the pane and printing a row; the
	// first frame's row leaves the region (4 rows) before the read ends.
	g.write([]byte("\n\x1b[4;1Hfirst\n\n\n\n\x1b[4;1Hsecond"))
	if !slices.Equal(off, []string{"first"}) {
		t.Fatalf("scrolled off unseen: %q, want [first]", off)
	}
	var changed []string
	g.changedRows(func(_ int, row []rune) { changed = append(changed, strings.TrimRight(string(row), " ")) })
	if !slices.Equal(changed, []string{"second"}) {
		t.Fatalf("changed rows %q, want [second]", changed)
	}
	// Reverse index pushes rows off the bottom of the region: "second" was
	// looked at above, "top" was not.
	off = nil
	g.write([]byte("\x1b[1;1Htop\x1b[1;1H\x1bM\x1bM\x1bM\x1bM"))
	if !slices.Equal(off, []string{"top"}) {
		t.Fatalf("scrolled off the bottom: %q, want [top]", off)
	}
}

// TestReadyMarkerScrolledOff: a server that prints joins as plain lines
// (ssh-chat) can push the ready marker off the screen within the read that
// brings it; the session still counts as ready.
func TestReadyMarkerScrolledOff(t *testing.T) {
	stats := &runStats{}
	c := &chatSession{scr: mustGrid(t), stats: stats, tr: newTracker(newTokenReg(1, 1, 1), stats), ready: make(chan struct{})}
	c.watchScrollOff()
	c.consume([]byte(" * " + readyMarker + "\r\na\r\nb\r\nc\r\nd\r\ne\r\nf\r\n"))
	select {
	case <-c.ready:
	default:
		t.Fatalf("the marker scrolled off in one read was not counted; screen:\n%s", screenText(c.scr))
	}
}

func mustGrid(t *testing.T) termModel {
	t.Helper()
	scr, err := newTermModel(emulatorGrid, 40, 5)
	if err != nil {
		t.Fatal(err)
	}
	return scr
}
