package config

import (
	"fmt"
	"strings"
)

// Example is a complete config file: every key with its default, commented
// out, under its help. `securechat config example` prints it, and
// deploy/securechat.toml is a copy.
func Example() string {
	def := Defaults()
	var b strings.Builder
	b.WriteString("# securechat configuration (TOML).\n" +
		"#\n" +
		"# Every key is also a flag (--KEY) and an environment variable\n" +
		"# (SECURECHAT_KEY, upper case with '_' for '-'). A flag wins over the\n" +
		"# variable, the variable over this file, this file over the default.\n" +
		"# Durations are strings (\"30s\", \"10m\", \"24h\"); sizes and counts are numbers.\n" +
		"# Each key below is commented out and shows its default: uncomment to change it.\n" +
		"# SIGHUP (systemctl reload securechat) re-reads this file; keys marked\n" +
		"# \"restart\" keep their old value until the server restarts.\n" +
		"# Check a file with: securechat config check --config FILE\n")
	group := ""
	for _, s := range Settings {
		if s.Group != group {
			group = s.Group
			fmt.Fprintf(&b, "\n# --- %s ---\n", group)
		}
		b.WriteString("\n")
		for _, line := range wrap(s.Help, 74) {
			fmt.Fprintf(&b, "# %s\n", line)
		}
		note := "env " + s.Env()
		if s.Restart {
			note += "; restart"
		}
		fmt.Fprintf(&b, "# (%s)\n", note)
		fmt.Fprintf(&b, "#%s = %s\n", s.Name, s.TOML(&def))
	}
	return b.String()
}

// Effective writes the configuration as a TOML file, each value followed by
// where it came from: `securechat config check` prints it.
func (l *Loaded) Effective() string {
	var b strings.Builder
	if l.File != "" {
		fmt.Fprintf(&b, "# effective configuration; file %s\n", l.File)
	} else {
		b.WriteString("# effective configuration; no config file\n")
	}
	for _, s := range Settings {
		fmt.Fprintf(&b, "%s = %s # %s\n", s.Name, s.TOML(&l.Config), l.Sources[s.Name])
	}
	return b.String()
}

// MarkdownTable is README's table of flags, generated from Settings; a test
// keeps README equal to it.
func MarkdownTable() string {
	def := Defaults()
	var b strings.Builder
	b.WriteString("| flag and file key | env | default | meaning |\n| --- | --- | --- | --- |\n")
	b.WriteString("| `--config FILE` | `" + ConfigEnv + "` | | the TOML config file (not a key in it) |\n")
	for _, s := range Settings {
		flag := "--" + s.Name
		if s.Arg != "" {
			flag += " " + s.Arg
		}
		d := s.Text(&def)
		if d != "" {
			d = "`" + d + "`"
		}
		help := strings.ReplaceAll(s.Help, "|", "\\|")
		if s.Restart {
			help += " (restart)"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", flag, s.Env(), d, help)
	}
	return b.String()
}

// wrap breaks text into lines of at most width bytes at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}
