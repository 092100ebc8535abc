package accounts

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"
	"golang.org/x/crypto/bcrypt"
)

// fileMode is the mode of users.json, whatever the umask: it holds hashes.
const fileMode = 0o600

// fileFormat is the shape of users.json.
type fileFormat struct {
	Users []User `json:"users"`
}

// Open loads the users file at path, or creates it (empty, mode 0600) at
// once if it does not exist, so that a missing or unwritable data folder is
// found at start-up rather than at the first registration. A file that does
// not parse, or breaks the rules (an invalid or duplicate name, a malformed
// hash, a key listed twice, a malformed ban, preferences over the limits),
// is an error naming the file, the user and the problem,
// and the file is left exactly as it is. An existing file is made mode 0600,
// even one that then fails to parse (which changes no byte of it).
// Temporary files left by a save that crashed are removed.
func Open(path string, opts Options) (*Store, error) {
	cost := opts.Cost
	if cost == 0 {
		cost = DefaultCost
	}
	if cost < minCost || cost > maxCost {
		return nil, fmt.Errorf("open users file: bcrypt cost %d is out of range (use 10 to %d)", cost, maxCost)
	}
	s := &Store{
		path:     path,
		cost:     cost,
		log:      opts.Logger,
		saveHook: opts.SaveHook,
		clock:    opts.Now,
	}
	if s.log == nil {
		s.log = discard()
	}
	if s.clock == nil {
		s.clock = time.Now
	}

	// The dummy hash lets Verify spend the same time on unknown names.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("open users file: %w", err)
	}
	dummy, err := bcrypt.GenerateFromPassword(secret, cost)
	if err != nil {
		return nil, fmt.Errorf("open users file: %w", err)
	}
	s.dummy = dummy

	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create users file: %w", err)
		}
		s.removeStaleTemps()
		s.cur = newState()
		data, err := encode(s.cur)
		if err != nil {
			return nil, fmt.Errorf("create users file %s: %w", path, err)
		}
		if err := s.save(data); err != nil {
			return nil, fmt.Errorf("create users file %s: %w", path, err)
		}
		s.log.Info("created users file", "path", path)
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("open users file: %w", err)
	case !fi.Mode().IsRegular():
		// A save replaces the path with a regular file, which would silently
		// cut a symlink loose from its target.
		return nil, fmt.Errorf("open users file %s: not a regular file", path)
	}
	// Tighten the mode first, even if the file then fails to parse: it
	// holds password hashes either way. This changes no byte of it.
	if fi.Mode().Perm() != fileMode {
		if err := os.Chmod(path, fileMode); err != nil {
			return nil, fmt.Errorf("open users file: %w", err)
		}
		s.log.Warn("users file mode corrected to 0600", "path", path, "was", fi.Mode().Perm().String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open users file: %w", err)
	}
	st, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("users file %s: %w", path, err)
	}
	s.removeStaleTemps()
	s.cur = st
	s.onDisk = data
	return s, nil
}

