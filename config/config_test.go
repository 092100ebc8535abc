package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "securechat.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A flag beats the environment, which beats the file, which beats the
// default; each value says where it came from.
func TestPrecedence(t *testing.T) {
	file := writeFile(t, "fps = 10\nbacklog = 7\nqueue = 99\nlimit-flood-rate = 3\n")
	env := envOf(map[string]string{"SECURECHAT_FPS": "20", "SECURECHAT_BACKLOG": "8", "SECURECHAT_DATA": ""})
	l, rest, err := Load([]string{"--config", file, "--fps", "40", "user", "list"}, env, io.Discard, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rest, " ") != "user list" {
		t.Fatalf("rest %q", rest)
	}
	c := l.Config
	if c.FPS != 40 || c.Backlog != 8 || c.Queue != 99 || c.Flood.PerSecond != 3 || c.MaxMessage != 2000 || c.Data != "./data" {
		t.Fatalf("config %+v", c)
	}
	for key, want := range map[string]string{
		"fps": "flag --fps", "backlog": "env SECURECHAT_BACKLOG", "queue": "file " + file + ":3",
		"max-message": "default", "data": "default",
	} {
		if got := l.Sources[key].String(); got != want {
			t.Errorf("source of %s: %q, want %q", key, got, want)
		}
	}
	// SECURECHAT_CONFIG names the file when --config does not.
	l, _, err = Load(nil, envOf(map[string]string{ConfigEnv: file}), io.Discard, "")
	if err != nil || l.Config.FPS != 10 {
		t.Fatalf("SECURECHAT_CONFIG: %v, fps %d", err, l.Config.FPS)
	}
}

// Every bad file is refused with the file, the line and the key.
func TestFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unknown key", "fps = 30\n\nframes = 3\n", ":3: frames: unknown key"},
		{"wrong type int", "# c\nfps = \"30\"\n", ":2: fps: want an integer, got a string"},
		{"wrong type duration", "auth-timeout = 30\n", `:1: auth-timeout: want a duration string like "30s", got an integer`},
		{"bad duration", "auth-timeout = \"soon\"\n", `:1: auth-timeout: "soon" is not a duration`},
		{"out of range", "backlog = 1\nfps = 500\n", ":2: fps: 500: must be between 1 and 120"},
		{"choice", "log-format = \"xml\"\n", `:1: log-format: "xml": must be one of text, json, logfmt`},
		{"table", "fps = 3\n[limits]\nburst = 3\n", ":2: [limits]: tables are not used"},
		{"dotted key", "limits.burst = 3\n", ":1: limits.burst: unknown key"},
		{"duplicate", "fps = 3\nfps = 4\n", ":2: fps: toml: key fps is already defined"},
		{"syntax", "fps = 3\nqueue = = 4\n", ":2: toml: unexpected character"},
		{"bool", "no-register = 1\n", ":1: no-register: want a boolean, got an integer"},
		{"array", "listen = [\":1\"]\n", ":1: listen: want a string, got an array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, tc.text)
			_, _, err := Load([]string{"--config", file}, envOf(nil), io.Discard, "")
			if err == nil || !strings.HasPrefix(err.Error(), file+tc.want) {
				t.Fatalf("error %v, want prefix %q", err, file+tc.want)
			}
		})
	}
	_, _, err := Load([]string{"--config", filepath.Join(t.TempDir(), "none.toml")}, envOf(nil), io.Discard, "")
	if err == nil || !strings.Contains(err.Error(), "none.toml") {
		t.Fatalf("missing file: %v", err)
	}
}

