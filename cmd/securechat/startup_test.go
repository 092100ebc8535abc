package main

// Start-up and disk faults, with the real binary: a data folder it cannot
// use stops it at once without harming what is there, the modes of what it
// writes do not depend on the umask, and a full disk costs one message, not
// the server.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// mountTmpfs mounts a tmpfs with opts (e.g. "size=1m") on dir until the
// test ends. It skips the test where mounting is not allowed; CI runs as
// root, where it is.
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Geteuid() != 0 || notPermitted(out) {
			t.Skipf("cannot mount a tmpfs here (%v: %s); CI runs as root", err, bytes.TrimSpace(out))
		}
		t.Fatalf("mount tmpfs on %s: %v: %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// remountReadOnly makes the tmpfs on dir read-only.
func remountReadOnly(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput()
	if err != nil {
		if notPermitted(out) {
			t.Skipf("cannot remount %s read-only here (%v: %s)", dir, err, bytes.TrimSpace(out))
		}
		t.Fatalf("remount %s read-only: %v: %s", dir, err, out)
	}
}

// notPermitted reports whether mount's output says EPERM.
func notPermitted(out []byte) bool {
	s := strings.ToLower(string(out))
	return strings.Contains(s, "permission denied") || strings.Contains(s, "not permitted") || strings.Contains(s, "superuser")
}

// fileState is what a test remembers of a file to prove nothing touched it.
type fileState struct {
	info fs.FileInfo
	data []byte // file contents, or the sorted names in a folder
}

func snapshot(t *testing.T, path string) fileState {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	s := fileState{info: fi}
	if fi.IsDir() {
		names, err := os.ReadDir(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			s.data = append(s.data, n.Name()+"\n"...)
		}
		return s
	}
	if s.data, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkUnchanged fails unless path is the same file (not a replacement)
// with the same bytes, mode and modification time as in before.
func checkUnchanged(t *testing.T, path string, before fileState) {
	t.Helper()
	after := snapshot(t, path)
	switch {
	case !os.SameFile(before.info, after.info):
		t.Errorf("%s was replaced by another file", path)
	case !bytes.Equal(before.data, after.data):
		t.Errorf("%s changed: was %q, now %q", path, before.data, after.data)
	case before.info.Mode() != after.info.Mode():
		t.Errorf("%s mode changed from %s to %s", path, before.info.Mode(), after.info.Mode())
	case !before.info.ModTime().Equal(after.info.ModTime()):
		t.Errorf("%s was written (modified %s, was %s)", path, after.info.ModTime(), before.info.ModTime())
	}
}

// TestUnusableDataFolder: a data folder the server cannot use stops it
// (promptly, with an error naming the file and the problem) and nothing in
// it is overwritten, truncated or replaced.
func TestUnusableDataFolder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// setup returns the data folder, the path the error must name, and
		// the paths that must come out untouched.
		setup   func(t *testing.T) (data, named string, keep []string)
		problem string // a regexp for the problem, in the same error
	}{{
		name: "users.json does not parse",
		setup: func(t *testing.T) (string, string, []string) {
			data := t.TempDir()
			users := filepath.Join(data, "users.json")
			writeTestFile(t, users, `{"users": [`)
			return data, users, []string{users}
		},
		problem: `unexpected end|does not parse|truncated`,
	}, {
		name: "data is a regular file",
		setup: func(t *testing.T) (string, string, []string) {
			data := filepath.Join(t.TempDir(), "data")
			writeTestFile(t, data, "not a folder\n")
			return data, data, []string{data}
		},
		problem: `not a directory|not a folder`,
	}, {
		name: "read-only mount without the data folder",
		setup: func(t *testing.T) (string, string, []string) {
			mnt := t.TempDir()
			mountTmpfs(t, mnt, "size=1m")
			remountReadOnly(t, mnt)
			data := filepath.Join(mnt, "data")
			return data, data, nil
		},
		problem: `read-only file system`,
	}, {
		name: "read-only mount with a data folder in use before",
		setup: func(t *testing.T) (string, string, []string) {
			mnt := t.TempDir()
			mountTmpfs(t, mnt, "size=1m")
			data := filepath.Join(mnt, "data")
			srv := startLive(t, binPath, serverArgs(data)...)
			c := mustDial(t, srv.addr, "alice", gossh.Password(testPassword))
			mustExec(t, c, "send written before the remount", "")
			c.Close()
			srv.terminate(t)
			remountReadOnly(t, mnt)
			var keep []string
			for _, name := range []string{"", "users.json", "message_history.jsonl", "ssh_host_ed25519_key", ".lock"} {
				keep = append(keep, filepath.Join(data, name))
			}
			return data, data, keep
		},
		problem: `read-only file system`,
	}, {
		name: "message_history.jsonl is a folder",
		setup: func(t *testing.T) (string, string, []string) {
			data := t.TempDir()
			hist := filepath.Join(data, "message_history.jsonl")
			if err := os.Mkdir(hist, 0o700); err != nil {
				t.Fatal(err)
			}
			inside := filepath.Join(hist, "keep-me")
			writeTestFile(t, inside, "not history\n")
			return data, hist, []string{hist, inside}
		},
		problem: `is a directory|not a regular file`,
	}, {
		name: "host key is not a key",
		setup: func(t *testing.T) (string, string, []string) {
			data := t.TempDir()
			key := filepath.Join(data, "ssh_host_ed25519_key")
			writeTestFile(t, key, "this is not a private key\n")
			return data, key, []string{key}
		},
		problem: `no key found|not a (private )?key|parse host key`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, named, keep := tt.setup(t)
			before := map[string]fileState{}
			for _, p := range keep {
				before[p] = snapshot(t, p)
			}
			_, errOut, code, took := runUntilExit(t, 10*time.Second, serverArgs(data)...)
			t.Logf("exited with status %d after %s: %s", code, took.Round(time.Millisecond), strings.TrimSpace(errOut))
			if code == 0 {
				t.Errorf("securechat exited 0 on an unusable data folder")
			}
			if !regexp.MustCompile(regexp.QuoteMeta(named) + `.*(` + tt.problem + `)`).MatchString(errOut) {
				t.Errorf("stderr does not name %s and then the problem (/%s/):\n%s", named, tt.problem, errOut)
			}
			if strings.Contains(errOut, "securechat listening") {
				t.Errorf("securechat listened before giving up:\n%s", errOut)
			}
			for _, p := range keep {
				checkUnchanged(t, p, before[p])
			}
		})
	}
}

