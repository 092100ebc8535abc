package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad config file stops the real server before it starts, naming the
// file, the line and the key; `config check` says the same, and prints a
// good file's values with their sources.
func TestConfigFileCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("# settings\nfps = 60\nmax-mesage = 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runBinary(t, "--config", bad, "--data", data, "--listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(stderr, bad+":3: max-mesage: unknown key") {
		t.Fatalf("server with a bad file: exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("the server touched its data folder before refusing the config: %v", err)
	}
	_, stderr, code = runBinary(t, "config", "check", "--config", bad)
	if code != 1 || !strings.Contains(stderr, bad+":3: max-mesage: unknown key") {
		t.Fatalf("config check of a bad file: exit %d, stderr:\n%s", code, stderr)
	}

	good := filepath.Join(dir, "good.toml")
	if err := os.WriteFile(good, []byte("fps = 60\nlimit-flood-mute = \"5m\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runBinary(t, "--backlog", "7", "config", "check", "--config", good)
	if code != 0 {
		t.Fatalf("config check: exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"fps = 60 # file " + good + ":1\n",
		`limit-flood-mute = "5m" # file ` + good + ":2\n",
		"backlog = 7 # flag --backlog\n",
		"queue = 1024 # default\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("config check output lacks %q:\n%s", want, stdout)
		}
	}

	stdout, _, code = runBinary(t, "config", "example")
	shipped, err := os.ReadFile(filepath.Join("..", "..", "deploy", "securechat.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || stdout != string(shipped) {
		t.Fatalf("config example (exit %d) differs from deploy/securechat.toml", code)
	}
}
