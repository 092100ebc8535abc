package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"securechat/textsafe"
)

// progName starts every line this program writes to standard error.
const progName = "securechat-decrypt"

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // a message did not open, or sealing was refused
	exitUsage  = 2
)

func main() {
	c := &cli{
		stdin:      os.Stdin,
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		passphrase: ttyPassphrase("/dev/tty"),
		getenv:     os.Getenv,
	}
	os.Exit(c.run(os.Args[1:]))
}

// cli is one run of the command and everything it talks to, injected so that
// tests run it in-process without a terminal.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// passphrase asks for the passphrase of a protected SSH key.
	passphrase passphraseFunc
	// getenv reads HOME and XDG_CONFIG_HOME.
	getenv func(string) string
}

const usageText = `usage:
  securechat-decrypt [-i FILE]...
      read an inbox stream on standard input and print each message as
      "TIME SENDER → RECIPIENT: TEXT" (an empty inbox is said on standard
      error); without -i, ~/.ssh/id_ed25519 and ~/.ssh/id_rsa
  securechat-decrypt --encrypt --to USER -R FILE [-R FILE]... [--self FILE]... [--no-self]
                     [--accept-new-keys] [--known-keys PATH]
      seal standard input (at most 48 KiB) to the keys in the -R files and
      to your own (so inbox --sent opens your copy), as one armored age file
      on standard output, for the server's dm command

examples:
  ssh -p 8080 alice@chat.example inbox | securechat-decrypt
  ssh -p 8080 alice@chat.example inbox | securechat-decrypt -i ~/.ssh/work_ed25519 -i ~/.config/age/keys.txt
  ssh -p 8080 alice@chat.example pubkey bob > bob.keys
  echo 'hi bob' | securechat-decrypt --encrypt --to bob -R bob.keys | ssh -p 8080 alice@chat.example dm bob

The first time you seal to a user, their key fingerprints are remembered in
$XDG_CONFIG_HOME/securechat/known_keys (else ~/.config/securechat/known_keys);
if the server later lists other keys for them, sealing is refused until you
re-run with --accept-new-keys.

flags:
  -i FILE             identity to decrypt with (repeatable): an SSH private key
                      (ed25519 or RSA, passphrase asked on the terminal if
                      needed) or an age identity file (AGE-SECRET-KEY-1...)
  --encrypt           seal standard input instead of decrypting
  --to USER           who the message is for; their keys are pinned under it
  -R FILE             recipients file as "pubkey USER" prints it (repeatable)
  --self FILE         your own public keys to seal to as well (repeatable; a
                      .pub file or what "pubkey YOURNAME" prints); default:
                      ~/.ssh/id_ed25519.pub and ~/.ssh/id_rsa.pub
  --no-self           do not seal to your own keys (you cannot read your copy)
  --accept-new-keys   replace the remembered keys of USER with the ones given
  --known-keys PATH   the known-keys file to use
  --help              this text

exit status: 0 all went well, 1 a message did not open or sealing failed,
2 usage error
`

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	if v == "" {
		return errors.New("empty file name")
	}
	*s = append(*s, v)
	return nil
}

// options are the parsed flags.
type options struct {
	identities stringList
	encrypt    bool
	to         string
	recipients stringList
	acceptNew  bool
	knownKeys  string
	self       stringList
	noSelf     bool
}

// defineFlags declares the flags on fs, to be parsed into o.
func defineFlags(fs *flag.FlagSet, o *options) {
	fs.Var(&o.identities, "i", "identity `FILE` to decrypt with (repeatable): SSH private key or age identity file")
	fs.BoolVar(&o.encrypt, "encrypt", false, "seal standard input instead of decrypting")
	fs.StringVar(&o.to, "to", "", "with --encrypt: the `USER` the message is for (keys are pinned per user)")
	fs.Var(&o.recipients, "R", "with --encrypt: recipients `FILE` as `pubkey USER` prints it (repeatable)")
	fs.BoolVar(&o.acceptNew, "accept-new-keys", false, "with --encrypt: replace the remembered keys of USER with the ones given")
	fs.Var(&o.self, "self", "with --encrypt: your own public keys `FILE` to seal to as well (repeatable; default ~/.ssh/id_ed25519.pub, ~/.ssh/id_rsa.pub)")
	fs.BoolVar(&o.noSelf, "no-self", false, "with --encrypt: do not seal to your own keys")
	fs.StringVar(&o.knownKeys, "known-keys", "", "with --encrypt: known-keys `PATH` (default $XDG_CONFIG_HOME/securechat/known_keys)")
}

