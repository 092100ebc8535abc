package history

import (
	"bytes"
	"slices"
)

// line is one line found walking backwards: its place in the file and, unless
// it is longer than MaxLineBytes, its bytes without the '\n'.
type line struct {
	off, end int64  // [off, end) in the file, end just past the '\n'
	data     []byte // valid only until the next call of next
	tooLong  bool
}

// backScanner yields the lines of [0, end) from last to first, reading the
// file in chunks from the end. Memory stays near MaxLineBytes plus two chunks
// whatever the file's size: a line longer than MaxLineBytes is walked past
// without being held. Chunks are read into mem right to left, so a line that
// spans many chunks is assembled without copying it once per chunk.
type backScanner struct {
	l          *Log
	lo         int64  // file offset of mem[head]
	mem        []byte // mem[head:tail] is the part of [0, end) not yet yielded
	head, tail int    // mem[tail-1] is '\n' whenever head < tail
}

// scanner walks backwards from end, which must be 0 or just past a '\n'.
func (l *Log) scanner(end int64) *backScanner {
	mem := make([]byte, l.chunk)
	return &backScanner{l: l, lo: end, mem: mem, head: len(mem), tail: len(mem)}
}

// next returns the previous line, or ok false at the start of the file.
func (s *backScanner) next() (ln line, ok bool, err error) {
	hi := s.lo + int64(s.tail-s.head)
	if hi == 0 {
		return line{}, false, nil
	}
	search := s.tail - 1 // mem[head:search] may hold the '\n' ending the line before
	if s.head == s.tail {
		n, err := s.load()
		if err != nil {
			return line{}, false, err
		}
		search = s.head + n - 1
	}
	for {
		if i := bytes.LastIndexByte(s.mem[s.head:search], '\n'); i >= 0 {
			return s.cut(s.head+i+1, hi), true, nil
		}
		if s.lo == 0 {
			return s.cut(s.head, hi), true, nil
		}
		if hi-s.lo-1 > MaxLineBytes {
			ln, err := s.skipLong(hi)
			return ln, err == nil, err
		}
		n, err := s.load()
		if err != nil {
			return line{}, false, err
		}
		// Only the bytes just read can hold the '\n' we are looking for.
		search = s.head + n
	}
}

// cut yields mem[start:tail] as a line and keeps what precedes it.
func (s *backScanner) cut(start int, hi int64) line {
	ln := line{off: s.lo + int64(start-s.head), end: hi, data: s.mem[start : s.tail-1]}
	if len(ln.data) > MaxLineBytes {
		ln.data, ln.tooLong = nil, true
	}
	s.tail = start
	return ln
}

// load reads up to one chunk from just before lo into mem just before head,
// making room first if needed, and returns how much it read.
func (s *backScanner) load() (int, error) {
	n := s.l.chunk
	if int64(n) > s.lo {
		n = int(s.lo)
	}
	if s.head < n {
		have := s.tail - s.head
		mem := s.mem
		if need := have + n; need > len(mem) {
			// Only a line longer than a chunk gets here; doubling keeps its
			// assembly linear in its length.
			mem = make([]byte, 2*need)
		}
		copy(mem[len(mem)-have:], s.mem[s.head:s.tail])
		s.mem, s.head, s.tail = mem, len(mem)-have, len(mem)
	}
	if err := s.l.readAt(s.mem[s.head-n:s.head], s.lo-int64(n)); err != nil {
		return 0, err
	}
	s.head -= n
	s.lo -= int64(n)
	return n, nil
}

// skipLong walks back to the start of a line already known to be longer than
// MaxLineBytes, holding one chunk at a time.
func (s *backScanner) skipLong(hi int64) (line, error) {
	s.head, s.tail = len(s.mem), len(s.mem)
	for s.lo > 0 {
		n, err := s.load()
		if err != nil {
			return line{}, err
		}
		if i := bytes.LastIndexByte(s.mem[s.head:s.head+n], '\n'); i >= 0 {
			s.tail = s.head + i + 1
			return line{off: s.lo + int64(i+1), end: hi, tooLong: true}, nil
		}
		s.head, s.tail = len(s.mem), len(s.mem)
	}
	return line{off: 0, end: hi, tooLong: true}, nil
}

// walkRaw calls fn for each entry of the durable part of the log, newest
// first, until fn returns false. pre (when not nil) looks at each line's
// bytes first and says whether to decode the line for fn, and whether to go
// on. Lines that do not parse are logged and skipped, so damage to one line
// never hides its neighbours. It holds the read lock, so neither pre nor fn
// may call the Log.
func (l *Log) walkRaw(pre func(raw []byte) (parse, more bool), fn func(Entry) bool) error {
	l.rw.RLock()
	defer l.rw.RUnlock()
	if l.closed {
		return ErrClosed
	}
	// Read only up to the last durable batch: a batch being written or cut
	// back after a failed write lies beyond it.
	sc := l.scanner(l.size.Load())
	for {
		ln, ok, err := sc.next()
		if err != nil || !ok {
			return err
		}
		if ln.tooLong {
			l.logWarn("skipping overlong line", "path", l.path, "offset", ln.off, "bytes", ln.end-ln.off-1)
			continue
		}
		if pre != nil {
			parse, more := pre(ln.data)
			if !more {
				return nil
			}
			if !parse {
				continue
			}
		}
		e, err := ParseLine(ln.data)
		if err != nil {
			l.logWarn("skipping unreadable line", "path", l.path, "offset", ln.off, "err", err)
			continue
		}
		if !fn(e) {
			return nil
		}
	}
}