// writeTestFile writes a 0600 file.
func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runUntilExit runs securechat with args, killing it after limit, and
// reports how it ended and how long that took.
func runUntilExit(t *testing.T, limit time.Duration, args ...string) (stdout, stderr string, code int, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), "SECURECHAT_LISTEN=", "SECURECHAT_DATA=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	began := time.Now()
	err := cmd.Run()
	took = time.Since(began)
	if ctx.Err() != nil {
		t.Fatalf("securechat %s was still running after %s; stderr:\n%s", strings.Join(args, " "), limit, errb.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run securechat: %v", err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode(), took
}

// TestPermissionsWhateverUmask: with umask 000 the data folder is 0700 and
// the files holding keys, hashes and messages are 0600, both when the server
// creates them and when an earlier run left them open to everyone.
func TestPermissionsWhateverUmask(t *testing.T) {
	t.Parallel()
	for _, loose := range []bool{false, true} {
		name := "new folder"
		if loose {
			name = "folder left open to everyone"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			if loose {
				srv := startLive(t, binPath, serverArgs(data)...)
				srv.terminate(t)
				if err := filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						return err
					}
					mode := os.FileMode(0o666)
					if d.IsDir() {
						mode = 0o777
					}
					return os.Chmod(p, mode)
				}); err != nil {
					t.Fatal(err)
				}
			}
			// exec keeps the process, so the umask is the server's own.
			args := append([]string{"-c", `umask 000; exec "$0" "$@"`, binPath}, serverArgs(data)...)
			srv := startLive(t, "sh", args...)
			if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid)); err == nil &&
				!regexp.MustCompile(`(?m)^Umask:\s+0+$`).Match(status) {
				t.Fatalf("the server's umask is not 000:\n%s", status)
			}
			// A registration rewrites users.json and a message grows the
			// history: both under umask 000.
			c := mustDial(t, srv.addr, "alice", gossh.Password(testPassword))
			mustExec(t, c, "send hello", "")
			c.Close()
			srv.terminate(t)

			want := map[string]os.FileMode{
				"":                      0o700 | os.ModeDir,
				"users.json":            0o600,
				"message_history.jsonl": 0o600,
				"ssh_host_ed25519_key":  0o600,
			}
			for name, mode := range want {
				fi, err := os.Stat(filepath.Join(data, name))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode() != mode {
					t.Errorf("%s: mode %s, want %s", filepath.Join(data, name), fi.Mode(), mode)
				}
			}
			entries, err := os.ReadDir(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				fi, err := e.Info()
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm()&0o077 != 0 {
					t.Errorf("%s: mode %s lets others in", filepath.Join(data, e.Name()), fi.Mode())
				}
			}
		})
	}
}

