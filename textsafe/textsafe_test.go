package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		multi          bool
	}{
		{"plain", "hello world", "hello world", false},
		{"escape sequence", "a\x1b[2Jb", "a[2Jb", false},
		{"osc title", "\x1b]0;pwned\x07x", "]0;pwnedx", false},
		{"c1 csi", "a\u009b31mb", "a31mb", false},
		{"del", "a\x7fb", "ab", false},
		{"bidi override", "abc\u202edcba", "abcdcba", false},
		{"bidi isolate", "x\u2066y\u2069z", "xyz", false},
		{"invalid utf8", "a\xffb", "a\ufffdb", false},
		{"newline single", "a\nb", "a b", false},
		{"newline multi", "a\r\nb\rc\nd", "a\nb\nc\nd", true},
		{"tab", "a\tb", "a b", false},
		{"cjk and emoji kept", "你好 👍🏽 👨‍👩‍👧", "你好 👍🏽 👨‍👩‍👧", false},
		{"bel", "ding\x07", "ding", false},
		{"nul", "a\x00b", "ab", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sanitize(tc.in, tc.multi); got != tc.want {
				t.Fatalf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	s, cut := Clip("héllo", 2)
	if s != "hé" || !cut {
		t.Fatalf("Clip = %q, %v", s, cut)
	}
	s, cut = Clip("abc", 5)
	if s != "abc" || cut {
		t.Fatalf("Clip = %q, %v", s, cut)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"hello", "\x1b[31mred", "\u202eevil", "a\xffb", "你好", "\r\n\t"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, multi bool) {
		out := Sanitize(in, multi)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", in)
		}
		for _, r := range out {
			if r == '\n' && multi {
				continue
			}
			if unsafeRune(r) {
				t.Fatalf("unsafe rune %U survived in %q", r, out)
			}
		}
		if strings.ContainsRune(out, '\x1b') {
			t.Fatal("escape survived")
		}
		if Sanitize(out, multi) != out {
			t.Fatalf("not idempotent: %q", in)
		}
	})
}

func TestClipBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"},
		{"👍👍", 5, "👍"},
	} {
		if got, _ := ClipBytes(tc.in, tc.n); got != tc.want {
			t.Fatalf("ClipBytes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