// Tail returns the last n entries for which keep returns true (all entries
// when keep is nil), oldest first. It reads backwards from the end, so its
// cost follows what it returns plus what keep rejects, not the file's size.
// keep must not call the Log.
func (l *Log) Tail(n int, keep func(Entry) bool) ([]Entry, error) {
	es, _, err := l.TailFiltered(n, keep, Filter{})
	return es, err
}

// TailFiltered is Tail with a Filter. complete is false when the read
// stopped at f.MaxLines with fewer than n entries.
func (l *Log) TailFiltered(n int, keep func(Entry) bool, f Filter) (es []Entry, complete bool, err error) {
	if n <= 0 {
		return nil, true, nil
	}
	var out []Entry
	complete, err = l.walkFiltered(f, 0, func(e Entry) bool {
		if keep == nil || keep(e) {
			out = append(out, e)
		}
		return len(out) < n
	})
	if err != nil {
		return nil, false, err
	}
	slices.Reverse(out)
	return out, complete, nil
}

// Since returns entries with ID greater than afterID for which keep returns
// true (all when keep is nil), oldest first: the first max of them, so a
// client catching up pages forward from its last ID without gaps. It reads
// backwards from the end until an ID at or below afterID, so its cost follows
// how far behind afterID is, not the file's size. keep must not call the Log.
func (l *Log) Since(afterID uint64, keep func(Entry) bool, max int) ([]Entry, error) {
	es, _, err := l.SinceFiltered(afterID, keep, max, Filter{})
	return es, err
}

// Filter makes a backward read cheaper when it looks for rare entries.
type Filter struct {
	// Contains, when set, skips every line that does not contain it
	// without decoding the line: only its ID is read, to know where to
	// stop. keep still decides about the lines that do contain it.
	Contains []byte
	// MaxLines, when above 0, ends the read after that many lines.
	MaxLines int
}

// SinceFiltered is Since with a Filter. complete is false when the read
// stopped at f.MaxLines before reaching afterID.
func (l *Log) SinceFiltered(afterID uint64, keep func(Entry) bool, max int, f Filter) (es []Entry, complete bool, err error) {
	if max <= 0 {
		return nil, true, nil
	}
	// out is newest first; only its last max elements (the oldest) can be
	// returned, so it is trimmed as it grows to keep memory near max.
	var out []Entry
	complete, err = l.walkFiltered(f, afterID, func(e Entry) bool {
		if e.ID <= afterID {
			return false
		}
		if keep == nil || keep(e) {
			out = append(out, e)
			if len(out) >= 2*max {
				out = append(out[:0], out[len(out)-max:]...)
			}
		}
		return true
	})
	if err != nil {
		return nil, false, err
	}
	if len(out) > max {
		out = out[len(out)-max:]
	}
	slices.Reverse(out)
	return out, complete, nil
}

// walkFiltered is walk with a Filter: lines without f.Contains are not
// decoded, and the walk ends at such a line whose ID is at or below after,
// or after f.MaxLines lines (complete is then false).
func (l *Log) walkFiltered(f Filter, after uint64, fn func(Entry) bool) (complete bool, err error) {
	lines := 0
	complete = true
	err = l.walkRaw(func(raw []byte) (parse, more bool) {
		lines++
		if f.MaxLines > 0 && lines > f.MaxLines {
			complete = false
			return false, false
		}
		if f.Contains == nil || bytes.Contains(raw, f.Contains) {
			return true, true
		}
		if id, ok := peekID(raw); ok {
			return false, id > after
		}
		return true, true // not in the writer's shape: decode it to be sure
	}, fn)
	return complete, err
}

// peekID reads the ID of a line as the log writes it, {"id":N,...,
// without decoding the rest.
func peekID(raw []byte) (uint64, bool) {
	const prefix = `{"id":`
	if !bytes.HasPrefix(raw, []byte(prefix)) {
		return 0, false
	}
	var id uint64
	i := len(prefix)
	for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
		if i-len(prefix) >= 19 {
			return 0, false // more digits than a uint64 safely holds
		}
		id = id*10 + uint64(raw[i]-'0')
	}
	if i == len(prefix) || i >= len(raw) || raw[i] != ',' {
		return 0, false
	}
	return id, true
}
