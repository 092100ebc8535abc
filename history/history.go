package history

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/charmbracelet/log"
)

// chunkSize is how much the log reads at a time when walking backwards from
// the end: big enough that a Tail of a screenful is one read, small enough
// that start-up costs the same on a 1 KiB and a 10 GiB file.
const chunkSize = 64 << 10

// ErrClosed is returned by AppendBatch, Tail and Since after Close, so a
// late writer during shutdown gets an error rather than a panic.
var ErrClosed = errors.New("history closed")

// ErrBroken is wrapped by every AppendBatch after an fsync failed. After a
// failed fsync the kernel may have dropped the dirty pages and cleared the
// error, so a retry that "succeeds" would acknowledge data that is not on disk
// (the lesson etcd and PostgreSQL learned). The only safe way on is a restart,
// whose Open re-reads what really reached the file.
var ErrBroken = errors.New("history broken after a failed fsync; restart needed")

// Options configures Open. The zero value is what production uses.
type Options struct {
	// Logger receives warnings about recovered or skipped lines and errors
	// about failed writes. Nil means no logging.
	Logger *log.Logger
	// NoSync skips every fsync (after each batch and after cutting a torn
	// tail), for benchmarks and fuzzing only: an acknowledged batch may then
	// be lost by a crash.
	NoSync bool

	// WriteHook, if set, is called instead of (*os.File).Write for the one
	// write of each batch. It exists for fault injection in tests of other
	// packages (a disk that fills up); nil in production.
	WriteHook func(f *os.File, p []byte) (int, error)
	// SyncHook, if set, is called instead of (*os.File).Sync, after each
	// batch and after cutting a torn tail at Open. It exists for fault
	// injection in tests (a disk that fails to flush); nil in production.
	SyncHook func(f *os.File) error

	// Observe, if set, is told of each batch made durable: how many
	// entries, how long the whole append took and how long its fsync took.
	// It runs under the append lock, so it must be quick (a histogram).
	Observe func(entries int, appendTook, syncTook time.Duration)
}

// Log is an open message log. Its methods are safe for concurrent use:
// appends are serialised, and readers only ever read up to the size of the
// last durable batch, so they never see half a batch.
type Log struct {
	path   string
	logger *log.Logger
	opts   Options
	chunk  int

	// mu serialises appends and guards w, broken and the appending half of
	// closed. Unless the log is broken, the file's size on disk equals size
	// whenever mu is free.
	mu     sync.Mutex
	w      *os.File // O_WRONLY|O_APPEND
	broken error    // the fsync error that broke the log, if any

	// rw lets readers use r while Close waits for them to finish.
	rw     sync.RWMutex
	r      *os.File // O_RDONLY, read with ReadAt only
	closed bool     // set under both mu and rw

	size   atomic.Int64  // end of the last durable batch
	lastID atomic.Uint64 // highest ID known to be in the file

	readBytes atomic.Int64 // bytes read through r, so tests can prove reads stay small
}

// Open opens the log at path, creating it with mode 0600 if missing. The
// parent folder must exist. Open reads only the end of the file: it cuts a
// torn or zero-filled tail left by a crash back to the last line that parses,
// and takes LastID from that line, so start-up costs the same whatever the
// file's size.
func Open(path string, opts Options) (*Log, error) {
	return open(path, opts, chunkSize)
}

// open is Open with the chunk size as a parameter, so tests can make lines
// span many chunks without writing megabytes.
func open(path string, opts Options, chunk int) (*Log, error) {
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return nil, fmt.Errorf("open history %s: is a directory, want a file", path)
		}
		if !fi.Mode().IsRegular() {
			// A FIFO would block Open forever; a device is never a log.
			return nil, fmt.Errorf("open history %s: not a regular file (%s)", path, fi.Mode().Type())
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(path)
		if _, derr := os.Stat(dir); errors.Is(derr, fs.ErrNotExist) {
			return nil, fmt.Errorf("open history %s: folder %s does not exist", path, dir)
		}
	}

	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		if errors.Is(err, syscall.EISDIR) {
			return nil, fmt.Errorf("open history %s: is a directory, want a file", path)
		}
		return nil, fmt.Errorf("open history: %w", err)
	}
	l := &Log{path: path, logger: opts.Logger, opts: opts, chunk: chunk, w: w}
	if err := l.init(); err != nil {
		w.Close()
		if l.r != nil {
			l.r.Close()
		}
		return nil, err
	}
	return l, nil
}

// init fixes the mode, opens the reader and recovers the tail.
func (l *Log) init() error {
	fi, err := l.w.Stat()
	if err != nil {
		return fmt.Errorf("open history: %w", err)
	}
	// The log holds private messages: 0600 whatever the umask was when it was
	// created, and whatever an operator did to it since.
	if fi.Mode().Perm() != 0o600 {
		if err := l.w.Chmod(0o600); err != nil {
			return fmt.Errorf("open history: %w", err)
		}
	}
	l.r, err = os.Open(l.path)
	if err != nil {
		return fmt.Errorf("open history: %w", err)
	}
	return l.recover(fi.Size())
}

