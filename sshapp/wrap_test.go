package sshapp

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestWrapNeverExceedsWidth: a word starting with "-" right after the wrap
// point made ansi.Wrap keep the space before it, one cell past the width.
func TestWrapNeverExceedsWidth(t *testing.T) {
	text := "#6 to alice sent, sealed; the server keeps only ciphertext (inbox --sent lists your copy)"
	for width := 20; width <= 100; width++ {
		for _, l := range wrapWithPrefix("09:30 [sealed] ", "09:30 [sealed] ", text, width, nil) {
			if w := ansi.StringWidth(l.text); w > width || l.width != w {
				t.Fatalf("width %d: row %q is %d cells (recorded %d)", width, l.text, w, l.width)
			}
			if strings.HasSuffix(l.text, " ") {
				t.Errorf("width %d: row %q ends in a space", width, l.text)
			}
		}
	}
}
