package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
	gossh "golang.org/x/crypto/ssh"
)

// MaxFile bounds one file in an archive being verified (the history of a
// very busy server is far smaller); a larger entry is refused, not read.
const MaxFile = 64 << 30

// hostKeyFile is the host key's name in the data folder (hostkeys.FileName;
// this package imports none of ours).
const hostKeyFile = "ssh_host_ed25519_key"

// ErrInUse: a server holds the data folder's lock.
var ErrInUse = errors.New("the data folder is in use by a running securechat")

// Verify reads a whole archive (tar, gzipped or not) and checks it: a
// manifest last, every file in it with its size and checksum and nothing
// else, users.json and every history line parse, and the counts match. With
// dst not empty the files are written there as they are read (dst must
// exist); the caller discards dst if Verify fails.
func Verify(r io.Reader, dst string) (Manifest, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return Manifest{}, fmt.Errorf("read archive: %w", err)
		}
		defer gz.Close()
		r = gz
	} else {
		r = br
	}
	tr := tar.NewReader(r)
	seen := map[string]File{}
	var m *Manifest
	var users, messages int
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Manifest{}, fmt.Errorf("read archive: %w", err)
		}
		if m != nil {
			return Manifest{}, fmt.Errorf("archive: %s after the manifest", h.Name)
		}
		name := h.Name
		if h.Typeflag != tar.TypeReg || name != filepath.Base(name) || name == "." || name == ".." || strings.HasPrefix(name, ".") {
			return Manifest{}, fmt.Errorf("archive: unexpected entry %q", name)
		}
		if h.Size < 0 || h.Size > MaxFile {
			return Manifest{}, fmt.Errorf("archive: %s is %d bytes", name, h.Size)
		}
		if _, dup := seen[name]; dup {
			return Manifest{}, fmt.Errorf("archive: %s twice", name)
		}
		if name == ManifestFile {
			var mm Manifest
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&mm); err != nil {
				return Manifest{}, fmt.Errorf("archive: manifest: %w", err)
			}
			m = &mm
			continue
		}
		f, n, err := readEntry(tr, name, h.Size, dst)
		if err != nil {
			return Manifest{}, fmt.Errorf("archive: %s: %w", name, err)
		}
		seen[name] = f
		switch name {
		case UsersFile:
			users = n
		case HistoryFile:
			messages = n
		}
	}
	if m == nil {
		return Manifest{}, errors.New("archive: no manifest (not a securechat backup, or cut short)")
	}
	if m.Kind != manifestKind || m.ArchiveVersion != ArchiveVersion {
		return Manifest{}, fmt.Errorf("archive: not a securechat backup of version %d", ArchiveVersion)
	}
	if len(m.Files) != len(seen) {
		return Manifest{}, fmt.Errorf("archive: manifest lists %d files, the archive has %d", len(m.Files), len(seen))
	}
	for _, want := range m.Files {
		got, ok := seen[want.Name]
		if !ok {
			return Manifest{}, fmt.Errorf("archive: %s is in the manifest but missing", want.Name)
		}
		if got != want {
			return Manifest{}, fmt.Errorf("archive: %s: checksum or size does not match the manifest", want.Name)
		}
	}
	if users != m.Users || messages != m.Messages {
		return Manifest{}, fmt.Errorf("archive: %d users and %d messages, the manifest says %d and %d", users, messages, m.Users, m.Messages)
	}
	return *m, nil
}

// readEntry reads one file, checking that it parses: users.json as the users
// file, the history line by line as JSON objects, other .json files as JSON,
// the host key as a private key and the format version as a number.
// n is the users or messages it holds.
func readEntry(r io.Reader, name string, size int64, dst string) (File, int, error) {
	h := sha256.New()
	var w io.Writer = h
	var out *os.File
	if dst != "" {
		var err error
		out, err = os.OpenFile(filepath.Join(dst, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return File{}, 0, err
		}
		defer out.Close()
		w = io.MultiWriter(h, out)
	}
	n := 0
	var err error
	switch {
	case name == HistoryFile:
		n, err = checkHistory(io.TeeReader(io.LimitReader(r, size), w))
	case strings.HasSuffix(name, ".json"):
		var data []byte
		data, err = io.ReadAll(io.TeeReader(io.LimitReader(r, size), w))
		if err == nil && !json.Valid(data) {
			err = errors.New("not valid JSON")
		}
		if err == nil && name == UsersFile {
			n, err = countUsers(data)
		}
	case name == VersionFile || name == hostKeyFile:
		var data []byte
		data, err = io.ReadAll(io.TeeReader(io.LimitReader(r, min(size, 1<<20)), w))
		if err == nil && int64(len(data)) != size {
			err = errors.New("too large")
		}
		if err == nil && name == VersionFile {
			if _, perr := strconv.Atoi(strings.TrimSpace(string(data))); perr != nil {
				err = errors.New("not a format version")
			}
		}
		if err == nil && name == hostKeyFile {
			if _, perr := gossh.ParseRawPrivateKey(data); perr != nil {
				err = fmt.Errorf("not a private key: %w", perr)
			}
		}
	default:
		_, err = io.Copy(w, io.LimitReader(r, size))
	}
	if err != nil {
		return File{}, 0, err
	}
	if out != nil {
		if err := out.Sync(); err != nil {
			return File{}, 0, err
		}
	}
	return File{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, n, nil
}

// checkHistory reads every line to the end: each must be a JSON object with
// an id, in increasing order; the last must end with a newline.
func checkHistory(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	var last uint64
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			if len(line) > 0 {
				return 0, fmt.Errorf("line %d: cut short", n+1)
			}
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
		var e struct {
			ID uint64 `json:"id"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(line), &e); err != nil {
			return 0, fmt.Errorf("line %d: %w", n, err)
		}
		if e.ID <= last {
			return 0, fmt.Errorf("line %d: id %d after %d", n, e.ID, last)
		}
		last = e.ID
	}
}

// Restore replaces the data folder dir with the archive read from r. It
// refuses while a server holds dir's lock, verifies the whole archive into a
// new folder beside dir before touching dir, then moves dir aside (old, the
// folder kept) and the restored folder into its place.
func Restore(r io.Reader, dir string) (m Manifest, old string, err error) {
	dir = filepath.Clean(dir)
	if _, err := os.Stat(dir); err == nil {
		lock := flock.New(filepath.Join(dir, LockFile))
		ok, err := lock.TryLock()
		if err != nil {
			return Manifest{}, "", fmt.Errorf("lock data folder: %w", err)
		}
		if !ok {
			return Manifest{}, "", fmt.Errorf("%s: %w; stop it first", dir, ErrInUse)
		}
		defer lock.Unlock()
	} else if !errors.Is(err, os.ErrNotExist) {
		return Manifest{}, "", fmt.Errorf("data folder: %w", err)
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	tmp := dir + ".restoring-" + stamp
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return Manifest{}, "", fmt.Errorf("make restore folder: %w", err)
	}
	m, err = Verify(r, tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return Manifest{}, "", fmt.Errorf("nothing changed: %w", err)
	}
	if _, err := os.Stat(dir); err == nil {
		old = dir + ".before-restore-" + stamp
		if err := os.Rename(dir, old); err != nil {
			os.RemoveAll(tmp)
			return Manifest{}, "", fmt.Errorf("move the old folder aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return Manifest{}, old, fmt.Errorf("move the restored folder into place (the old one is %s): %w", old, err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return m, old, err
	}
	return m, old, nil
}

func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