// recover finds the last line that parses, takes LastID from it, and cuts
// whatever follows it. Only a crash during an append leaves anything there
// (every complete append ends in a line that parses), and appending after
// junk would glue the next line to it.
func (l *Log) recover(size int64) error {
	nl, err := l.lastNewline(size)
	if err != nil {
		return fmt.Errorf("open history %s: %w", l.path, err)
	}
	good := int64(0)
	sc := l.scanner(nl + 1)
	for {
		rec, ok, err := sc.next()
		if err != nil {
			return fmt.Errorf("open history %s: %w", l.path, err)
		}
		if !ok {
			break
		}
		if rec.tooLong {
			continue
		}
		e, err := ParseLine(rec.data)
		if err != nil {
			continue
		}
		good = rec.end
		l.lastID.Store(e.ID)
		break
	}
	if good < size {
		l.logWarn("cutting torn tail", "path", l.path, "bytes", size-good)
		if err := l.w.Truncate(good); err != nil {
			return fmt.Errorf("open history: cut torn tail: %w", err)
		}
		if err := l.sync(); err != nil {
			return fmt.Errorf("open history: cut torn tail: %w", err)
		}
	}
	l.size.Store(good)
	return nil
}

// lastNewline returns the offset of the last '\n' before end, or -1.
func (l *Log) lastNewline(end int64) (int64, error) {
	buf := make([]byte, l.chunk)
	for end > 0 {
		n := int64(l.chunk)
		if n > end {
			n = end
		}
		if err := l.readAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i), nil
		}
		end -= n
	}
	return -1, nil
}

// LastID returns the highest ID in the log: the ID of the last line in the
// file at Open, raised by every batch appended since. Callers assign IDs in
// increasing order, so the last line holds the highest.
func (l *Log) LastID() uint64 { return l.lastID.Load() }

// Size returns the size in bytes of the durable part of the file.
func (l *Log) Size() int64 { return l.size.Load() }

// AppendBatch writes es as consecutive lines with one write and one fsync, and
// returns only when they are durable, so the caller may acknowledge them. A
// batch is all or nothing: if the write fails (a full or read-only disk) the
// file is cut back to where it was and the error is returned; the log keeps
// working and a later batch succeeds once the cause is gone. If the fsync
// fails, this and every later call return an error wrapping ErrBroken.
// An entry that cannot be encoded (ErrTooLong, a year outside 0-9999) fails
// the whole batch before anything is written. Time is stored as UTC; IDs are
// the caller's and should increase.
func (l *Log) AppendBatch(es []Entry) error {
	start := time.Now()
	var buf bytes.Buffer
	var maxID uint64
	for _, e := range es {
		if err := appendLine(&buf, e); err != nil {
			return fmt.Errorf("append history: %w", err)
		}
		maxID = max(maxID, e.ID)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if l.broken != nil {
		return fmt.Errorf("append history: %w (%w)", ErrBroken, l.broken)
	}
	if buf.Len() == 0 {
		return nil
	}

	prev := l.size.Load()
	n, err := l.write(buf.Bytes())
	if err == nil && n != buf.Len() {
		err = io.ErrShortWrite
	}
	if err != nil {
		// Leave nothing partial: the next append would be glued to it.
		if terr := l.w.Truncate(prev); terr != nil {
			l.broken = terr
			l.logError("cannot remove failed write", "path", l.path, "err", err, "truncate_err", terr)
			return fmt.Errorf("append history: %w; cut back: %w: %w", err, ErrBroken, terr)
		}
		l.logWarn("append failed", "path", l.path, "bytes", buf.Len(), "err", err)
		return fmt.Errorf("append history: %w", err)
	}
	syncStart := time.Now()
	if err := l.sync(); err != nil {
		l.broken = err
		l.logError("fsync failed, refusing further appends until restart", "path", l.path, "err", err)
		return fmt.Errorf("append history: %w (%w)", ErrBroken, err)
	}
	l.size.Store(prev + int64(buf.Len()))
	if maxID > l.lastID.Load() {
		l.lastID.Store(maxID)
	}
	if l.opts.Observe != nil {
		now := time.Now()
		l.opts.Observe(len(es), now.Sub(start), now.Sub(syncStart))
	}
	return nil
}

// Err is the error that stopped the log acknowledging appends (a failed
// fsync), or nil while it still does.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.broken
}

// write is the one write of a batch, through the hook when tests set one.
func (l *Log) write(p []byte) (int, error) {
	if l.opts.WriteHook != nil {
		return l.opts.WriteHook(l.w, p)
	}
	return l.w.Write(p)
}

// sync flushes the file, through the hook when tests set one.
func (l *Log) sync() error {
	if l.opts.NoSync {
		return nil
	}
	if l.opts.SyncHook != nil {
		return l.opts.SyncHook(l.w)
	}
	return l.w.Sync()
}

// readAt reads exactly len(p) bytes at off from the read-only handle.
func (l *Log) readAt(p []byte, off int64) error {
	n, err := l.r.ReadAt(p, off)
	l.readBytes.Add(int64(n))
	if n == len(p) {
		return nil
	}
	if err == io.EOF {
		// Only a foreign writer can shrink the file under us.
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read history at %d: %w", off, err)
}

// Close waits for appends and reads in progress, then closes the file. It is
// idempotent, so shutdown paths may all call it; afterwards AppendBatch, Tail
// and Since return ErrClosed while LastID and Size keep their last values.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rw.Lock()
	defer l.rw.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	if err := l.w.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close history: %w", err))
	}
	if err := l.r.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close history: %w", err))
	}
	return errors.Join(errs...)
}

func (l *Log) logWarn(msg string, kv ...any) {
	if l.logger != nil {
		l.logger.Warn(msg, kv...)
	}
}

func (l *Log) logError(msg string, kv ...any) {
	if l.logger != nil {
		l.logger.Error(msg, kv...)
	}
}
