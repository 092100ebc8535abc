package main

import (
	"fmt"
	"io"
	"os"

	"securechat/textsafe"
)

// selfKeys are the sender's own public keys that --encrypt also seals to,
// so that the sender can read their copy later (inbox --sent): the --self
// files if given, else the public halves of the identities that decrypting
// uses by default (~/.ssh/id_ed25519.pub, ~/.ssh/id_rsa.pub), which are the
// keys `inbox --sent | securechat-decrypt` then opens it with. A --self file
// that cannot be read is an error; a default one is skipped with a warning.
func selfKeys(files []string, home string, warn io.Writer) ([]recipientKey, error) {
	if len(files) > 0 {
		return parseRecipientsFiles(files)
	}
	if home == "" {
		return nil, nil
	}
	var keys []recipientKey
	for _, id := range defaultIdentityFiles(home) {
		pub := id + ".pub"
		if _, err := os.Stat(pub); err != nil {
			continue
		}
		got, err := parseRecipientsFiles([]string{pub})
		if err != nil {
			fmt.Fprintf(warn, "%s: warning: not sealing to %s\n", progName, textsafe.Sanitize(err.Error(), false))
			continue
		}
		keys = append(keys, got...)
	}
	return keys, nil
}

// withSelf adds the sender's keys to the recipient's, each key once.
func withSelf(keys, self []recipientKey) []recipientKey {
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		seen[k.Fingerprint] = true
	}
	out := append([]recipientKey(nil), keys...)
	for _, k := range self {
		if !seen[k.Fingerprint] {
			seen[k.Fingerprint] = true
			out = append(out, k)
		}
	}
	return out
}
