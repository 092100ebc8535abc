package sshapp

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/time/rate"
)

// Bubble Tea v1 reads input 256 bytes at a time and, when a read fills its
// buffer and ends inside a run of printable characters or an unfinished
// bracketed paste, keeps the bytes and scans them again with the next read:
// a client that never sends a line end makes every read cost more than the
// last (measured at ~1.4 cores for one session). inputReader sits between
// the session and Bubble Tea so that cost stays constant per byte:
//
//   - every read it hands on is short (at most inputChunk bytes), so Bubble
//     Tea never waits for more: a run of characters is consumed at once;
//   - a line (up to Enter) or a bracketed paste is cut at a limit: the user
//     is told, a paste is closed where it was cut, and the rest of the line
//     or paste is dropped, read at dropRate, not at wire speed: a client
//     that keeps sending is held back by the SSH window (backpressure);
//   - an escape sequence cut by a full read waits for the next one, so
//     arrow keys arrive whole.
type inputReader struct {
	r      io.Reader
	ctx    context.Context
	limit  int
	notify func(string)
	slow   *rate.Limiter

	in      [inputChunk]byte
	pending int // bytes of in held from the last read (an escape sequence's start)

	count    int  // bytes since the last line end, or since the paste began
	paste    bool // inside a bracketed paste
	dropping bool // over the limit: dropping until the line or paste ends
	start    int  // how much of pasteStart was just seen
	end      int  // how much of pasteEnd was just seen
}

const (
	// inputChunk is below Bubble Tea's 256-byte read buffer (so every read
	// is short), with room for an injected pasteEnd.
	inputChunk = 256 - 1 - len(pasteEnd)
	pasteStart = "\x1b[200~"
	pasteEnd   = "\x1b[201~"
	// escHold is how far from the end of a full read an escape character
	// makes the rest wait for the next read (longer than any key or mouse
	// sequence a terminal sends).
	escHold = 24
	// dropRate is how fast input past the limit is read (bytes/s).
	dropRate = 16 << 10
)

func newInputReader(ctx context.Context, r io.Reader, limit int, notify func(string)) *inputReader {
	return &inputReader{r: r, ctx: ctx, limit: limit, notify: notify, slow: rate.NewLimiter(dropRate, inputChunk)}
}

// Read hands Bubble Tea at most inputChunk bytes.
func (ir *inputReader) Read(p []byte) (int, error) {
	for {
		if ir.dropping {
			if err := ir.slow.WaitN(ir.ctx, inputChunk); err != nil {
				return 0, err
			}
		}
		n, err := ir.r.Read(ir.in[ir.pending:])
		n += ir.pending
		ir.pending = 0
		use := n
		if n == len(ir.in) {
			// A full read may have cut a sequence: keep its start.
			for i := n - 1; i >= n-escHold; i-- {
				if ir.in[i] == 0x1b {
					use = i
					break
				}
			}
		}
		out := ir.scan(ir.in[:use], p[:0])
		ir.pending = copy(ir.in[:], ir.in[use:n])
		if len(out) > 0 || err != nil {
			return len(out), err
		}
	}
}

// scan passes the bytes of b that are not dropped to out, tracking line
// ends and bracketed pastes, and cuts a line or paste at the limit.
func (ir *inputReader) scan(b, out []byte) []byte {
	for _, c := range b {
		if ir.paste {
			ir.end = advance(ir.end, pasteEnd, c)
			if ir.end == len(pasteEnd) {
				ir.paste, ir.end, ir.count = false, 0, 0
				if ir.dropping {
					ir.dropping = false
					continue // the closing marker was sent already
				}
				out = append(out, c)
				continue
			}
			if ir.dropping {
				continue
			}
			if ir.count++; ir.count > ir.limit {
				out = append(out, pasteEnd...)
				ir.dropping = true
				ir.tell(fmt.Sprintf("paste over %d bytes: the rest of it was dropped", ir.limit))
				continue
			}
			out = append(out, c)
			continue
		}
		if ir.dropping {
			if c == '\r' || c == '\n' {
				// The line end goes on: the editor, which holds at most
				// a message's worth of the line, decides what Enter does,
				// as it would for any line over its limit.
				ir.dropping, ir.count = false, 0
				out = append(out, c)
			}
			continue
		}
		ir.start = advance(ir.start, pasteStart, c)
		if ir.start == len(pasteStart) {
			ir.paste, ir.start, ir.count = true, 0, 0
			out = append(out, c)
			continue
		}
		if c == '\r' || c == '\n' {
			ir.count = 0
			out = append(out, c)
			continue
		}
		if ir.count++; ir.count > ir.limit {
			ir.dropping = true
			ir.tell(fmt.Sprintf("line over %d bytes: the rest of it, up to the next line end, was dropped", ir.limit))
			continue
		}
		out = append(out, c)
	}
	return out
}

func (ir *inputReader) tell(msg string) {
	if ir.notify != nil {
		ir.notify(msg)
	}
}

// advance is how much of marker has been seen after c, given that got
// bytes of it had been. The markers do not overlap themselves, so a
// mismatch restarts at 0 (or 1 on a new ESC).
func advance(got int, marker string, c byte) int {
	if marker[got] == c {
		return got + 1
	}
	if c == marker[0] {
		return 1
	}
	return 0
}
