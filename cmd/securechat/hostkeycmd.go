package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"securechat/config"
	"securechat/hostkeys"
)

// hostkeyMain runs the hostkey command. Flags may also follow the word
// (securechat hostkey --data DIR), as people type them; they were silently
// ignored before, so a mistyped command read another folder than meant.
func hostkeyMain(args, rest []string, o config.Config, stdout, stderr io.Writer) int {
	if len(rest) > 1 {
		flags := append(append([]string{}, args[:len(args)-len(rest)]...), rest[1:]...)
		more, left, err := config.Load(flags, os.LookupEnv, stderr, usage)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "securechat:", err)
			return 2
		}
		if len(left) > 0 {
			fmt.Fprintf(stderr, "securechat: hostkey: unexpected argument %q\n", left[0])
			return 2
		}
		o = more.Config
	}
	return hostkeyCommand(o, stdout, stderr)
}

// hostkeyCommand prints the host key's fingerprint and a known_hosts line
// for the host name users type (--hostname) and the --listen port. It only
// reads: a data folder or key that does not exist yet (a mistyped --data, or
// a server never started) is an error, never a new key.
func hostkeyCommand(o config.Config, stdout, stderr io.Writer) int {
	_, port, err := net.SplitHostPort(o.Listen)
	if err == nil {
		_, err = strconv.Atoi(port)
	}
	if err != nil {
		fmt.Fprintf(stderr, "securechat: --listen %q: not HOST:PORT\n", o.Listen)
		return 2
	}
	if st, err := os.Stat(o.Data); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stderr, "securechat: data folder %s does not exist: check --data (the server makes the folder and its host key at its first start)\n", o.Data)
		return 1
	} else if err == nil && !st.IsDir() {
		fmt.Fprintf(stderr, "securechat: data folder %s is not a folder\n", o.Data)
		return 1
	}
	signer, err := hostkeys.Load(filepath.Join(o.Data, hostkeys.FileName))
	if errors.Is(err, hostkeys.ErrNoKey) {
		fmt.Fprintf(stderr, "securechat: %v: the server makes it at its first start; start it once, or check --data\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "securechat:", err)
		return 1
	}
	host, guessed := hostkeyHost(o)
	line, err := hostkeys.KnownHostsLine(net.JoinHostPort(host, port), signer.PublicKey())
	if err != nil {
		fmt.Fprintln(stderr, "securechat:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s (ED25519)\n", hostkeys.Fingerprint(signer.PublicKey()), host)
	fmt.Fprintln(stdout, line)
	if guessed {
		fmt.Fprintf(stderr, "securechat: the known_hosts line names this machine (%s); give --hostname with the name users type in ssh\n", host)
	}
	return 0
}

// hostkeyHost is the host name for the known_hosts line: --hostname, else
// the --listen address when it names one, else this machine's name (guessed
// is then true: users may type another name).
func hostkeyHost(o config.Config) (host string, guessed bool) {
	if o.Hostname != "" {
		return o.Hostname, false
	}
	if h, _, err := net.SplitHostPort(o.Listen); err == nil && h != "" && !net.ParseIP(h).IsUnspecified() {
		return h, false
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h, true
	}
	return "localhost", true
}