// decode parses and checks users.json. Names are lower-cased, times made
// UTC, empty roles made RoleUser, ignore lists sorted and room lists
// deduplicated; everything else must already be right. None of that is
// written back until some change is saved.
func decode(data []byte) (*state, error) {
	var raw struct {
		Users *[]User `json:"users"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(data, se.Offset)
			return nil, fmt.Errorf("line %d, column %d: %w", line, col, err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			line, col := lineCol(data, te.Offset)
			return nil, fmt.Errorf("line %d, column %d: %w", line, col, err)
		}
		return nil, err
	}
	if raw.Users == nil {
		return nil, errors.New(`no "users" list (an empty file would be {"users": []})`)
	}
	st := newState()
	for i, u := range *raw.Users {
		if err := ValidateUsername(u.Name); err != nil {
			return nil, fmt.Errorf("user %d: %w", i+1, err)
		}
		u.Name = Normalize(u.Name)
		if _, dup := st.users[u.Name]; dup {
			return nil, fmt.Errorf("user %q is listed twice", u.Name)
		}
		if _, err := bcrypt.Cost([]byte(u.Hash)); err != nil {
			// Never quote the hash itself: errors end up in logs.
			return nil, fmt.Errorf("user %q: bcrypt hash is missing or malformed", u.Name)
		}
		switch u.Role {
		case "":
			u.Role = RoleUser
		case RoleUser, RoleAdmin:
		default:
			return nil, fmt.Errorf("user %q: unknown role %q", u.Name, short(string(u.Role)))
		}
		u.Created = u.Created.UTC()
		if !storableTime(u.Created) {
			return nil, fmt.Errorf("user %q: creation time %s is out of range", u.Name, u.Created.Format(time.RFC3339))
		}
		if len(u.Keys) == 0 {
			u.Keys = nil
		}
		for j := range u.Keys {
			k := &u.Keys[j]
			if err := ValidateKey(*k); err != nil {
				return nil, fmt.Errorf("user %q: %w", u.Name, err)
			}
			if owner, dup := st.byKey[k.Fingerprint]; dup {
				return nil, fmt.Errorf("key %s is listed twice (users %q and %q)", k.Fingerprint, owner, u.Name)
			}
			k.Added = k.Added.UTC()
			if !storableTime(k.Added) {
				return nil, fmt.Errorf("user %q: key %s: time added is out of range", u.Name, k.Fingerprint)
			}
			st.byKey[k.Fingerprint] = u.Name
		}
		if u.Ban != nil {
			if err := normalizeBan(u.Ban); err != nil {
				return nil, fmt.Errorf("user %q: %w", u.Name, err)
			}
		}
		u.MutedUntil = u.MutedUntil.UTC()
		if !storableTime(u.MutedUntil) {
			return nil, fmt.Errorf("user %q: mute end is out of range", u.Name)
		}
		if err := normalizePrefs(&u.Prefs); err != nil {
			return nil, fmt.Errorf("user %q: prefs: %w", u.Name, err)
		}
		st.users[u.Name] = u
		st.indexSource(u)
	}
	return st, nil
}

// storableTime reports whether t, in UTC, can be written back as JSON:
// encoding/json refuses years outside 0..9999, and "0000-01-01T00:00:00+01:00"
// parses but lands in year -1 once made UTC. Found by FuzzDecode.
func storableTime(t time.Time) bool {
	return t.Year() >= 0 && t.Year() <= 9999
}

// lineCol turns the offset encoding/json reports (just past the offending
// byte) into the 1-based line and column of that byte, for messages an
// operator editing the file by hand can act on.
func lineCol(data []byte, off int64) (line, col int) {
	off--
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// encode renders st as users.json: users sorted by name, two-space indent.
func encode(st *state) ([]byte, error) {
	data, err := json.MarshalIndent(fileFormat{Users: st.sorted()}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// save writes data as the users file. On failure the file on disk is the
// previous version: if the failure came after the rename, the previous
// bytes are put back, so that a change reported as failed does not
// reappear at the next start. Callers hold saveMu (or own s exclusively).
func (s *Store) save(data []byte) error {
	renamed, err := s.write(data, s.saveHook)
	if err == nil {
		s.onDisk = data
		return nil
	}
	s.log.Error("save users file", "path", s.path, "err", err)
	if renamed {
		var rerr error
		if s.onDisk == nil {
			rerr = os.Remove(s.path) // there was no file before
		} else {
			_, rerr = s.write(s.onDisk, nil)
		}
		if rerr != nil {
			s.log.Error("restore users file after a failed save", "path", s.path, "err", rerr)
		}
	}
	return err
}

// write replaces the users file with data atomically: temporary file in the
// same folder, fsync, rename, fsync of the folder (renameio does not do the
// last step, without which the rename itself may not survive a crash).
// renamed reports whether the new file had replaced the old when the error
// happened. hook, if not nil, is called before each step.
func (s *Store) write(data []byte, hook func(string) error) (renamed bool, err error) {
	step := func(name string) error {
		if hook == nil {
			return nil
		}
		if err := hook(name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	dir := filepath.Dir(s.path)
	// TempFile creates the file 0600 and chmods it if the umask interfered.
	pf, err := renameio.TempFile(dir, s.path)
	if err != nil {
		return false, err
	}
	defer pf.Cleanup() // removes the temporary file unless it was renamed
	if err := step("write"); err != nil {
		return false, err
	}
	if _, err := pf.Write(data); err != nil {
		return false, err
	}
	if err := step("sync"); err != nil {
		return false, err
	}
	if err := pf.Sync(); err != nil {
		return false, err
	}
	if err := step("rename"); err != nil {
		return false, err
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return false, err
	}
	if err := step("syncdir"); err != nil {
		return true, err
	}
	if err := syncDir(dir); err != nil {
		return true, err
	}
	return true, nil
}

// syncDir makes a rename inside dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return d.Close()
}

// removeStaleTemps deletes temporary files a crashed save left next to the
// users file (renameio names them "." + base name + decimal digits). They
// hold password hashes and would otherwise stay forever.
func (s *Store) removeStaleTemps() {
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || rest == "" || !e.Type().IsRegular() || strings.Trim(rest, "0123456789") != "" {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			s.log.Warn("remove stale temporary users file", "path", p, "err", err)
			continue
		}
		s.log.Warn("removed temporary users file left by a crash", "path", p)
	}
}
