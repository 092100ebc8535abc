package backup

import (
	"archive/tar"
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
	"sort"
	"strings"
	"time"
)

// Names of the files the package treats specially.
const (
	HistoryFile  = "message_history.jsonl"
	UsersFile    = "users.json"
	ManifestFile = "manifest.json"
	LockFile     = ".lock"
)

// ArchiveVersion is the version of the archive layout itself.
const ArchiveVersion = 1

// Manifest describes a snapshot; it is the archive's last entry.
type Manifest struct {
	Kind           string    `json:"kind"` // always "securechat-backup"
	ArchiveVersion int       `json:"archive_version"`
	DataFormat     int       `json:"data_format"` // the data folder's format version
	Created        time.Time `json:"created"`
	Users          int       `json:"users"`
	Messages       int       `json:"messages"`
	Files          []File    `json:"files"`
}

// File is one file of a snapshot.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

const manifestKind = "securechat-backup"

// Write writes a snapshot of the data folder dir to w: the history's first
// historySize bytes (negative: the file as it is, cut after its last whole
// line) and every other regular file, read whole. Folders, the lock and
// dot-files (temporary files of atomic saves) are left out. With zip the
// archive is gzipped.
func Write(w io.Writer, dir string, historySize int64, zip bool) (Manifest, error) {
	// The history's length first: see the package comment.
	hpath := filepath.Join(dir, HistoryFile)
	if historySize < 0 {
		n, err := wholeLines(hpath)
		if err != nil {
			return Manifest{}, err
		}
		historySize = n
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Manifest{}, fmt.Errorf("read data folder: %w", err)
	}
	out := w
	var gz *gzip.Writer
	if zip {
		gz = gzip.NewWriter(w)
		out = gz
	}
	tw := tar.NewWriter(out)
	m := Manifest{Kind: manifestKind, ArchiveVersion: ArchiveVersion, Created: time.Now().UTC()}
	m.DataFormat, err = ReadVersion(dir)
	if err != nil {
		return Manifest{}, err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || name == ManifestFile {
			continue
		}
		var f File
		if name == HistoryFile {
			f, m.Messages, err = addHistory(tw, hpath, historySize)
		} else {
			var data []byte
			data, err = os.ReadFile(filepath.Join(dir, name))
			if err == nil {
				f, err = addBytes(tw, name, data)
			}
			if err == nil && name == UsersFile {
				if m.Users, err = countUsers(data); err != nil {
					err = fmt.Errorf("%s does not parse: %w", filepath.Join(dir, name), err)
				}
			}
		}
		if err != nil {
			return Manifest{}, fmt.Errorf("back up %s: %w", name, err)
		}
		m.Files = append(m.Files, f)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Name < m.Files[j].Name })
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	if _, err := addBytes(tw, ManifestFile, append(mb, '\n')); err != nil {
		return Manifest{}, err
	}
	if err := tw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("write archive: %w", err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return Manifest{}, fmt.Errorf("write archive: %w", err)
		}
	}
	return m, nil
}

// wholeLines is the length of the file up to and including its last
// newline (0 if it does not exist).
func wholeLines(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read history: %w", err)
	}
	return int64(bytes.LastIndexByte(data, '\n') + 1), nil
}

func header(name string, size int64) *tar.Header {
	return &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: time.Now().UTC(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
}

func addBytes(tw *tar.Writer, name string, data []byte) (File, error) {
	if err := tw.WriteHeader(header(name, int64(len(data)))); err != nil {
		return File{}, err
	}
	if _, err := tw.Write(data); err != nil {
		return File{}, err
	}
	sum := sha256.Sum256(data)
	return File{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// addHistory copies the history's first size bytes, counting its lines.
func addHistory(tw *tar.Writer, path string, size int64) (File, int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && size == 0 {
		fl, err := addBytes(tw, HistoryFile, nil)
		return fl, 0, err
	}
	if err != nil {
		return File{}, 0, err
	}
	defer f.Close()
	if err := tw.WriteHeader(header(HistoryFile, size)); err != nil {
		return File{}, 0, err
	}
	h := sha256.New()
	lines := &lineCounter{}
	n, err := io.Copy(io.MultiWriter(tw, h, lines), io.NewSectionReader(f, 0, size))
	if err != nil {
		return File{}, 0, err
	}
	if n != size {
		return File{}, 0, fmt.Errorf("history is %d bytes, %d expected", n, size)
	}
	return File{Name: HistoryFile, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, lines.n, nil
}

type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

func countUsers(data []byte) (int, error) {
	var f struct {
		Users []json.RawMessage `json:"users"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, fmt.Errorf("parse users: %w", err)
	}
	return len(f.Users), nil
}
