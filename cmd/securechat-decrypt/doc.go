// Command securechat-decrypt is the local helper of securechat: it runs on
// the user's own machine, where the private keys are, so that the server only
// ever holds ciphertext.
//
// Decrypting (the default) reads the stream the server's `inbox` command
// prints and shows each message as "TIME SENDER: TEXT":
//
//	ssh -p 8080 alice@host inbox | securechat-decrypt [-i FILE]...
//
// Encrypting seals standard input to the keys `pubkey USER` printed, as an
// armored age file for the server's `dm` command, and pins those keys per
// user (trust on first use), because the server that lists them could lie:
//
//	echo hi | securechat-decrypt --encrypt --to bob -R bob.keys | ssh host dm bob
//
// Everything a message carries (sender, text, details of errors) is
// sanitised with textsafe before it is printed: a sealed message must never
// be able to drive the reader's terminal. main.go holds flags and wiring;
// the work is in small functions: parseStream, openBlock, loadIdentities,
// parseRecipients, checkTrust and seal.
package main
