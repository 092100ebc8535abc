package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestE2EWideRowsKeepOrder scrolls back through rows the real terminal
// finds wider than the server measured (an emoji with a skin-tone modifier
// is two cells to the server and four to tmux). The screen draws each row
// in place and scrolls the pane region, so a row that wrapped would push
// its tail into the next row, or, on the region's last row, scroll the
// region: PgUp then showed rows out of order and left one out. Whatever a
// terminal makes of a row's width, the rows keep their order and none is
// lost.
func TestE2EWideRowsKeepOrder(t *testing.T) {
	t.Parallel()
	requireTools(t, "ssh", "tmux")
	_, _, tm, _ := twoInTmux(t, "--limit-flood-rate", "10")
	// Rows of 100 cells as the server counts, near the 100-column edge.
	const n = 40
	for i := range n {
		tm.typeLine("bob", fmt.Sprintf("row %02d %s 👍🏽👍🏽 end", i, strings.Repeat("y", 70+i%8)))
		tm.waitScreen("alice", fmt.Sprintf("bob: row %02d ", i))
	}
	checkRows := func(what, want string) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%q with the rows in order (%s)", want, what), func() (bool, string) {
			scr := tm.screen("alice")
			if !strings.Contains(scr, want) {
				return false, scr
			}
			got := rowNumbers(scr)
			for i := 1; i < len(got); i++ {
				if got[i] != got[i-1]+1 {
					return false, fmt.Sprintf("rows %v\n%s", got, scr)
				}
			}
			return len(got) > 0, scr
		})
	}
	checkRows("at the bottom", fmt.Sprintf("bob: row %02d", n-1))
	tm.run("send-keys", "-t", "alice", "PPage")
	checkRows("one page back", "scrolled: 27 rows below")
	tm.run("send-keys", "-t", "alice", "PPage")
	checkRows("at the top", "bob joined")
	tm.run("send-keys", "-t", "alice", "NPage")
	checkRows("a page forward", "rows below")
	tm.run("send-keys", "-t", "alice", "C-End")
	checkRows("back at the bottom", fmt.Sprintf("bob: row %02d", n-1))
}

// rowNumbers are the numbers of the "row NN" lines on a screen, top down.
func rowNumbers(scr string) []int {
	var got []int
	for _, l := range strings.Split(scr, "\n") {
		_, rest, ok := strings.Cut(l, "bob: row ")
		if !ok || len(rest) < 2 {
			continue
		}
		if v, err := strconv.Atoi(rest[:2]); err == nil {
			got = append(got, v)
		}
	}
	return got
}