// Flags and variables are checked as strictly as the file.
func TestFlagAndEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--queue", "lots"}, nil, "--queue lots: not an integer"},
		{[]string{"--auth-timeout", "1ms"}, nil, "--auth-timeout 1ms: must be between 1s and 1h"},
		{nil, map[string]string{"SECURECHAT_LIMIT_FLOOD_RATE": "0"}, "SECURECHAT_LIMIT_FLOOD_RATE=0: must be between 0.001 and 1e+06"},
		{nil, map[string]string{"SECURECHAT_NO_REGISTER": "maybe"}, "SECURECHAT_NO_REGISTER=maybe: not a boolean"},
	} {
		_, _, err := Load(tc.args, envOf(tc.env), io.Discard, "")
		if err == nil || err.Error() != tc.want {
			t.Errorf("Load(%q, %v): %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
	var help bytes.Buffer
	if _, _, err := Load([]string{"--help"}, envOf(nil), &help, "usage\n"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, s := range Settings {
		if !strings.Contains(help.String(), "-"+s.Name) || !strings.Contains(help.String(), s.Env()) {
			t.Errorf("--help does not name --%s and %s", s.Name, s.Env())
		}
	}
}

// The example file is every key with its default: uncommented, it loads to
// exactly the defaults, all from the file.
func TestExampleIsCompleteAndDefault(t *testing.T) {
	var b strings.Builder
	for _, line := range strings.SplitAfter(Example(), "\n") {
		if strings.HasPrefix(line, "#") && strings.Contains(line, " = ") {
			line = line[1:]
		}
		b.WriteString(line)
	}
	file := writeFile(t, b.String())
	l, _, err := Load([]string{"--config", file}, envOf(nil), io.Discard, "")
	if err != nil {
		t.Fatal(err)
	}
	def := Defaults()
	for _, s := range Settings {
		if l.Sources[s.Name].Kind != "file" {
			t.Errorf("%s is not in the example", s.Name)
		}
		if s.TOML(&l.Config) != s.TOML(&def) {
			t.Errorf("%s: example has %s, default is %s", s.Name, s.TOML(&l.Config), s.TOML(&def))
		}
	}
	// config check's output is itself a valid config file.
	file2 := writeFile(t, l.Effective())
	l2, _, err := Load([]string{"--config", file2}, envOf(nil), io.Discard, "")
	if err != nil {
		t.Fatalf("effective config does not load: %v", err)
	}
	if l2.Config.AuthTimeout != 30*time.Second {
		t.Fatalf("auth-timeout %s", l2.Config.AuthTimeout)
	}
}

// deploy/securechat.toml is exactly what `securechat config example` prints.
func TestDeployExampleIsCurrent(t *testing.T) {
	got, err := os.ReadFile(filepath.Join("..", "deploy", "securechat.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != Example() {
		t.Fatal("deploy/securechat.toml differs from Example(); regenerate: go run ./cmd/securechat config example > deploy/securechat.toml")
	}
}

// README's flags table is the one generated from Settings.
func TestReadmeFlagsTable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- flags:begin -->\n", "<!-- flags:end -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README has no flags table between the markers")
	}
	if got := s[i+len(begin) : j]; got != MarkdownTable() {
		t.Fatalf("README's flags table differs from the code's; want:\n%s", MarkdownTable())
	}
}

// A reload reads the file again; flags and variables still win.
func TestReload(t *testing.T) {
	file := writeFile(t, "fps = 10\nbacklog = 5\n")
	l, _, err := Load([]string{"--config", file, "--backlog", "9"}, envOf(nil), io.Discard, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("fps = 20\nbacklog = 6\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := l.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if n.Config.FPS != 20 || n.Config.Backlog != 9 || l.Config.FPS != 10 {
		t.Fatalf("reloaded fps %d backlog %d; old fps %d", n.Config.FPS, n.Config.Backlog, l.Config.FPS)
	}
	if err := os.WriteFile(file, []byte("fps = 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reload(); err == nil || !strings.Contains(err.Error(), ":1: fps") {
		t.Fatalf("bad reload: %v", err)
	}
}

// FuzzFile: no document makes loading panic, and whatever loads passes
// every setting's check.
func FuzzFile(f *testing.F) {
	f.Add("fps = 30\n")
	f.Add("[x]\ny = 1\n")
	f.Add("auth-timeout = \"1h\"\nlimit-flood-rate = 1.5e2\nqueue = 0x100\n")
	f.Add("listen = \"\"\"\n:22\"\"\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "c.toml")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		l, _, err := Load([]string{"--config", p}, envOf(nil), io.Discard, "")
		if err != nil {
			return
		}
		for _, s := range Settings {
			if s.check != nil {
				if err := s.check(s.Value(&l.Config)); err != nil {
					t.Fatalf("%s loaded out of range: %v", s.Name, err)
				}
			}
		}
	})
}
