package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// The command name holds a space and a parenthesis, as a hostile one may.
	stat := "4242 (sc (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 123 456 789\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 3*time.Second {
		t.Errorf("got %v, %v; want 3s", got, err)
	}
	if _, err := parseStatCPU([]byte("4242 (sc) S 1 2")); err == nil {
		t.Error("short stat accepted")
	}
}

func TestParseStatusMem(t *testing.T) {
	status := "Name:\tsc\nVmPeak:\t  900 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t9\n"
	rss, hwm, err := parseStatusMem([]byte(status))
	if err != nil || rss != 40960 || hwm != 51200 {
		t.Errorf("got %d, %d, %v", rss, hwm, err)
	}
	if _, _, err := parseStatusMem([]byte("Name:\tsc\n")); err == nil {
		t.Error("status without memory lines accepted")
	}
}

func TestReadProcSelf(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.rssKiB <= 0 || s.hwmKiB < s.rssKiB || s.cpu < 0 {
		t.Errorf("sample %+v", s)
	}
	if selfCPU() <= 0 {
		t.Error("no CPU time for this process")
	}
}
