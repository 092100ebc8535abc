package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"securechat/accounts"
)

// testCost is bcrypt.MinCost: the flag layer refuses it, userCommand takes it.
const testCost = 4

// runUser runs userCommand on dir with stdin as standard input.
func runUser(t *testing.T, dir string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = userCommand(dir, testCost, accounts.DefaultMinPasswordScore, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// openUsers opens the users file of dir the way the server would.
func openUsers(t *testing.T, dir string) *accounts.Store {
	t.Helper()
	s, err := accounts.Open(filepath.Join(dir, "users.json"), accounts.Options{Cost: testCost})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUserCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	date := `\d{4}-\d{2}-\d{2}`
	steps := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  string // a regexp matched against all of stdout
		wantErr  string // a regexp matched against all of stderr
		check    func(t *testing.T)
	}{
		{"list when empty", "", []string{"list"}, 0, `^$`, `^$`, nil},
		{"add", "amber falcon river stone\n", []string{"add", "alice"}, 0, `^user alice added\n$`, `^$`, nil},
		{"add upper-case, CRLF", "violet anchor marble tide\r\n", []string{"add", "Bob"}, 0, `^user bob added\n$`, `^$`, func(t *testing.T) {
			if _, err := openUsers(t, dir).Verify("bob", "violet anchor marble tide"); err != nil {
				t.Errorf("bob's password: %v", err)
			}
		}},
		{"add without a final newline", "copper lantern misty fjord", []string{"add", "carol"}, 0, `^user carol added\n$`, `^$`, func(t *testing.T) {
			if _, err := openUsers(t, dir).Verify("carol", "copper lantern misty fjord"); err != nil {
				t.Errorf("carol's password: %v", err)
			}
		}},
		{"only the first line is the password", "silent walnut orbit kettle\nrest\n", []string{"add", "dave"}, 0, `^user dave added\n$`, `^$`, func(t *testing.T) {
			if _, err := openUsers(t, dir).Verify("dave", "silent walnut orbit kettle"); err != nil {
				t.Errorf("dave's password: %v", err)
			}
		}},
		{"duplicate", "amber falcon river stone\n", []string{"add", "ALICE"}, 1, `^$`, `^securechat: user add alice: user exists\n$`, nil},
		{"bad name", "amber falcon river stone\n", []string{"add", "b b"}, 1, `^$`, `^securechat: user add: username "b b": only letters.*\n$`, nil},
		{"name with escape", "amber falcon river stone\n", []string{"add", "x\x1b[2J"}, 1, `^$`, `^securechat: user add: username "x\\x1b\[2J": only letters.*\n$`, nil},
		{"name too long", "amber falcon river stone\n", []string{"add", strings.Repeat("n", 33)}, 1, `^$`, `at most 32 characters`, nil},
		{"short password", "short\n", []string{"add", "erin"}, 1, `^$`, `^securechat: user add erin: password is too short: use at least 8 characters\n$`, nil},
		{"password is the name", "ErinErin\n", []string{"add", "erinerin"}, 1, `^$`, `^securechat: user add erinerin: password must not be the same as the username\n$`, nil},
		// The same policy as registration over SSH (accounts.CheckPassword):
		// a common password and one holding the name are refused offline too.
		{"common password", "password\n", []string{"add", "erin"}, 1, `^$`, `^securechat: user add erin: that password is too easy to guess \(strength 0 of 4, 3 needed\)`, nil},
		{"password holds the name", "erin-in-wonderland-7\n", []string{"add", "erin"}, 1, `^$`, `^securechat: user add erin: the password must not contain the username\n$`, nil},
		{"password too long", strings.Repeat("p", 73) + "\n", []string{"add", "erin"}, 1, `^$`, `password is too long`, nil},
		{"empty password line", "\n", []string{"add", "erin"}, 1, `^$`, `password is too short`, nil},
		{"no password at all", "", []string{"add", "erin"}, 1, `^$`, `^securechat: user add erin: no password given on standard input\n$`, func(t *testing.T) {
			if openUsers(t, dir).Exists("erin") {
				t.Error("erin was added by failed commands")
			}
		}},
		{"passwd", "gentle harbor cobalt sprout\n", []string{"passwd", "Alice"}, 0, `^password of alice changed\n$`, `^$`, func(t *testing.T) {
			s := openUsers(t, dir)
			if _, err := s.Verify("alice", "amber falcon river stone"); !errors.Is(err, accounts.ErrBadPassword) {
				t.Errorf("old password: %v, want ErrBadPassword", err)
			}
			if _, err := s.Verify("alice", "gentle harbor cobalt sprout"); err != nil {
				t.Errorf("new password: %v", err)
			}
		}},
		{"passwd weak", "alice\n", []string{"passwd", "alice"}, 1, `^$`, `too short`, nil},
		{"passwd common", "password123\n", []string{"passwd", "alice"}, 1, `^$`, `too easy to guess`, nil},
		{"passwd holds the name", "Alice-sunflower-quartz\n", []string{"passwd", "alice"}, 1, `^$`, `must not contain the username`, nil},
		{"passwd unknown", "gentle harbor cobalt sprout\n", []string{"passwd", "nobody"}, 1, `^$`, `^securechat: user passwd nobody: no such user\n$`, nil},
		{"role admin", "", []string{"role", "bob", "admin"}, 0, `^bob is now admin\n$`, `^$`, nil},
		{"role again", "", []string{"role", "BOB", "admin"}, 0, `^bob is already admin\n$`, `^$`, nil},
		{"role unknown user", "", []string{"role", "nobody", "user"}, 1, `^$`, `^securechat: user role nobody: no such user\n$`, nil},
		{"list", "", []string{"list"}, 0,
			`^alice user created=` + date + ` keys=0\nbob admin created=` + date + ` keys=0\ncarol user created=` + date + ` keys=0\ndave user created=` + date + ` keys=0\n$`, `^$`,
			func(t *testing.T) {
				// Moderation as a running server would record it, for the next step.
				s := openUsers(t, dir)
				now := time.Now()
				if err := s.SetBan("carol", accounts.Ban{By: "bob"}); err != nil {
					t.Fatal(err)
				}
				if err := s.SetMute("carol", now.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				if err := s.SetMute("dave", now.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				k, err := accounts.ParseKey("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
				if err != nil {
					t.Fatal(err)
				}
				if err := s.AddKeys("bob", []accounts.Key{k}); err != nil {
					t.Fatal(err)
				}
				// An ended ban and an ended mute, which SetBan and SetMute
				// do not record, written by hand: list must not show them.
				path := filepath.Join(dir, "users.json")
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				old := `"name": "alice",`
				ended := old + ` "ban": {"by": "bob", "until": "2020-01-01T00:00:00Z", "at": "2019-01-01T00:00:00Z"}, "muted_until": "2020-01-01T00:00:00Z",`
				if !bytes.Contains(data, []byte(old)) {
					t.Fatalf("users.json has no %s", old)
				}
				if err := os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(ended), 1), 0o600); err != nil {
					t.Fatal(err)
				}
				if u, _ := openUsers(t, dir).Get("alice"); u.Ban == nil || u.MutedUntil.IsZero() {
					t.Fatalf("hand-written ended ban and mute not loaded: %+v", u)
				}
			}},
		{"list shows bans, mutes and keys", "", []string{"list"}, 0,
			`^alice user created=` + date + ` keys=0\nbob admin created=` + date + ` keys=1\ncarol user created=` + date + ` keys=0 banned muted\ndave user created=` + date + ` keys=0 muted\n$`, `^$`, nil},
		{"del", "", []string{"del", "Carol"}, 0, `^user carol deleted\n$`, `^$`, nil},
		{"del again", "", []string{"del", "carol"}, 1, `^$`, `^securechat: user del carol: no such user\n$`, func(t *testing.T) {
			s := openUsers(t, dir)
			if s.Exists("carol") || s.Count() != 3 {
				t.Errorf("after del: %d users, carol exists = %v", s.Count(), s.Exists("carol"))
			}
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			code, out, errOut := runUser(t, dir, st.stdin, st.args...)
			if code != st.wantCode {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", code, st.wantCode, out, errOut)
			}
			if !regexp.MustCompile(st.wantOut).MatchString(out) {
				t.Errorf("stdout %q does not match %q", out, st.wantOut)
			}
			if !regexp.MustCompile(st.wantErr).MatchString(errOut) {
				t.Errorf("stderr %q does not match %q", errOut, st.wantErr)
			}
			if st.check != nil {
				st.check(t)
			}
		})
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data folder: %v, %v; want mode 0700", fi.Mode(), err)
	}
}

// TestUserCommandPipe reads the password from an *os.File that is not a
// terminal, as `echo pw | securechat user add` does.
func TestUserCommandPipe(t *testing.T) {
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.WriteString("piped willow granite echo\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var out, errOut bytes.Buffer
	if code := userCommand(dir, testCost, accounts.DefaultMinPasswordScore, []string{"add", "alice"}, r, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := openUsers(t, dir).Verify("alice", "piped willow granite echo"); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestUserCommandUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantText string
	}{
		{"nothing", nil, "usage: securechat"},
		{"unknown subcommand", []string{"frobnicate"}, `unknown subcommand "frobnicate"`},
		{"list with an argument", []string{"list", "alice"}, "user list takes no arguments"},
		{"add without a name", []string{"add"}, "user add expects NAME"},
		{"add with two names", []string{"add", "a", "b"}, "user add expects NAME"},
		{"passwd without a name", []string{"passwd"}, "user passwd expects NAME"},
		{"del without a name", []string{"del"}, "user del expects NAME"},
		{"role without a role", []string{"role", "bob"}, "user role expects NAME admin|user"},
		{"role unknown", []string{"role", "bob", "root"}, `"root" is not a role`},
		{"role empty", []string{"role", "bob", ""}, `"" is not a role`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			code, out, errOut := runUser(t, dir, "", tt.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, tt.wantText) || !strings.Contains(errOut, "usage: securechat") {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and usage containing %q", code, out, errOut, tt.wantText)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a usage error touched the data folder: %v", err)
			}
		})
	}
	code, out, errOut := runUser(t, t.TempDir(), "", "help")
	if code != 0 || !strings.Contains(out, "user role NAME admin|user") || errOut != "" {
		t.Errorf("help: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestUserCommandLocked: while another process (a server) holds the data
// folder's lock, every subcommand refuses without touching users.json.
func TestUserCommandLocked(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runUser(t, dir, "amber falcon river stone\n", "add", "alice"); code != 0 {
		t.Fatalf("add: %s", errOut)
	}
	before, err := os.ReadFile(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	lock := flock.New(filepath.Join(dir, ".lock"))
	if ok, err := lock.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	for _, args := range [][]string{
		{"list"},
		{"add", "bob"},
		{"passwd", "alice"},
		{"del", "alice"},
		{"role", "alice", "admin"},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, out, errOut := runUser(t, dir, "violet anchor marble tide\n", args...)
			want := "securechat: user " + strings.Join(args[:min(len(args), 2)], " ") + ": data folder " + dir +
				" is in use by another securechat process\n" +
				"securechat: stop the server, or use: ssh -p PORT ADMIN@HOST admin user ...\n"
			if code != 1 || out != "" || errOut != want {
				t.Errorf("exit %d, stdout %q, stderr %q; want 1 and %q", code, out, errOut, want)
			}
		})
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "users.json")); !bytes.Equal(after, before) {
		t.Error("users.json changed while the folder was locked")
	}
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runUser(t, dir, "", "del", "alice"); code != 0 || out != "user alice deleted\n" {
		t.Errorf("after unlock: exit %d, %q, %q", code, out, errOut)
	}
	// userCommand released its own lock: it can be taken again.
	if ok, err := lock.TryLock(); !ok || err != nil {
		t.Errorf("lock not released by userCommand: %v, %v", ok, err)
	}
	lock.Unlock()
}
