package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"securechat/config"
)

const configUsage = `usage: securechat [--config FILE] [flags] config check
       securechat config example

  check     load the configuration as the server would (flags, SECURECHAT_*
            variables, the file, defaults), and print it with where each
            value came from; exit 1 with the file, line and key if it is bad
  example   print a complete, commented config file with the defaults
`

// configCommand runs `securechat config check|example`. before are the flags
// given ahead of "config"; flags may also follow the subcommand.
func configCommand(before, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage)
		return 2
	}
	switch args[0] {
	case "example":
		if len(args) > 1 {
			fmt.Fprint(stderr, configUsage)
			return 2
		}
		fmt.Fprint(stdout, config.Example())
		return 0
	case "check":
		all := append(append([]string{}, before...), args[1:]...)
		l, rest, err := config.Load(all, os.LookupEnv, stderr, configUsage)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(stderr, "securechat:", err)
			return 1
		}
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "securechat: config check: unexpected %q\n", rest[0])
			return 2
		}
		fmt.Fprint(stdout, l.Effective())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, configUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "securechat: config %q: unknown subcommand\n%s", args[0], configUsage)
		return 2
	}
}
