package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gofrs/flock"
	"github.com/google/renameio/v2"

	"securechat/backup"
	"securechat/config"
)

const backupUsage = `usage: securechat --data DIR backup OUT       snapshot a stopped server's data folder into OUT
       securechat --data DIR restore IN      replace the data folder with the snapshot IN

OUT ending in .gz or .tgz is gzipped; - is standard output (or input, for
restore). While the server runs, an admin takes a snapshot with
  ssh ADMIN@HOST admin backup > OUT
restore refuses while a server holds the folder, checks the whole archive
before changing anything, and keeps the old folder beside the new one.
`

// archiveCommand runs `securechat backup OUT` and `securechat restore IN`.
// before are the flags given ahead of the command; flags may also follow it.
func archiveCommand(cmd string, before, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	all := append(append([]string{}, before...), args...)
	l, rest, err := config.Load(all, os.LookupEnv, stderr, backupUsage)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "securechat:", err)
		return 2
	}
	if len(rest) != 1 {
		fmt.Fprint(stderr, backupUsage)
		return 2
	}
	dir := l.Config.Data
	if cmd == "backup" {
		err = backupFolder(dir, rest[0], stdout)
	} else {
		err = restoreFolder(dir, rest[0], stdin, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "securechat: %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func backupFolder(dir, out string, stdout io.Writer) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	lock := flock.New(filepath.Join(dir, backup.LockFile))
	ok, err := lock.TryLock()
	if err != nil {
		return fmt.Errorf("lock data folder: %w", err)
	}
	if !ok {
		return fmt.Errorf("%s is in use by a running securechat: take the snapshot through it, with ssh ADMIN@HOST admin backup > %s", dir, out)
	}
	defer lock.Unlock()
	zip := strings.HasSuffix(out, ".gz") || strings.HasSuffix(out, ".tgz")
	if out == "-" {
		_, err := backup.Write(stdout, dir, -1, false)
		return err
	}
	f, err := renameio.NewPendingFile(out, renameio.WithStaticPermissions(0o600))
	if err != nil {
		return err
	}
	defer f.Cleanup()
	m, err := backup.Write(f, dir, -1, zip)
	if err != nil {
		return err
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s: format %d, %d users, %d messages, %d files\n", dir, out, m.DataFormat, m.Users, m.Messages, len(m.Files))
	return nil
}

func restoreFolder(dir, in string, stdin io.Reader, stdout io.Writer) error {
	r := stdin
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	m, old, err := backup.Restore(r, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s: format %d, %d users, %d messages, taken %s\n", dir, m.DataFormat, m.Users, m.Messages, m.Created.Format("2006-01-02 15:04:05 UTC"))
	if old != "" {
		fmt.Fprintf(stdout, "the folder it replaced is now %s\n", old)
	}
	return nil
}
