package sshapp

import (
	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// The transport offers an explicit list rather than x/crypto's defaults,
// which still accept diffie-hellman-group14-sha1, hmac-sha1 and SHA-1
// "ssh-rsa" user signatures.
//
//   - Key exchange: the hybrid post-quantum mlkem768x25519 first, then
//     curve25519. No NIST curves and no finite-field Diffie-Hellman: every
//     client this server targets speaks curve25519 (OpenSSH since 6.5 in
//     2014, PuTTY since 0.68, Dropbear since 2016.73), ssh-audit fails the
//     NIST curves (their constants' provenance is unexplained), and a DH
//     group14 handshake costs the server about 10 ms of CPU that a client
//     can make it spend at will (DHEat, CVE-2002-20001).
//   - Ciphers: the AEAD modes, then AES-CTR; MACs (for CTR only):
//     SHA-2 in encrypt-then-MAC mode.
//   - User signatures: no "ssh-rsa" (SHA-1), as OpenSSH since 8.8; RSA
//     keys still log in with rsa-sha2-256/512. ECDSA user keys stay: a
//     user's key type is the user's choice, and refusing it locks them out.
var (
	kexAlgorithms = []string{
		gossh.KeyExchangeMLKEM768X25519,
		gossh.KeyExchangeCurve25519,
		"curve25519-sha256@libssh.org",
	}
	cipherAlgorithms = []string{
		gossh.CipherChaCha20Poly1305,
		gossh.CipherAES256GCM,
		gossh.CipherAES128GCM,
		gossh.CipherAES256CTR,
		gossh.CipherAES192CTR,
		gossh.CipherAES128CTR,
	}
	macAlgorithms = []string{
		gossh.HMACSHA256ETM,
		gossh.HMACSHA512ETM,
	}
	userKeyAlgorithms = []string{
		gossh.KeyAlgoED25519,
		gossh.KeyAlgoSKED25519,
		gossh.KeyAlgoRSASHA512,
		gossh.KeyAlgoRSASHA256,
		gossh.KeyAlgoECDSA256,
		gossh.KeyAlgoECDSA384,
		gossh.KeyAlgoECDSA521,
		gossh.KeyAlgoSKECDSA256,
	}
)

// withAlgorithms sets the transport's algorithm lists.
// It also installs the authentication callbacks charmbracelet/ssh does not
// set (logAuth, bannerCallback, verifiedKey), which need the connection.
func withAlgorithms(s *Server) ssh.Option {
	return func(srv *ssh.Server) error {
		srv.ServerConfigCallback = func(ctx ssh.Context) *gossh.ServerConfig {
			cfg := &gossh.ServerConfig{
				PublicKeyAuthAlgorithms:   userKeyAlgorithms,
				AuthLogCallback:           s.logAuth(ctx),
				BannerCallback:            s.bannerCallback(ctx),
				VerifiedPublicKeyCallback: s.verifiedKey(ctx),
			}
			cfg.KeyExchanges = kexAlgorithms
			cfg.Ciphers = cipherAlgorithms
			cfg.MACs = macAlgorithms
			return cfg
		}
		return nil
	}
}
