package sshapp

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/time/rate"
)

// chunks is a reader that returns its pieces one read at a time, as a
// network would.
type chunks struct{ parts [][]byte }

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	if n < len(c.parts[0]) {
		c.parts[0] = c.parts[0][n:]
	} else {
		c.parts = c.parts[1:]
	}
	return n, nil
}

// readAll drains an inputReader with Bubble Tea's 256-byte buffer, checking
// every read is short, and returns what it handed on and what it said.
func readAll(t testing.TB, r io.Reader, limit int) (string, []string) {
	var told []string
	ir := newInputReader(context.Background(), r, limit, func(s string) { told = append(told, s) })
	ir.slow = rate.NewLimiter(rate.Inf, 0)
	var out bytes.Buffer
	buf := make([]byte, 256)
	for {
		n, err := ir.Read(buf)
		if n >= len(buf) {
			t.Fatalf("a full read of %d bytes: Bubble Tea would wait for more", n)
		}
		out.Write(buf[:n])
		if err != nil {
			return out.String(), told
		}
	}
}

func TestInputReader(t *testing.T) {
	long := strings.Repeat("a", 1000)
	for _, tc := range []struct {
		name  string
		parts []string
		want  string
		told  int
	}{
		{"typing passes", []string{"hello\r", "world\r"}, "hello\rworld\r", 0},
		{"a line at the limit passes", []string{strings.Repeat("b", 100) + "\r"}, strings.Repeat("b", 100) + "\r", 0},
		{"a long line is cut up to its line end", []string{long, long, "\rnext\r"}, strings.Repeat("a", 100) + "\rnext\r", 1},
		{"a long paste is closed at the limit", []string{pasteStart + long + pasteEnd + "x"}, pasteStart + strings.Repeat("a", 100) + pasteEnd + "x", 1},
		{"a paste within the limit passes whole", []string{pasteStart + "one\rtwo" + pasteEnd + "\r"}, pasteStart + "one\rtwo" + pasteEnd + "\r", 0},
		{"an endless paste is cut once", []string{pasteStart, long, long, long}, pasteStart + strings.Repeat("a", 100) + pasteEnd, 1},
		{"lines in a paste count for the paste", []string{pasteStart + strings.Repeat("line\r", 30) + pasteEnd}, pasteStart + strings.Repeat("line\r", 20) + pasteEnd, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &chunks{}
			for _, p := range tc.parts {
				c.parts = append(c.parts, []byte(p))
			}
			got, told := readAll(t, c, 100)
			if got != tc.want {
				t.Fatalf("handed on %q\nwant %q", got, tc.want)
			}
			if len(told) != tc.told {
				t.Fatalf("told the user %q", told)
			}
		})
	}
}

// A full read never cuts an escape sequence: an arrow key after a run of
// 240 characters arrives whole.
func TestInputReaderKeepsSequencesWhole(t *testing.T) {
	in := strings.Repeat("x", inputChunk-3) + "\x1b[A" + "\x1b[1;5C" + "\r"
	ir := newInputReader(context.Background(), strings.NewReader(in), 1<<20, nil)
	buf := make([]byte, 256)
	var reads []string
	for {
		n, err := ir.Read(buf)
		reads = append(reads, string(buf[:n]))
		if err != nil {
			break
		}
	}
	for _, r := range reads {
		if i := strings.LastIndexByte(r, 0x1b); i >= 0 && !strings.ContainsAny(r[i:], "AC") {
			t.Fatalf("a read ended inside a sequence: %q", r[i:])
		}
	}
	if got := strings.Join(reads, ""); got != in {
		t.Fatalf("handed on %q", got)
	}
}

