package sshapp

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"securechat/history"
)

// faults makes a real history file's writes and fsyncs fail on demand, the
// way a full disk, a read-only remount or a dying disk does.
type faults struct {
	mu          sync.Mutex
	write, sync error
}

func (f *faults) set(write, sync error) {
	f.mu.Lock()
	f.write, f.sync = write, sync
	f.mu.Unlock()
}

func (f *faults) get() (write, sync error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.write, f.sync
}

func openFaultyHistory(t *testing.T, dir string, f *faults) *history.Log {
	h, err := history.Open(filepath.Join(dir, "faulty_history.jsonl"), history.Options{
		WriteHook: func(file *os.File, p []byte) (int, error) {
			if err, _ := f.get(); err != nil {
				// Part of the batch reaches the file before the error, as
				// with a real ENOSPC.
				n, _ := file.Write(p[:len(p)/2])
				return n, err
			}
			return file.Write(p)
		},
		SyncHook: func(file *os.File) error {
			if _, err := f.get(); err != nil {
				return err
			}
			return file.Sync()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestDiskFullAndReadOnly(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"ENOSPC", syscall.ENOSPC},
		{"EROFS", syscall.EROFS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := &faults{}
			ts := startServerWith(t, dir, func(c *Config, d *Deps) { d.History = openFaultyHistory(t, dir, f) })
			alice := ts.login("alice", "secret-nyvpr")
			watcher := openWelcomed(t, ts.login("bob", "secret-obo"), 100, 30)
			if r := run(t, alice, "send before the fault", ""); r.code != 0 {
				t.Fatal(r)
			}
			f.set(tc.err, nil)
			r := run(t, alice, "send while the disk is full", "")
			if r.code == 0 || !strings.Contains(r.stderr, "not saved") {
				t.Fatalf("send during the fault: %+v", r)
			}
			// The server keeps serving: commands work, sessions stay.
			if r := run(t, alice, "who", ""); r.code != 0 || !strings.Contains(r.stdout, "bob") {
				t.Fatalf("who during the fault: %+v", r)
			}
			f.set(nil, nil)
			if r := run(t, alice, "send after the fault", ""); r.code != 0 {
				t.Fatalf("send after space came back: %+v", r)
			}
			watcher.waitFor("alice: after the fault")
			if strings.Contains(watcher.screen(), "while the disk is full") {
				t.Fatal("an unsaved message was shown")
			}
			// Nothing partial in the file: every line parses.
			b, err := os.ReadFile(filepath.Join(dir, "faulty_history.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				if _, err := history.ParseLine([]byte(l)); err != nil {
					t.Fatalf("line %d does not parse after the fault: %q", i+1, l)
				}
			}
			if strings.Contains(string(b), "while the disk is full") {
				t.Fatal("the failed message is in the file")
			}
		})
	}
}

func TestFailedFsyncStopsAcknowledging(t *testing.T) {
	dir := t.TempDir()
	f := &faults{}
	ts := startServerWith(t, dir, func(c *Config, d *Deps) { d.History = openFaultyHistory(t, dir, f) })
	alice := ts.login("alice", "secret-nyvpr")
	u := openWelcomed(t, alice, 100, 30)
	f.set(nil, syscall.EIO)
	u.send("lost to a bad disk\r")
	u.waitFor("not sent: not saved: the server's disk failed")
	// The text is back in the input line: nothing the user typed is lost.
	u.waitFor("> lost to a bad disk")
	// Even once fsync works again, the store does not pretend: a restart
	// is needed (the page cache may have dropped the data).
	f.set(nil, nil)
	if r := run(t, alice, "send after the bad fsync", ""); r.code == 0 {
		t.Fatal("acknowledged a message after a failed fsync without a restart")
	}
	if !strings.Contains(ts.logs.String(), "message not saved") {
		t.Fatalf("operator not told:\n%s", ts.logs.String())
	}
}
