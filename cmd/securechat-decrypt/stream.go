package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The inbox stream, as the server's `inbox` command writes it: one block per
// message, blocks separated by a blank line.
//
//	securechat-sealed id=42 time=2026-11-22T05:00:00Z from=bob to=alice
//	-----BEGIN AGE ENCRYPTED FILE-----
//	<base64 lines>
//	-----END AGE ENCRYPTED FILE-----
const (
	sealedHeader = "securechat-sealed"
	armorBegin   = "-----BEGIN AGE ENCRYPTED FILE-----"
	armorEnd     = "-----END AGE ENCRYPTED FILE-----"

	// maxArmor bounds one block, BEGIN and END lines included, each line
	// counted with its '\n'. It is the server's own bound on a stored sealed
	// message (sshapp MaxSealed), so anything bigger did not come from an
	// honest server and is refused before any base64 or age work.
	maxArmor = 64 << 10
	// maxLine bounds what is kept of one input line; longer lines are only
	// measured, so one endless line cannot exhaust memory.
	maxLine = maxArmor + 1
)

// Reasons a block is refused before decryption. They name no detail from the
// stream, so they are safe to print as they are.
var (
	errNoBlock   = errors.New("no sealed block after the header")
	errTruncated = errors.New("truncated: the block ends before its -----END line")
	errTooBig    = fmt.Errorf("too big: over %d KiB of armor", maxArmor>>10)
)

// sealedBlock is one message of the stream as read, not yet decrypted. ID,
// From and To are the header's raw values: peer-controlled, sanitise before
// printing.
type sealedBlock struct {
	Line  int // line number of the header, from 1
	ID    string
	Time  time.Time
	From  string
	To    string
	Armor []byte // BEGIN to END lines, each ending in '\n'; nil when Err is set
	Err   error  // why the block cannot be opened, if known before decrypting
}

// parseState is where the parser is between lines.
type parseState int

const (
	outside   parseState = iota // between blocks
	wantBegin                   // after a header, before its BEGIN line
	inArmor                     // collecting armor lines
	skipping                    // the block is too big; looking for its end
)

// parseStream reads an inbox stream and calls onBlock for every message
// header it finds, in order, with the block's armor or the reason it has
// none. Lines outside blocks that are not blank go to onGarbage with their
// line number. It returns only read errors: a malformed stream is reported
// block by block so that one bad message never hides the others.
func parseStream(r io.Reader, onBlock func(sealedBlock), onGarbage func(line int)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		cur   sealedBlock
		state = outside
		size  int // armor bytes of cur so far
		armor bytes.Buffer
	)
	finish := func(err error) {
		if cur.Err == nil && err != nil {
			cur.Err = err
		}
		if cur.Err == nil {
			cur.Armor = bytes.Clone(armor.Bytes())
		}
		onBlock(cur)
		cur, state, size = sealedBlock{}, outside, 0
		armor.Reset()
	}
	for n := 1; ; n++ {
		line, full, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if isHeader(line) {
			switch state {
			case wantBegin:
				finish(errNoBlock)
			case inArmor:
				finish(errTruncated)
			case skipping:
				finish(nil)
			}
			cur = parseHeader(line, full, n)
			state = wantBegin
			continue
		}
		blank := full == len(line) && len(bytes.TrimSpace(line)) == 0
		switch state {
		case outside:
			if !blank {
				onGarbage(n)
			}
		case wantBegin:
			switch {
			case blank:
				// tolerated between a header and its block
			case string(line) == armorBegin:
				state = inArmor
				size = full + 1
				armor.Write(line)
				armor.WriteByte('\n')
			default:
				finish(errNoBlock)
				onGarbage(n)
			}
		case inArmor:
			size += full + 1
			if size > maxArmor {
				cur.Err = errTooBig
				armor.Reset()
				if string(line) == armorEnd {
					finish(nil)
				} else {
					state = skipping
				}
				continue
			}
			armor.Write(line)
			armor.WriteByte('\n')
			if string(line) == armorEnd {
				finish(nil)
			}
		case skipping:
			if string(line) == armorEnd {
				finish(nil)
			}
		}
	}
	switch state {
	case wantBegin:
		finish(errNoBlock)
	case inArmor:
		finish(errTruncated)
	case skipping:
		finish(nil)
	}
	return nil
}

// readLine returns the next line without its line ending ("\n" or "\r\n"),
// at most maxLine bytes of it, and its full length without the ending. It
// returns io.EOF only when no bytes are left.
func readLine(br *bufio.Reader) (line []byte, full int, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		full += len(chunk)
		if room := maxLine + 1 - len(buf); room > 0 {
			buf = append(buf, chunk[:min(room, len(chunk))]...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && full == 0:
			return nil, 0, io.EOF
		case err != nil && err != io.EOF:
			return nil, 0, err
		case err == nil: // ended by '\n'
			full--
		}
		break
	}
	if len(buf) > full {
		buf = buf[:full] // the '\n'
	}
	if len(buf) == full && full > 0 && buf[full-1] == '\r' {
		buf, full = buf[:full-1], full-1
	}
	if len(buf) > maxLine {
		buf = buf[:maxLine]
	}
	return buf, full, nil
}

// isHeader reports whether line starts a message. A header that fails to
// parse still starts one, so that its block is consumed and reported rather
// than taken for garbage.
func isHeader(line []byte) bool {
	return bytes.HasPrefix(line, []byte(sealedHeader+" ")) || string(line) == sealedHeader
}

// parseHeader reads "securechat-sealed id=42 time=RFC3339 from=bob to=alice".
// Fields are key=value separated by spaces, in any order; unknown keys are
// ignored so the server may add some. id, time and from are required.
func parseHeader(line []byte, full, n int) sealedBlock {
	b := sealedBlock{Line: n}
	if full != len(line) || len(line) > 1024 {
		b.Err = errors.New("malformed header: too long")
		return b
	}
	seen := map[string]bool{}
	for _, f := range strings.Fields(strings.TrimPrefix(string(line), sealedHeader)) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || v == "" {
			b.setErr(fmt.Errorf("malformed header: field %q", f))
			continue
		}
		if seen[k] {
			b.setErr(fmt.Errorf("malformed header: %s given twice", k))
			continue
		}
		seen[k] = true
		switch k {
		case "id":
			b.ID = v
		case "from":
			b.From = v
		case "to":
			b.To = v
		case "time":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				b.setErr(fmt.Errorf("malformed header: time %q", v))
				continue
			}
			b.Time = t.UTC()
		}
	}
	for _, k := range []string{"id", "time", "from"} {
		if !seen[k] {
			b.setErr(fmt.Errorf("malformed header: no %s", k))
		}
	}
	return b
}

// setErr keeps the first error: it is the one that explains the rest.
func (b *sealedBlock) setErr(err error) {
	if b.Err == nil {
		b.Err = err
	}
}