func FuzzInputReader(f *testing.F) {
	f.Add([]byte("hello\rworld"), uint8(7))
	f.Add([]byte(pasteStart+"abc\rdef"+pasteEnd), uint8(3))
	f.Add([]byte("\x1b[200\x1b[200~x\x1b[201\x1b[201~"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, cut uint8) {
		const limit = 16
		c := &chunks{}
		for len(in) > 0 {
			n := min(len(in), int(cut)+1)
			c.parts = append(c.parts, in[:n])
			in = in[n:]
		}
		out, _ := readAll(t, c, limit)
		// Outside pastes no line is longer than the limit; no paste is.
		run, paste := 0, false
		for i := 0; i < len(out); i++ {
			switch {
			case !paste && strings.HasPrefix(out[i:], pasteStart):
				paste, run = true, 0
				i += len(pasteStart) - 1
				continue
			case paste && strings.HasPrefix(out[i:], pasteEnd):
				paste, run = false, 0
				i += len(pasteEnd) - 1
				continue
			case !paste && (out[i] == '\r' || out[i] == '\n'):
				run = 0
				continue
			}
			// The escape bytes of a cut end marker count too.
			if run++; run > limit+len(pasteEnd) {
				t.Fatalf("%d bytes handed on without a line end: %q", run, out)
			}
		}
	})
}

// Item 4 of issue 14: a chat client sending bytes without a line end used
// to keep a core busy in Bubble Tea's input parser. Past the line limit the
// user is told, and the server reads slowly: the sender is held back by the
// SSH window rather than read at wire speed.
func TestEndlessLineIsCutAndHeldBack(t *testing.T) {
	ts := startServer(t, t.TempDir(), func(c *Config) { c.Limits.Session.MaxInputLine = 4096 })
	u := openUI(t, ts.login("alice", "correct horse battery"), 100, 30)
	u.waitFor("Welcome")
	const total = 16 << 20
	var written atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		chunk := bytes.Repeat([]byte("z"), 32<<10)
		for written.Load() < total {
			n, err := u.stdin.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	u.waitFor("line over 4096 bytes")
	// The server has not read the 16 MiB: the client is blocked on the
	// SSH window (2 MiB) behind a reader that takes 16 KiB a second.
	if n := written.Load(); n >= total {
		t.Fatalf("the server read all %d bytes of an endless line", n)
	}
	if !strings.Contains(ts.logs.String(), "input line cut") {
		t.Fatal("not logged")
	}
	u.sess.Close()
	wg.Wait()
}

// lines is an endless input of long lines: n bytes without a line end,
// then Enter.
type lines struct {
	n, at int
}

func (l *lines) Read(p []byte) (int, error) {
	for i := range p {
		if l.at == l.n {
			p[i], l.at = '\r', 0
			continue
		}
		p[i] = 'a'
		l.at++
	}
	return len(p), nil
}

// enterCounter is a model that quits after n Enter keys.
type enterCounter struct{ left int }

func (m *enterCounter) Init() tea.Cmd { return nil }
func (m *enterCounter) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && k.Type == tea.KeyEnter {
		if m.left--; m.left <= 0 {
			return m, tea.Quit
		}
	}
	return m, nil
}
func (m *enterCounter) View() string { return "" }

// BenchmarkLongLineInput is what Bubble Tea's input parser costs per byte
// of 64 KiB lines, read straight from the session (its reads fill its
// buffer, so it re-scans the growing line) and through inputReader (short
// reads; the limit set out of the way). BENCHMARKS.md has the numbers.
func BenchmarkLongLineInput(b *testing.B) {
	const line = 64 << 10
	for _, tc := range []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"direct", func(r io.Reader) io.Reader { return r }},
		{"inputReader", func(r io.Reader) io.Reader {
			return newInputReader(context.Background(), r, 1<<30, nil)
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(line + 1)
			p := tea.NewProgram(&enterCounter{left: b.N}, tea.WithInput(tc.wrap(&lines{n: line})),
				tea.WithOutput(io.Discard), tea.WithoutRenderer(), tea.WithoutSignalHandler())
			if _, err := p.Run(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
