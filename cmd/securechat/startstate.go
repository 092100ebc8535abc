package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// dataBefore is what the data folder held before a start, so that a start
// that fails (a bad --admin, an unreadable file) removes what it made and
// leaves nothing new behind: no folder from a mistyped --data, no host key
// that nobody ever connected to.
type dataBefore struct {
	dir string
	// top is the highest folder on the path that did not exist ("" when
	// the data folder existed): removing it removes everything made.
	top string
	// names are the data folder's entries, when it existed.
	names map[string]bool
	// unknown: the folder could not be read, so nothing is ever removed.
	unknown bool
}

// recordDataFolder notes what dir holds now.
func recordDataFolder(dir string) *dataBefore {
	b := &dataBefore{dir: dir}
	entries, err := os.ReadDir(dir)
	switch {
	case err == nil:
		b.names = make(map[string]bool, len(entries))
		for _, e := range entries {
			b.names[e.Name()] = true
		}
	case errors.Is(err, fs.ErrNotExist):
		abs, aerr := filepath.Abs(dir)
		if aerr != nil {
			b.unknown = true
			return b
		}
		top := abs
		for parent := filepath.Dir(top); parent != top; parent = filepath.Dir(top) {
			if _, err := os.Lstat(parent); err == nil {
				break
			}
			top = parent
		}
		b.top = top
	default:
		b.unknown = true
	}
	return b
}

// undo removes what appeared in the data folder since recordDataFolder.
// Call it only while holding the folder's lock, so nothing another process
// made is removed.
func (b *dataBefore) undo() error {
	switch {
	case b.unknown:
		return nil
	case b.top != "":
		if err := os.RemoveAll(b.top); err != nil {
			return fmt.Errorf("remove %s made by the failed start: %w", b.top, err)
		}
		return nil
	}
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return fmt.Errorf("read data folder %s: %w", b.dir, err)
	}
	var errs []error
	for _, e := range entries {
		if !b.names[e.Name()] {
			if err := os.RemoveAll(filepath.Join(b.dir, e.Name())); err != nil {
				errs = append(errs, fmt.Errorf("remove %s made by the failed start: %w", e.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}
