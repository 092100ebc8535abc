package main

import (
	"math/rand/v2"
	"strconv"
	"sync/atomic"
)

// tokenRandLen is the length of a token's random tail. It tells this run's
// tokens apart from an earlier run's that the backlog still shows.
const tokenRandLen = 5

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// A token is "t<sender>-<seq>-<rand>", e.g. "t3-17-k9x2q": short, unique in
// the run, and parsed back from the screen into its sender and sequence
// number without any lookup by string.
//
// tokenReg holds every token the run may send. Its size is fixed before the
// run starts (senders × tokens per sender), so senders and readers share it
// without locks: the random tails never change, and each token's send time
// is one atomic word, 0 until it is sent.
type tokenReg struct {
	senders   int
	perSender int
	rnd       [][tokenRandLen]byte
	sentAt    []atomic.Int64 // clock reading when sent; 0: not sent
	measured  []atomic.Bool  // sent within the measured period
	sent      atomic.Int64   // tokens sent so far
}

// newTokenReg makes room for perSender tokens from each of senders senders,
// with random tails drawn from seed.
func newTokenReg(senders, perSender int, seed uint64) *tokenReg {
	n := senders * perSender
	r := &tokenReg{
		senders:   senders,
		perSender: perSender,
		rnd:       make([][tokenRandLen]byte, n),
		sentAt:    make([]atomic.Int64, n),
		measured:  make([]atomic.Bool, n),
	}
	src := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range r.rnd {
		for j := range r.rnd[i] {
			r.rnd[i][j] = tokenAlphabet[src.IntN(len(tokenAlphabet))]
		}
	}
	return r
}

// index is the slot of sender's token seq.
func (r *tokenReg) index(sender, seq int) int { return sender*r.perSender + seq }

// text is the token as typed and as shown.
func (r *tokenReg) text(sender, seq int) string {
	b := make([]byte, 0, 24)
	b = append(b, 't')
	b = strconv.AppendInt(b, int64(sender), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, '-')
	b = append(b, r.rnd[r.index(sender, seq)][:]...)
	return string(b)
}

// markSent records that the token was typed at now. It must happen before
// the keystrokes leave, so that no screen can show a token the registry
// does not know was sent.
func (r *tokenReg) markSent(sender, seq int, now int64, measured bool) {
	i := r.index(sender, seq)
	r.measured[i].Store(measured)
	r.sentAt[i].Store(now)
	r.sent.Add(1)
}

// lookup returns the slot of a token parsed from a screen, if it is one
// of this run's and has been sent.
func (r *tokenReg) lookup(sender, seq int, rnd []rune) (int, bool) {
	if sender < 0 || sender >= r.senders || seq < 0 || seq >= r.perSender {
		return 0, false
	}
	i := r.index(sender, seq)
	for j, c := range r.rnd[i] {
		if rnd[j] != rune(c) {
			return 0, false
		}
	}
	if r.sentAt[i].Load() == 0 {
		return 0, false
	}
	return i, true
}

// foundToken is a token read off a screen row.
type foundToken struct {
	sender, seq int
	rnd         []rune // aliases the row
}

// scanTokens calls fn for every well-formed token in row that follows ": ",
// as the room's message rows show them ("15:04 load0003: t3-17-k9x2q").
// Requiring ": " keeps out the sender's own input line ("> t3-17-…"), which
// shows a token before it is sent. It allocates nothing.
func scanTokens(row []rune, fn func(foundToken)) {
	for i := 2; i < len(row); i++ {
		if row[i] != 't' || row[i-1] != ' ' || row[i-2] != ':' {
			continue
		}
		if tok, end, ok := parseToken(row, i+1); ok {
			fn(tok)
			i = end - 1
		}
	}
}

// parseToken parses "<sender>-<seq>-<rand>" starting at row[i] (just after
// the 't'); the token must end at the row's end or at a character that
// cannot be part of it (a space, the online list's border).
func parseToken(row []rune, i int) (foundToken, int, bool) {
	sender, i, ok := parseDigits(row, i)
	if !ok || i >= len(row) || row[i] != '-' {
		return foundToken{}, 0, false
	}
	seq, i, ok := parseDigits(row, i+1)
	if !ok || i >= len(row) || row[i] != '-' {
		return foundToken{}, 0, false
	}
	start := i + 1
	end := start + tokenRandLen
	if end > len(row) || (end < len(row) && isTokenChar(row[end])) {
		return foundToken{}, 0, false
	}
	for _, c := range row[start:end] {
		if !isTokenChar(c) {
			return foundToken{}, 0, false
		}
	}
	return foundToken{sender: sender, seq: seq, rnd: row[start:end]}, end, true
}

// parseDigits reads 1 to 9 decimal digits at row[i].
func parseDigits(row []rune, i int) (n, next int, ok bool) {
	start := i
	for i < len(row) && i-start < 9 && '0' <= row[i] && row[i] <= '9' {
		n = n*10 + int(row[i]-'0')
		i++
	}
	return n, i, i > start
}

// isTokenChar reports whether c may appear in a token's random tail.
func isTokenChar(c rune) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
