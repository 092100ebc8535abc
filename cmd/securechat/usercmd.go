package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"securechat/accounts"
)

const userUsage = `usage: securechat [--data DIR] [--bcrypt-cost N] [--min-password-score N] user SUBCOMMAND

Administers the accounts of a stopped server: the data folder must not be in
use by a running securechat.

  user list                    list the users
  user add NAME                add a user
  user passwd NAME             set a user's password
  user del NAME                delete a user
  user role NAME admin|user    set a user's role

add and passwd read the password from standard input: on a terminal they ask
for it twice without echo, otherwise they read the first line. The password
policy is the one of registration over SSH: at least 8 characters, at most 72
bytes, not containing the name, and not easy to guess (--min-password-score).
`

// userArgs is how many words follow each subcommand, and what they are.
var userArgs = map[string]struct {
	n    int
	hint string
}{
	"list":   {0, "takes no arguments"},
	"add":    {1, "expects NAME"},
	"passwd": {1, "expects NAME"},
	"del":    {1, "expects NAME"},
	"role":   {2, "expects NAME admin|user"},
}

// userCommand runs `securechat [--data DIR] [--bcrypt-cost N] user SUBCOMMAND ...`
// against a stopped server's data folder; args are the words after "user".
// It returns the exit status: 0 done (a one-line confirmation on stdout), 1
// failed (a one-line reason on stderr), 2 a usage error (usage on stderr).
// It holds the data folder's lock throughout, so it never edits users.json
// under a running server, which would overwrite the change at its next save.
func userCommand(dataDir string, cost, minScore int, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	if sub == "help" || sub == "-h" || sub == "--help" {
		fmt.Fprint(stdout, userUsage)
		return 0
	}
	spec, ok := userArgs[sub]
	if !ok {
		fmt.Fprintf(stderr, "securechat: user: unknown subcommand %q\n\n%s", sub, userUsage)
		return 2
	}
	if len(rest) != spec.n {
		fmt.Fprintf(stderr, "securechat: user %s %s\n\n%s", sub, spec.hint, userUsage)
		return 2
	}
	var role accounts.Role
	if sub == "role" {
		role = accounts.Role(rest[1])
		if role != accounts.RoleAdmin && role != accounts.RoleUser {
			fmt.Fprintf(stderr, "securechat: user role: %q is not a role (admin or user)\n\n%s", rest[1], userUsage)
			return 2
		}
	}

	// what names the command in messages; a name that is not valid is left
	// out, since its own error quotes it safely.
	what, name := "user "+sub, ""
	fail := func(err error) int {
		fmt.Fprintf(stderr, "securechat: %s: %v\n", what, err)
		return 1
	}
	if sub != "list" {
		if err := accounts.ValidateUsername(rest[0]); err != nil {
			return fail(err)
		}
		name = accounts.Normalize(rest[0])
		what += " " + name
	}

	lock, _, err := prepareData(dataDir)
	if err != nil {
		fail(err)
		// prepareData has no sentinel for a busy lock; its message is the
		// one a running server's lock produces.
		if strings.Contains(err.Error(), "in use by another securechat process") {
			fmt.Fprintln(stderr, "securechat: stop the server, or use: ssh -p PORT ADMIN@HOST admin user ...")
		}
		return 1
	}
	defer lock.Unlock()

	users, err := accounts.Open(filepath.Join(dataDir, "users.json"), accounts.Options{Cost: cost})
	if err != nil {
		return fail(err)
	}

	switch sub {
	case "list":
		now := time.Now()
		for _, u := range users.List() {
			line := fmt.Sprintf("%s %s created=%s keys=%d", u.Name, u.Role, u.Created.UTC().Format(time.DateOnly), len(u.Keys))
			if _, banned := users.ActiveBan(u.Name, now); banned {
				line += " banned"
			}
			if _, muted := users.MutedUntil(u.Name, now); muted {
				line += " muted"
			}
			fmt.Fprintln(stdout, line)
		}
	case "add":
		if users.Exists(name) {
			return fail(accounts.ErrUserExists) // before asking for a password
		}
		password, err := readNewPassword(name, minScore, stdin, stderr)
		if err != nil {
			return fail(err)
		}
		if _, err := users.Register(name, password); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "user %s added\n", name)
	case "passwd":
		if !users.Exists(name) {
			return fail(accounts.ErrNoUser)
		}
		password, err := readNewPassword(name, minScore, stdin, stderr)
		if err != nil {
			return fail(err)
		}
		if err := users.SetPassword(name, password); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "password of %s changed\n", name)
	case "del":
		if err := users.Delete(name); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "user %s deleted\n", name)
	case "role":
		u, ok := users.Get(name)
		if !ok {
			return fail(accounts.ErrNoUser)
		}
		if u.Role == role {
			fmt.Fprintf(stdout, "%s is already %s\n", name, role)
			return 0
		}
		if err := users.SetRole(name, role); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "%s is now %s\n", name, role)
	}
	return 0
}

// maxPasswordLine bounds what is read from a non-terminal stdin; anything
// near it is refused by the password policy anyway.
const maxPasswordLine = 4096

// readNewPassword reads a new password for the user name and applies the
// password policy, the same one as registration over SSH (minScore is
// --min-password-score). On a terminal it asks twice on stderr without echo;
// otherwise it reads one line from stdin, without its line ending.
func readNewPassword(name string, minScore int, stdin io.Reader, stderr io.Writer) (string, error) {
	var password string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		fmt.Fprint(stderr, "Password: ")
		first, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(stderr, "Repeat password: ")
		second, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if !bytes.Equal(first, second) {
			return "", errors.New("passwords do not match")
		}
		password = string(first)
	} else {
		if stdin == nil {
			return "", errors.New("no password given on standard input")
		}
		line, err := bufio.NewReader(io.LimitReader(stdin, maxPasswordLine)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		if line == "" {
			return "", errors.New("no password given on standard input")
		}
		password = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	}
	if err := accounts.CheckPassword(name, password, minScore); err != nil {
		return "", err
	}
	return password, nil
}
