package backup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

// VersionFile holds the data folder's format version, one number.
const VersionFile = "format-version"

// CurrentFormat is the format this securechat writes. Bump it with any
// change to what the data folder holds, and add the step in upgrades.
//
//	0: folders made before the version was recorded
//	1: the version is recorded; the files are as version 0 left them
const CurrentFormat = 1

// upgrades[v] turns a folder of format v into v+1.
var upgrades = map[int]func(dir string) error{
	0: func(string) error { return nil }, // only the version file is new
}

// ReadVersion is the folder's format version: the version file's number; 0
// for a folder with data but no version file; CurrentFormat for an empty or
// missing folder (nothing to upgrade).
func ReadVersion(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, VersionFile))
	if err == nil {
		v, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%s: not a format version: %q", filepath.Join(dir, VersionFile), strings.TrimSpace(string(b)))
		}
		return v, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("read format version: %w", err)
	}
	for _, f := range []string{UsersFile, HistoryFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return 0, nil
		}
	}
	return CurrentFormat, nil
}

// ErrNewerFormat: the folder was written by a newer securechat.
var ErrNewerFormat = errors.New("data folder is newer than this securechat")

// Prepare brings the data folder dir (whose lock the caller holds) to
// CurrentFormat. An older folder is first backed up into dir/backups, then
// upgraded step by step; a newer one is refused. It returns the backup's path
// when it made one.
func Prepare(dir string) (backupPath string, err error) {
	v, err := ReadVersion(dir)
	if err != nil {
		return "", err
	}
	if v > CurrentFormat {
		return "", fmt.Errorf("%w: %s has format version %d, this securechat writes version %d; run a newer securechat, or restore a backup made by this one",
			ErrNewerFormat, dir, v, CurrentFormat)
	}
	if v < CurrentFormat {
		backupPath, err = backupBeside(dir, v)
		if err != nil {
			return "", fmt.Errorf("back up before upgrading format %d: %w", v, err)
		}
		for ; v < CurrentFormat; v++ {
			if err := upgrades[v](dir); err != nil {
				return backupPath, fmt.Errorf("upgrade format %d to %d (backup at %s): %w", v, v+1, backupPath, err)
			}
		}
	}
	if err := writeVersion(dir, CurrentFormat); err != nil {
		return backupPath, err
	}
	return backupPath, nil
}

func backupBeside(dir string, v int) (string, error) {
	bdir := filepath.Join(dir, "backups")
	if err := os.MkdirAll(bdir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(bdir, fmt.Sprintf("format-%d-%s.tar.gz", v, time.Now().UTC().Format("20060102T150405Z")))
	f, err := renameio.NewPendingFile(path, renameio.WithStaticPermissions(0o600))
	if err != nil {
		return "", err
	}
	defer f.Cleanup()
	if _, err := Write(f, dir, -1, true); err != nil {
		return "", err
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return "", err
	}
	return path, nil
}

func writeVersion(dir string, v int) error {
	path := filepath.Join(dir, VersionFile)
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(v) {
		// Whatever an earlier hand left its mode at, as for every data file.
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("format version: %w", err)
		}
		return nil
	}
	f, err := renameio.NewPendingFile(path, renameio.WithStaticPermissions(0o600))
	if err != nil {
		return fmt.Errorf("write format version: %w", err)
	}
	defer f.Cleanup()
	if _, err := fmt.Fprintln(f, v); err != nil {
		return fmt.Errorf("write format version: %w", err)
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("write format version: %w", err)
	}
	return nil
}
