package backup

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"securechat/accounts"
	"securechat/history"
	"securechat/hostkeys"
)

// makeFolder fills a real data folder with the real stores: users, a
// history, topics and a message of the day.
func makeFolder(t *testing.T, dir string, users, messages int) {
	t.Helper()
	acc, err := accounts.Open(filepath.Join(dir, UsersFile), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range users {
		if _, err := acc.Register(fmt.Sprintf("user%d", i), "violet stapler orbit 1"); err != nil {
			t.Fatal(err)
		}
	}
	h, err := history.Open(filepath.Join(dir, HistoryFile), history.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range messages {
		if err := h.AppendBatch([]history.Entry{{ID: uint64(i + 1), Time: time.Now(), Kind: "msg", From: "user0", Text: fmt.Sprint("hello ", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := hostkeys.LoadOrCreate(filepath.Join(dir, hostkeys.FileName)); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"topics.json": `{"lobby":"welcome"}`, "motd.txt": "be nice\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func snapshot(t *testing.T, dir string, zip bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Write(&buf, dir, -1, zip); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// files reads a folder's regular, non-dot files.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range es {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = string(b)
		}
	}
	return out
}

// A snapshot restores to the same files; the old folder is kept beside.
func TestBackupRestoreRoundTrip(t *testing.T) {
	for _, zip := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", zip), func(t *testing.T) {
			root := t.TempDir()
			src := filepath.Join(root, "src")
			if err := os.Mkdir(src, 0o700); err != nil {
				t.Fatal(err)
			}
			makeFolder(t, src, 3, 20)
			if _, err := Prepare(src); err != nil {
				t.Fatal(err)
			}
			archive := snapshot(t, src, zip)
			m, err := Verify(bytes.NewReader(archive), "")
			if err != nil {
				t.Fatal(err)
			}
			if m.Users != 3 || m.Messages != 20 || m.DataFormat != CurrentFormat || len(m.Files) != 6 {
				t.Fatalf("manifest %+v", m)
			}
			dst := filepath.Join(root, "dst")
			if err := os.Mkdir(dst, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, UsersFile), []byte(`{"users":[]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			_, old, err := Restore(bytes.NewReader(archive), dst)
			if err != nil {
				t.Fatal(err)
			}
			if got := files(t, old); got[UsersFile] != `{"users":[]}` {
				t.Fatalf("old folder not kept: %v", got)
			}
			want, got := files(t, src), files(t, dst)
			if len(want) != len(got) {
				t.Fatalf("restored %d files, want %d", len(got), len(want))
			}
			for name, text := range want {
				if got[name] != text {
					t.Errorf("%s differs after restore", name)
				}
			}
		})
	}
}

// A snapshot taken while users register and post holds a whole prefix of
// the history, and every author of a message in it is among its accounts.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	acc, err := accounts.Open(filepath.Join(dir, UsersFile), accounts.Options{Cost: 4})
	if err != nil {
		t.Fatal(err)
	}
	h, err := history.Open(filepath.Join(dir, HistoryFile), history.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		id := uint64(0)
		for i := 0; i < 300 && !stop.Load(); i++ {
			name := fmt.Sprintf("poster%d", i)
			if _, err := acc.Register(name, "violet stapler orbit 1"); err != nil {
				t.Error(err)
				return
			}
			batch := make([]history.Entry, 5)
			for j := range batch {
				id++
				batch[j] = history.Entry{ID: id, Time: time.Now(), Kind: "msg", From: name, Text: strings.Repeat("x", 100)}
			}
			if err := h.AppendBatch(batch); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()
	for range 10 {
		var buf bytes.Buffer
		if _, err := Write(&buf, dir, h.Size(), false); err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		m, err := Verify(bytes.NewReader(buf.Bytes()), out)
		if err != nil {
			t.Fatal(err)
		}
		var uf struct {
			Users []struct{ Name string } `json:"users"`
		}
		b, _ := os.ReadFile(filepath.Join(out, UsersFile))
		if err := json.Unmarshal(b, &uf); err != nil {
			t.Fatal(err)
		}
		known := map[string]bool{}
		for _, u := range uf.Users {
			known[u.Name] = true
		}
		hb, _ := os.ReadFile(filepath.Join(out, HistoryFile))
		for i, line := range strings.Split(strings.TrimSuffix(string(hb), "\n"), "\n") {
			if line == "" {
				continue
			}
			e, err := history.ParseLine([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != uint64(i+1) {
				t.Fatalf("message %d has id %d: a gap", i+1, e.ID)
			}
			if !known[e.From] {
				t.Fatalf("message %d is from %s, who is not in the snapshot's users (%d users, %d messages)", e.ID, e.From, m.Users, m.Messages)
			}
		}
	}
}

// Restore refuses while a server holds the folder, and leaves it alone.
func TestRestoreRefusesLockedFolder(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	os.Mkdir(src, 0o700)
	makeFolder(t, src, 1, 2)
	archive := snapshot(t, src, false)
	dst := filepath.Join(root, "dst")
	os.Mkdir(dst, 0o700)
	lock := flock.New(filepath.Join(dst, LockFile))
	if ok, err := lock.TryLock(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	defer lock.Unlock()
	if _, _, err := Restore(bytes.NewReader(archive), dst); !errors.Is(err, ErrInUse) {
		t.Fatalf("restore into a locked folder: %v", err)
	}
	if es, _ := os.ReadDir(root); len(es) != 2 {
		t.Fatalf("restore left something behind: %v", es)
	}
}

// A damaged archive is refused before anything changes.
func TestRestoreRejectsDamage(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	os.Mkdir(src, 0o700)
	makeFolder(t, src, 2, 10)
	good := snapshot(t, src, false)
	flip := func(b []byte, what string) []byte {
		out := bytes.Clone(b)
		i := bytes.Index(out, []byte(what))
		if i < 0 {
			t.Fatalf("no %q in archive", what)
		}
		out[i] ^= 0x01
		return out
	}
	// The archive rebuilt with entries edited (nil: left out) and the
	// manifest's checksums made to match the edits, so only the parse
	// checks can catch them.
	retar := func(edit func(name string, data []byte) []byte) []byte {
		tr := tar.NewReader(bytes.NewReader(good))
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		sums := map[string]File{}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			data, _ := io.ReadAll(tr)
			if h.Name == ManifestFile {
				var m Manifest
				if err := json.Unmarshal(data, &m); err != nil {
					t.Fatal(err)
				}
				for i, f := range m.Files {
					if e, ok := sums[f.Name]; ok {
						m.Files[i] = e
					}
				}
				data, _ = json.Marshal(m)
			}
			edited := edit(h.Name, data)
			if edited == nil {
				continue
			}
			if h.Name != ManifestFile && !bytes.Equal(edited, data) {
				sum := sha256.Sum256(edited)
				sums[h.Name] = File{Name: h.Name, Size: int64(len(edited)), SHA256: hex.EncodeToString(sum[:])}
			}
			h.Size = int64(len(edited))
			tw.WriteHeader(h)
			tw.Write(edited)
		}
		tw.Close()
		return buf.Bytes()
	}
	if _, err := Verify(bytes.NewReader(retar(func(_ string, d []byte) []byte { return d })), ""); err != nil {
		t.Fatalf("the rebuilt archive unedited does not verify: %v", err)
	}
	reasons := map[string]string{
		"checksum": "checksum or size does not match", "cut short": "unexpected EOF", "not json": "users.json: not valid JSON",
		"no manifest": "no manifest", "missing file": "manifest lists 5 files, the archive has 4",
		"torn history": "line 10: cut short", "empty": "no manifest", "bad host key": "not a private key",
	}
	for name, archive := range map[string][]byte{
		"checksum":     flip(good, "hello 3"),
		"cut short":    good[:len(good)/2],
		"not json":     flip(good, `"users"`),
		"no manifest":  retar(func(n string, d []byte) []byte { return map[bool][]byte{true: nil, false: d}[n == ManifestFile] }),
		"missing file": retar(func(n string, d []byte) []byte { return map[bool][]byte{true: nil, false: d}[n == "motd.txt"] }),
		"torn history": retar(func(n string, d []byte) []byte {
			if n == HistoryFile {
				return d[:len(d)-3]
			}
			return d
		}),
		"empty": nil,
		"bad host key": retar(func(n string, d []byte) []byte {
			if n == hostkeys.FileName {
				return bytes.Replace(d, []byte("OPENSSH PRIVATE KEY-----\n"), []byte("OPENSSH PRIVATE KEY-----\nAAAA"), 1)
			}
			return d
		}),
	} {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "data")
			os.Mkdir(dst, 0o700)
			os.WriteFile(filepath.Join(dst, "motd.txt"), []byte("old"), 0o600)
			_, _, err := Restore(bytes.NewReader(archive), dst)
			if err == nil || !strings.Contains(err.Error(), "nothing changed") {
				t.Fatalf("damaged archive restored: %v", err)
			}
			if !strings.Contains(err.Error(), reasons[name]) {
				t.Fatalf("error %q does not say %q", err, reasons[name])
			}
			if got := files(t, dst); len(got) != 1 || got["motd.txt"] != "old" {
				t.Fatalf("folder changed: %v", got)
			}
			if es, _ := os.ReadDir(filepath.Dir(dst)); len(es) != 1 {
				t.Fatalf("restore left something behind: %v", es)
			}
		})
	}
}

// An older folder (made before versions were recorded) is backed up and
// upgraded; a newer one is refused, naming both versions; a new one just
// gets the current version.
func TestFormatVersions(t *testing.T) {
	t.Run("older", func(t *testing.T) {
		dir := t.TempDir()
		makeFolder(t, dir, 2, 5)
		before := files(t, dir)
		saved, err := Prepare(dir)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(saved) != filepath.Join(dir, "backups") {
			t.Fatalf("backup at %s", saved)
		}
		f, err := os.Open(saved)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m, err := Verify(f, "")
		if err != nil || m.DataFormat != 0 || m.Users != 2 || m.Messages != 5 {
			t.Fatalf("upgrade backup: %+v %v", m, err)
		}
		if v, _ := ReadVersion(dir); v != CurrentFormat {
			t.Fatalf("version after upgrade %d", v)
		}
		after := files(t, dir)
		for name, text := range before {
			if after[name] != text {
				t.Errorf("upgrade changed %s", name)
			}
		}
		if again, err := Prepare(dir); err != nil || again != "" {
			t.Fatalf("second Prepare: %q %v", again, err)
		}
	})
	t.Run("newer", func(t *testing.T) {
		dir := t.TempDir()
		makeFolder(t, dir, 1, 1)
		os.WriteFile(filepath.Join(dir, VersionFile), []byte(fmt.Sprintln(CurrentFormat+1)), 0o600)
		_, err := Prepare(dir)
		want := fmt.Sprintf("has format version %d, this securechat writes version %d", CurrentFormat+1, CurrentFormat)
		if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), want) {
			t.Fatalf("newer folder: %v", err)
		}
	})
	t.Run("new", func(t *testing.T) {
		dir := t.TempDir()
		if saved, err := Prepare(dir); err != nil || saved != "" {
			t.Fatalf("new folder: %q %v", saved, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, VersionFile)); strings.TrimSpace(string(b)) != fmt.Sprint(CurrentFormat) {
			t.Fatalf("version file %q", b)
		}
	})
}

// FuzzVerify: no archive makes Verify panic or write outside its folder.
func FuzzVerify(f *testing.F) {
	dir := f.TempDir()
	acc, _ := accounts.Open(filepath.Join(dir, UsersFile), accounts.Options{Cost: 4})
	acc.Register("alice", "violet stapler orbit 1")
	os.WriteFile(filepath.Join(dir, HistoryFile), []byte(`{"id":1,"time":"2026-01-01T00:00:00Z","kind":"msg","from":"alice","text":"hi"}`+"\n"), 0o600)
	var plain, zipped bytes.Buffer
	Write(&plain, dir, -1, false)
	Write(&zipped, dir, -1, true)
	f.Add(plain.Bytes())
	f.Add(zipped.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		out := t.TempDir()
		m, err := Verify(bytes.NewReader(b), out)
		if err == nil && len(m.Files) == 0 && m.Kind != manifestKind {
			t.Fatal("accepted without a manifest")
		}
	})
}
