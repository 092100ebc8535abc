package main

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// parseAll runs parseStream over s and collects what it reports.
func parseAll(t testing.TB, s string) (blocks []sealedBlock, garbage []int) {
	err := parseStream(strings.NewReader(s), func(b sealedBlock) {
		blocks = append(blocks, b)
	}, func(n int) {
		garbage = append(garbage, n)
	})
	if err != nil {
		t.Fatalf("parseStream: %v", err)
	}
	return blocks, garbage
}

const tinyArmor = armorBegin + "\nYWJj\n" + armorEnd + "\n"

func TestParseStream(t *testing.T) {
	h := func(id string) string {
		return "securechat-sealed id=" + id + " time=2026-11-22T05:00:00Z from=bob to=alice\n"
	}
	tests := []struct {
		name    string
		in      string
		want    []error // one per block: nil for a block with armor
		garbage []int
	}{
		{"empty", "", nil, nil},
		{"one", h("1") + tinyArmor, []error{nil}, nil},
		{"no final newline", h("1") + strings.TrimSuffix(tinyArmor, "\n"), []error{nil}, nil},
		{"two", h("1") + tinyArmor + "\n" + h("2") + tinyArmor, []error{nil, nil}, nil},
		{"blank before BEGIN tolerated", h("1") + "\n" + tinyArmor, []error{nil}, nil},
		{"header then header", h("1") + h("2") + tinyArmor, []error{errNoBlock, nil}, nil},
		{"header at EOF", h("1"), []error{errNoBlock}, nil},
		{"header then garbage", h("1") + "hello\n" + h("2") + tinyArmor, []error{errNoBlock, nil}, []int{2}},
		{"cut before END", h("1") + armorBegin + "\nYWJj\n", []error{errTruncated}, nil},
		{"cut by next header", h("1") + armorBegin + "\nYWJj\n" + h("2") + tinyArmor, []error{errTruncated, nil}, nil},
		{"too big, then next", h("1") + armorBegin + "\n" + strings.Repeat(strings.Repeat("A", 64)+"\n", 1100) + armorEnd + "\n" + h("2") + tinyArmor, []error{errTooBig, nil}, nil},
		{"too big, cut by header", h("1") + armorBegin + "\n" + strings.Repeat(strings.Repeat("A", 64)+"\n", 1100) + h("2") + tinyArmor, []error{errTooBig, nil}, nil},
		{"too big at EOF", h("1") + armorBegin + "\n" + strings.Repeat("A", 1<<20), []error{errTooBig}, nil},
		{"garbage around", "motd\n\n" + h("1") + tinyArmor + "\n  \nbye\n", []error{nil}, []int{1, 9}},
		{"armor without header is garbage", tinyArmor, nil, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blocks, garbage := parseAll(t, tt.in)
			if len(blocks) != len(tt.want) {
				t.Fatalf("%d blocks, want %d: %+v", len(blocks), len(tt.want), blocks)
			}
			for i, b := range blocks {
				if !errors.Is(b.Err, tt.want[i]) || (tt.want[i] == nil) != (b.Armor != nil) {
					t.Errorf("block %d: err %v armor %q, want err %v", i, b.Err, b.Armor, tt.want[i])
				}
				if b.Err == nil && string(b.Armor) != tinyArmor {
					t.Errorf("block %d: armor %q", i, b.Armor)
				}
			}
			if !slices.Equal(garbage, tt.garbage) {
				t.Errorf("garbage lines %v, want %v", garbage, tt.garbage)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		line    string
		id      string
		from    string
		time    string
		wantErr string
	}{
		{"securechat-sealed id=42 time=2026-11-22T05:00:00Z from=bob to=alice", "42", "bob", "2026-11-22 05:00", ""},
		{"securechat-sealed from=bob id=7 time=2026-11-22T07:00:00+02:00 new=field", "7", "bob", "2026-11-22 05:00", ""},
		{"securechat-sealed id=1 from=bob", "1", "bob", "", "no time"},
		{"securechat-sealed id=1 time=now from=bob", "1", "bob", "", "time \"now\""},
		{"securechat-sealed id=1 id=2 time=2026-11-22T05:00:00Z from=bob", "1", "bob", "", "id given twice"},
		{"securechat-sealed junk id=1 time=2026-11-22T05:00:00Z from=bob", "1", "bob", "", "field \"junk\""},
		{"securechat-sealed", "", "", "", "no id"},
	}
	for _, tt := range tests {
		b := parseHeader([]byte(tt.line), len(tt.line), 3)
		if b.ID != tt.id || b.From != tt.from || b.Line != 3 {
			t.Errorf("%q: got id %q from %q line %d", tt.line, b.ID, b.From, b.Line)
		}
		if tt.time != "" && b.Time.Format("2006-01-02 15:04") != tt.time {
			t.Errorf("%q: time %v, want %s", tt.line, b.Time, tt.time)
		}
		if tt.time != "" && b.Time.Location() != time.UTC {
			t.Errorf("%q: time not in UTC", tt.line)
		}
		if tt.wantErr == "" && b.Err != nil || tt.wantErr != "" && (b.Err == nil || !strings.Contains(b.Err.Error(), tt.wantErr)) {
			t.Errorf("%q: error %v, want %q", tt.line, b.Err, tt.wantErr)
		}
	}
}

// FuzzParseStream checks that no input makes the parser panic, and that
// what it hands on keeps its promises: armor only for complete blocks within
// the size bound, every header reported once, line numbers in order.
func FuzzParseStream(f *testing.F) {
	f.Add([]byte("securechat-sealed id=1 time=2026-11-22T05:00:00Z from=bob to=alice\n" + tinyArmor))
	f.Fuzz(func(t *testing.T, data []byte) {
		headers := 0
		for _, l := range bytes.Split(data, []byte("\n")) {
			if isHeader(bytes.TrimSuffix(l, []byte("\r"))) {
				headers++
			}
		}
		var blocks []sealedBlock
		last := 0
		err := parseStream(bytes.NewReader(data), func(b sealedBlock) {
			blocks = append(blocks, b)
			if b.Line <= last {
				t.Fatalf("block at line %d after line %d", b.Line, last)
			}
			last = b.Line
			if b.Err != nil {
				if b.Armor != nil {
					t.Fatalf("block with error %v has armor", b.Err)
				}
				return
			}
			if len(b.Armor) > maxArmor {
				t.Fatalf("armor of %d bytes passed", len(b.Armor))
			}
			if !bytes.HasPrefix(b.Armor, []byte(armorBegin+"\n")) || !bytes.HasSuffix(b.Armor, []byte("\n"+armorEnd+"\n")) {
				t.Fatalf("armor without BEGIN and END: %q", b.Armor)
			}
			if b.ID == "" || b.From == "" || b.Time.IsZero() {
				t.Fatalf("block without id, sender or time passed: %+v", b)
			}
			// Whatever the block holds, opening it must fail cleanly.
			if _, err := openBlock(b.Armor, nil); err == nil {
				t.Fatalf("opened without identities")
			}
		}, func(int) {})
		if err != nil {
			t.Fatal(err)
		}
		if len(blocks) != headers {
			t.Fatalf("%d blocks for %d headers", len(blocks), headers)
		}
		for _, b := range blocks {
			formatFailure(b, errors.New("x"))
		}
	})
}