// TestDiskFullWhileServing fills a small tmpfs under the server: the send
// that does not fit is refused as not saved, nothing partial reaches the
// file, a registration fails without touching users.json, everyone stays
// connected, and saving works again once there is room.
func TestDiskFullWhileServing(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	mountTmpfs(t, data, "size=256k")
	filler := filepath.Join(data, "filler")
	writeTestFile(t, filler, strings.Repeat("f", 100<<10))
	srv := startLive(t, binPath, serverArgs(data)...)
	t.Cleanup(func() {
		if !t.Failed() {
			srv.terminate(t)
		} else {
			t.Logf("securechat stderr:\n%s", srv.stderr.String())
		}
	})
	alice := mustDial(t, srv.addr, "alice", gossh.Password(testPassword))

	// bob sits in the chat the whole time, to show he is never dropped.
	bob := mustDial(t, srv.addr, "bob", gossh.Password(testPassword))
	bobSess, err := bob.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	bobIn, err := bobSess.StdinPipe() // kept open: EOF would end his chat
	if err != nil {
		t.Fatal(err)
	}
	defer bobIn.Close()
	bobSess.Stdout, bobSess.Stderr = io.Discard, io.Discard
	if err := bobSess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := bobSess.Shell(); err != nil {
		t.Fatal(err)
	}
	bobDone := make(chan error, 1)
	go func() { bobDone <- bobSess.Wait() }()
	whoHasBob := func(c *gossh.Client) (bool, string) {
		out, errOut, err := execSSH(c, "who", "")
		return err == nil && slices.Contains(strings.Fields(out), "bob"), fmt.Sprintf("%v\n%s%s", err, out, errOut)
	}
	waitFor(t, "bob in `who`", func() (bool, string) { return whoHasBob(alice) })

	var acked []string
	var refusal string
	for i := 1; refusal == ""; i++ {
		if i > 1000 {
			t.Fatalf("%d messages of 1500 characters fit on a 256 KiB disk", len(acked))
		}
		text := fmt.Sprintf("m%04d-%s", i, strings.Repeat("x", 1494))
		_, errOut, err := execSSH(alice, "send "+text, "")
		switch {
		case err == nil:
			acked = append(acked, text)
		case errors.As(err, new(*gossh.ExitError)):
			refusal = errOut
		default:
			t.Fatalf("send %d: %v (the server or the connection went away)\n%s", i, err, errOut)
		}
	}
	t.Logf("%d messages saved before the disk was full; then: %s", len(acked), strings.TrimSpace(refusal))
	if !strings.Contains(refusal, "not saved") {
		t.Errorf("the refused send's stderr does not say the message was not saved:\n%s", refusal)
	}
	if len(acked) == 0 {
		t.Fatal("not even one message fitted")
	}
	// The log reaches us through a pipe a moment after the client's reply.
	waitFor(t, "the server's log to report the unsaved message", func() (bool, string) {
		out := srv.stderr.String()
		return strings.Contains(out, "not saved"), out
	})

	// Still serving: bob's chat and alice's connection, and new logins.
	select {
	case err := <-bobDone:
		t.Fatalf("bob's chat ended when the disk filled up: %v", err)
	default:
	}
	if ok, seen := whoHasBob(alice); !ok {
		t.Fatalf("who on alice's connection after the disk filled up: %s", seen)
	}
	alice2 := mustDial(t, srv.addr, "alice", gossh.Password(testPassword))
	if ok, seen := whoHasBob(alice2); !ok {
		t.Fatalf("who on a new connection after the disk filled up: %s", seen)
	}
	checkHistoryFile(t, filepath.Join(data, "message_history.jsonl"), acked)

	// A registration cannot be saved either: it must fail, leaving
	// users.json as it was and no temporary file behind.
	usersPath := filepath.Join(data, "users.json")
	usersBefore := snapshot(t, usersPath)
	if c, err := dialSSH(srv.addr, "carol", gossh.Password(testPassword)); err == nil {
		c.Close()
		t.Errorf("carol's registration succeeded on a full disk")
	}
	checkUnchanged(t, usersPath, usersBefore)
	if names, _ := filepath.Glob(filepath.Join(data, ".users.json*")); len(names) > 0 {
		t.Errorf("a failed save left temporary files: %v", names)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	const after = "saved-once-there-is-room-again"
	mustExec(t, alice, "send "+after, "")
	out := mustExec(t, alice2, "history --json -n 2", "")
	var last storedLine
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Text != after {
		t.Fatalf("history --json after freeing space ends with %q (%v), want the message sent after", lines[len(lines)-1], err)
	}
	checkHistoryFile(t, filepath.Join(data, "message_history.jsonl"), append(acked, after))
	mustDial(t, srv.addr, "carol", gossh.Password(testPassword))
	users, err := usersInFile(usersPath)
	if err != nil || !users["alice"] || !users["bob"] || !users["carol"] {
		t.Fatalf("users.json after freeing space: %v, %v; want alice, bob and carol", users, err)
	}
	select {
	case err := <-bobDone:
		t.Fatalf("bob's chat ended: %v", err)
	default:
	}
}

// checkHistoryFile checks that every line of the history file is whole and
// parses, and that the messages want are in it, in that order.
func checkHistoryFile(t *testing.T, path string, want []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s ends in a partial line: %q", path, tail(b))
	}
	var texts []string
	for i, raw := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		l, err := parseStored(raw)
		if err != nil {
			t.Fatalf("%s line %d does not parse (%v): %q", path, i+1, err, raw)
		}
		if l.Kind == "msg" {
			texts = append(texts, l.Text)
		}
	}
	if !slices.Equal(texts, want) {
		t.Fatalf("%s holds %d messages, want the %d acknowledged, in order", path, len(texts), len(want))
	}
}
