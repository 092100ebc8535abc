package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// dirNames lists a folder's entries, or nil if it does not exist.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestHostkeyCreatesNothing: the hostkey command only reads. A mistyped
// --data, or a folder whose server never started, is an error naming the
// folder, not a new folder and a new key with a fingerprint nobody serves.
func TestHostkeyCreatesNothing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()

	missing := filepath.Join(root, "dta")
	out, errOut, code := runBinary(t, "--data", missing, "hostkey")
	if code != 1 || out != "" || !strings.Contains(errOut, "data folder "+missing+" does not exist: check --data") {
		t.Errorf("hostkey on a missing folder: exit %d, stdout %q, stderr %q; want 1 and a reason", code, out, errOut)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("hostkey created %s: %v", missing, err)
	}

	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runBinary(t, "--data", empty, "hostkey")
	if code != 1 || out != "" || !strings.Contains(errOut, "no host key at "+filepath.Join(empty, "ssh_host_ed25519_key")) {
		t.Errorf("hostkey on a folder without a key: exit %d, stdout %q, stderr %q; want 1 and a reason", code, out, errOut)
	}
	if names := dirNames(t, empty); len(names) != 0 {
		t.Errorf("hostkey wrote %v into %s", names, empty)
	}

	// Flags after the word count too: they are not ignored for ./data.
	out, errOut, code = runBinary(t, "hostkey", "--data", missing)
	if code != 1 || out != "" || !strings.Contains(errOut, "data folder "+missing+" does not exist") {
		t.Errorf("hostkey --data after the word: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, errOut, code = runBinary(t, "--data", missing, "hostkey", "extra"); code != 2 || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("hostkey extra: exit %d, stderr %q", code, errOut)
	}
}

// TestHostkeyUsesHostname: the known_hosts line names --hostname, the name
// users type; without it (and with a --listen that names no host) it names
// this machine and says so on stderr. Either way the folder is unchanged.
func TestHostkeyUsesHostname(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, data)
	before := dirNames(t, data)

	out, errOut, code := runBinary(t, "--data", data, "--listen", ":"+srv.port, "hostkey", "--hostname", "chat.example.org")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || errOut != "" || len(lines) != 2 {
		t.Fatalf("hostkey --hostname: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if want := srv.hostkey + " chat.example.org (ED25519)"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	if want := "[chat.example.org]:" + srv.port + " ssh-ed25519 AAAA"; !strings.HasPrefix(lines[1], want) {
		t.Errorf("known_hosts line %q, want it to start with %q", lines[1], want)
	}

	host, _ := os.Hostname()
	out, errOut, code = runBinary(t, "--data", data, "--listen", ":"+srv.port, "hostkey")
	if code != 0 || !strings.Contains(out, "["+host+"]:"+srv.port+" ssh-ed25519 ") ||
		!strings.Contains(errOut, "names this machine ("+host+"); give --hostname") {
		t.Errorf("hostkey without --hostname: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if after := dirNames(t, data); !slices.Equal(after, before) {
		t.Errorf("hostkey changed the data folder: %v, then %v", before, after)
	}
}

// TestFailedStartLeavesNothing: a start that fails (its port in use, an
// unknown --admin) leaves no new folder, key, history or lock file behind.
func TestFailedStartLeavesNothing(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	// An existing folder holding only users.json, as `user add` leaves it.
	existing := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := runUser(t, existing, "amber falcon river stone\n", "add", "alice"); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	existingBefore := dirNames(t, existing)

	for _, tc := range []struct {
		name    string
		fresh   bool
		args    []string
		wantErr string
	}{
		{"port in use, new folder", true, []string{"--listen", busy.Addr().String()}, "listen on " + busy.Addr().String()},
		{"port in use, existing folder", false, []string{"--listen", busy.Addr().String()}, "listen on " + busy.Addr().String()},
		{"unknown admin, new folder", true, []string{"--listen", "127.0.0.1:0", "--admin", "nobody"}, "--admin nobody: no such user"},
		{"unknown admin, existing folder", false, []string{"--listen", "127.0.0.1:0", "--admin", "nobody"}, "--admin nobody: no such user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, top := existing, ""
			if tc.fresh {
				top = filepath.Join(t.TempDir(), "typo")
				data = filepath.Join(top, "nested", "data")
			}
			_, errOut, code, _ := runUntilExit(t, waitTimeout, append([]string{"--data", data, "--bcrypt-cost", "10"}, tc.args...)...)
			if code != 1 || !strings.Contains(errOut, tc.wantErr) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.wantErr)
			}
			if tc.fresh {
				if _, err := os.Stat(top); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the failed start left %s (holding %v): %v", top, dirNames(t, data), err)
				}
				return
			}
			if after := dirNames(t, existing); !slices.Equal(after, existingBefore) {
				t.Errorf("the failed start changed the folder: %v, then %v", existingBefore, after)
			}
		})
	}

	// The folder is still good: a start that succeeds uses it.
	startServer(t, existing, "--admin", "alice")
}
