package cluster

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzClaimFolder feeds claimFolder any identity file: it never panics, and
// it accepts a folder only when the file names this cluster and node.
func FuzzClaimFolder(f *testing.F) {
	for _, seed := range []string{
		`{"cluster":"chat","node":"n1"}`,
		`{"cluster":"other","node":"n1"}`,
		`{"cluster":"chat","node":"n1","stream_created":"2026-12-02T16:00:00Z"}`,
		`{"cluster":"chat"}`,
		`null`, ``, `{`, `[]`, `{"cluster":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, identityFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		err := claimFolder(dir, "chat", "n1")
		if err != nil {
			return
		}
		id, ok, rerr := readIdentity(dir)
		if rerr != nil || !ok || id.Cluster != "chat" || id.Node != "n1" {
			t.Fatalf("accepted a folder recorded as %+v (ok %v, err %v)", id, ok, rerr)
		}
	})
}