// parseFlags parses args. A flag.ErrHelp error means --help was asked for.
func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet(progName, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed once, by run, with the usage
	defineFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.encrypt {
		if len(o.identities) > 0 {
			return o, errors.New("-i is for decrypting; --encrypt takes -R")
		}
		if o.to == "" || len(o.recipients) == 0 {
			return o, errors.New("--encrypt needs --to USER and at least one -R FILE")
		}
		if o.noSelf && len(o.self) > 0 {
			return o, errors.New("--self and --no-self exclude each other")
		}
		o.to = normalizeUser(o.to)
		if err := validUser(o.to); err != nil {
			return o, fmt.Errorf("--to %q: %v", o.to, err)
		}
		return o, nil
	}
	if o.to != "" || len(o.recipients) > 0 || o.acceptNew || o.knownKeys != "" || len(o.self) > 0 || o.noSelf {
		return o, errors.New("--to, -R, --self, --no-self, --accept-new-keys and --known-keys go with --encrypt")
	}
	return o, nil
}

// usage writes the help text. It is written by hand rather than by
// flag.PrintDefaults so that it shows the --long spelling users type.
func usage(w io.Writer) {
	io.WriteString(w, usageText)
}

// run executes the command and returns the exit status.
func (c *cli) run(args []string) int {
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(c.stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "%s: %s\n\n", progName, textsafe.Sanitize(err.Error(), false))
		usage(c.stderr)
		return exitUsage
	}
	if o.encrypt {
		return c.encrypt(o)
	}
	return c.decrypt(o)
}

func (c *cli) fail(err error) int {
	fmt.Fprintf(c.stderr, "%s: %s\n", progName, textsafe.Sanitize(err.Error(), true))
	return exitFailed
}

func (c *cli) decrypt(o options) int {
	ids, err := loadIdentities(o.identities, c.passphrase)
	if err != nil {
		return c.fail(err)
	}
	if len(o.identities) == 0 {
		ids = loadDefaultIdentities(c.getenv("HOME"), c.passphrase, c.stderr)
		if len(ids) == 0 {
			return c.fail(errors.New("no identity: no usable ~/.ssh/id_ed25519 or ~/.ssh/id_rsa; give your key with -i FILE"))
		}
	}
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(c.stderr, "%s: reading sealed messages from standard input; pipe `ssh ... inbox` into me\n", progName)
	}
	ok, err := decryptStream(c.stdin, ids, c.stdout, c.stderr)
	if err != nil {
		return c.fail(err)
	}
	if !ok {
		return exitFailed
	}
	return exitOK
}

func (c *cli) encrypt(o options) int {
	path := o.knownKeys
	if path == "" {
		home := c.getenv("HOME")
		if home == "" && c.getenv("XDG_CONFIG_HOME") == "" {
			return c.fail(errors.New("neither HOME nor XDG_CONFIG_HOME is set: give --known-keys PATH"))
		}
		path = knownKeysPath(c.getenv("XDG_CONFIG_HOME"), home)
	}
	var self []recipientKey
	if !o.noSelf {
		var err error
		if self, err = selfKeys(o.self, c.getenv("HOME"), c.stderr); err != nil {
			return c.fail(err)
		}
	}
	err := sealTo(sealOptions{
		User:          o.to,
		Files:         o.recipients,
		KnownKeysPath: path,
		AcceptNew:     o.acceptNew,
		Self:          self,
		NoSelf:        o.noSelf,
	}, c.stdin, c.stdout, c.stderr)
	if err != nil {
		return c.fail(err)
	}
	return exitOK
}
