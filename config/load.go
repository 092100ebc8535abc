package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// ConfigEnv names the config file when --config is not given.
const ConfigEnv = "SECURECHAT_CONFIG"

// Source says where a value came from.
type Source struct {
	// Kind is "default", "file", "env" or "flag".
	Kind string
	// Where is the file and line, the variable or the flag.
	Where string
}

func (s Source) String() string {
	if s.Where == "" {
		return s.Kind
	}
	return s.Kind + " " + s.Where
}

// Loaded is a configuration with where each value came from, and what is
// needed to load it again (on SIGHUP): the file, the flags and environment
// seen at start.
type Loaded struct {
	Config  Config
	Sources map[string]Source
	// File is the config file ("" when there is none).
	File string

	flags map[string]string
	env   map[string]string
}

// Load reads flags from args, SECURECHAT_* variables through getenv and the
// config file named by --config or SECURECHAT_CONFIG, and returns the
// effective configuration and the arguments left after the flags. Usage goes
// to stderr on --help (then the error is flag.ErrHelp).
func Load(args []string, getenv func(string) (string, bool), stderr io.Writer, usage string) (*Loaded, []string, error) {
	fs := flag.NewFlagSet("securechat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprintln(stderr, "\nflags (each is also a config file key and an environment variable):")
		fs.PrintDefaults()
	}
	def := Defaults()
	flags := map[string]string{}
	var file string
	fs.StringVar(&file, "config", "", "`FILE`: the TOML config file (env "+ConfigEnv+"); securechat config example prints one")
	for _, s := range Settings {
		help := fmt.Sprintf("%s (env %s)", s.Help, s.Env())
		if s.Arg != "" {
			help = "`" + s.Arg + "`: " + help
		}
		fs.Var(&recorder{name: s.Name, into: flags, def: s.Text(&def), isBool: s.kind == kindBool}, s.Name, help)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if file == "" {
		file, _ = getenv(ConfigEnv)
	}
	env := map[string]string{}
	for _, s := range Settings {
		if v, ok := getenv(s.Env()); ok && v != "" {
			env[s.Name] = v
		}
	}
	l := &Loaded{File: file, flags: flags, env: env}
	if err := l.build(); err != nil {
		return nil, nil, err
	}
	return l, fs.Args(), nil
}

// Reload reads the config file again and applies the environment and flags
// seen at start over it, as Load did. The receiver is not changed.
func (l *Loaded) Reload() (*Loaded, error) {
	n := &Loaded{File: l.File, flags: l.flags, env: l.env}
	if err := n.build(); err != nil {
		return nil, err
	}
	return n, nil
}

func (l *Loaded) build() error {
	l.Config = Defaults()
	l.Sources = make(map[string]Source, len(Settings))
	for _, s := range Settings {
		l.Sources[s.Name] = Source{Kind: "default"}
	}
	if l.File != "" {
		data, err := os.ReadFile(l.File)
		if err != nil {
			return fmt.Errorf("read config file: %w", err)
		}
		if err := l.applyFile(l.File, data); err != nil {
			return err
		}
	}
	for _, s := range Settings {
		if raw, ok := l.env[s.Name]; ok {
			if err := l.applyText(s, raw); err != nil {
				return fmt.Errorf("%s=%s: %w", s.Env(), raw, err)
			}
			l.Sources[s.Name] = Source{Kind: "env", Where: s.Env()}
		}
	}
	for _, s := range Settings {
		if raw, ok := l.flags[s.Name]; ok {
			if err := l.applyText(s, raw); err != nil {
				return fmt.Errorf("--%s %s: %w", s.Name, raw, err)
			}
			l.Sources[s.Name] = Source{Kind: "flag", Where: "--" + s.Name}
		}
	}
	return nil
}

// applyText sets s from a flag or environment value.
func (l *Loaded) applyText(s Setting, raw string) error {
	var v any
	var err error
	switch s.kind {
	case kindString:
		v = raw
	case kindBool:
		v, err = strconv.ParseBool(raw)
	case kindInt:
		v, err = strconv.Atoi(raw)
	case kindFloat:
		v, err = strconv.ParseFloat(raw, 64)
	case kindDuration:
		v, err = time.ParseDuration(raw)
	}
	if err != nil {
		return fmt.Errorf("not %s", s.kind)
	}
	if s.check != nil {
		if err := s.check(v); err != nil {
			return err
		}
	}
	set(s, &l.Config, v)
	return nil
}

// FileError is a problem in the config file, with its place.
type FileError struct {
	File string
	Line int
	Key  string // "" when the problem is not about one key
	Msg  string
}

func (e *FileError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// applyFile sets every key in a TOML document. Keys are flat (the flag
// names); tables, arrays and dates are not settings.
func (l *Loaded) applyFile(name string, data []byte) error {
	// The full decoder first: it checks everything TOML forbids, duplicate
	// keys included, and says where.
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return &FileError{File: name, Line: row, Key: strings.Join(de.Key(), "."), Msg: de.Error()}
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			it := e.Key()
			it.Next()
			k := it.Node()
			return &FileError{File: name, Line: p.Shape(k.Raw).Start.Line, Key: "[" + string(k.Data) + "]",
				Msg: "tables are not used: every key is a flag name at the top of the file"}
		case unstable.KeyValue:
			if err := l.applyKeyValue(&p, name, e); err != nil {
				return err
			}
		}
	}
	if err := p.Error(); err != nil {
		return fmt.Errorf("%s: %w", name, err) // unreachable: toml.Unmarshal saw it
	}
	return nil
}

