// Command securechat runs the chat server: anyone joins with
// `ssh -p 8080 NAME@HOST`. It parses flags and environment, wires the stores
// to the SSH server, and handles signals; nothing else lives here.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"

	"securechat/backup"
	"securechat/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: securechat [flags]                 run the server
       securechat [flags] hostkey         print the host key fingerprint and a known_hosts line
       securechat [flags] user list|add NAME|passwd NAME|del NAME|role NAME admin|user
                                          administer accounts while the server is stopped
       securechat [flags] config check    check the configuration and print it with each value's source
       securechat config example          print a complete config file with the defaults
       securechat [flags] backup OUT      snapshot a stopped server's data folder (see backup --help)
       securechat [flags] restore IN      replace the data folder with a snapshot
`

func run(args []string, stdout, stderr io.Writer) int {
	loaded, rest, err := config.Load(args, os.LookupEnv, stderr, usage)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "securechat:", err)
		return 2
	}
	c := loaded.Config
	logs, err := newLogs(stderr, c.LogLevel, c.LogFormat)
	if err != nil {
		fmt.Fprintln(stderr, "securechat:", err)
		return 2
	}
	if len(rest) > 0 {
		switch rest[0] {
		case "hostkey":
			return hostkeyMain(args, rest, c, stdout, stderr)
		case "user":
			return userCommand(c.Data, c.BcryptCost, c.MinPasswordScore, rest[1:], os.Stdin, stdout, stderr)
		case "config":
			return configCommand(args[:len(args)-len(rest)], rest[1:], stdout, stderr)
		case "backup", "restore":
			return archiveCommand(rest[0], args[:len(args)-len(rest)], rest[1:], os.Stdin, stdout, stderr)
		default:
			fmt.Fprintf(stderr, "securechat: unknown command %q (try --help)\n", rest[0])
			return 2
		}
	}
	if err := serve(loaded, logs); err != nil {
		logs.root.Error("securechat stopped", "err", err)
		return 1
	}
	return 0
}

// prepareData makes the data folder (0700), takes its lock, so that only
// one process ever owns it, and brings it to the current format version
// (saved is the backup made before an upgrade, if there was one).
func prepareData(dir string) (lock *flock.Flock, saved string, err error) {
	lock, err = lockData(dir)
	if err != nil {
		return nil, "", err
	}
	saved, err = backup.Prepare(dir)
	if err != nil {
		lock.Unlock()
		return nil, "", err
	}
	return lock, saved, nil
}

func lockData(dir string) (*flock.Flock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("data folder %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("data folder %s is not a folder", dir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("chmod data folder %s: %w", dir, err)
	}
	lock := flock.New(filepath.Join(dir, ".lock"))
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock data folder %s: %w", dir, err)
	}
	if !ok {
		return nil, fmt.Errorf("data folder %s is in use by another securechat process", dir)
	}
	_ = os.Chmod(lock.Path(), 0o600)
	return lock, nil
}