func (l *Loaded) applyKeyValue(p *unstable.Parser, file string, e *unstable.Node) error {
	var parts []string
	var line int
	it := e.Key()
	for it.Next() {
		k := it.Node()
		if line == 0 {
			line = p.Shape(k.Raw).Start.Line
		}
		parts = append(parts, string(k.Data))
	}
	key := strings.Join(parts, ".")
	s, ok := Lookup(key)
	if !ok {
		return &FileError{File: file, Line: line, Key: key, Msg: "unknown key (`securechat config example` lists them all)"}
	}
	val := e.Value()
	bad := func(msg string) error { return &FileError{File: file, Line: line, Key: key, Msg: msg} }
	var v any
	switch {
	case val.Kind == unstable.String && s.kind == kindString:
		v = string(val.Data)
	case val.Kind == unstable.String && s.kind == kindDuration:
		d, err := time.ParseDuration(string(val.Data))
		if err != nil {
			return bad(fmt.Sprintf("%q is not a duration (like \"30s\", \"10m\", \"24h\")", val.Data))
		}
		v = d
	case val.Kind == unstable.Bool && s.kind == kindBool:
		v = string(val.Data) == "true"
	case val.Kind == unstable.Integer && (s.kind == kindInt || s.kind == kindFloat):
		n, err := strconv.ParseInt(strings.ReplaceAll(string(val.Data), "_", ""), 0, 64)
		if err != nil || int64(int(n)) != n {
			return bad(fmt.Sprintf("%s is out of range", val.Data))
		}
		if s.kind == kindInt {
			v = int(n)
		} else {
			v = float64(n)
		}
	case val.Kind == unstable.Float && s.kind == kindFloat:
		f, err := strconv.ParseFloat(strings.ReplaceAll(string(val.Data), "_", ""), 64)
		if err != nil {
			return bad(fmt.Sprintf("%s is not a number", val.Data))
		}
		v = f
	default:
		return bad(fmt.Sprintf("want %s, got %s", s.kind, kindName(val.Kind)))
	}
	if s.check != nil {
		if err := s.check(v); err != nil {
			return bad(fmt.Sprintf("%s: %v", p.Raw(val.Raw), err))
		}
	}
	set(s, &l.Config, v)
	l.Sources[s.Name] = Source{Kind: "file", Where: fmt.Sprintf("%s:%d", file, line)}
	return nil
}

func kindName(k unstable.Kind) string {
	switch k {
	case unstable.String:
		return "a string"
	case unstable.Bool:
		return "a boolean"
	case unstable.Integer:
		return "an integer"
	case unstable.Float:
		return "a float"
	case unstable.Array:
		return "an array"
	case unstable.InlineTable:
		return "a table"
	default:
		return "a date or time"
	}
}

// recorder is a flag.Value that keeps the text it was given, so flags are
// applied last, over the file and the environment.
type recorder struct {
	name   string
	into   map[string]string
	def    string
	isBool bool
}

func (r *recorder) String() string {
	if r == nil {
		return ""
	}
	return r.def
}

func (r *recorder) Set(v string) error {
	r.into[r.name] = v
	return nil
}

func (r *recorder) IsBoolFlag() bool { return r.isBool }
