package sshapp

import (
	"fmt"

	"github.com/charmbracelet/ssh"
)

// cmdBackup is `admin backup [--gzip]`: a consistent snapshot of the data
// folder, written to the session's standard output by Config.Backup. The
// caller has checked that user is an admin.
func (s *Server) cmdBackup(sess ssh.Session, user string, args []string) int {
	zip := false
	switch {
	case len(args) == 0:
	case len(args) == 1 && args[0] == "--gzip":
		zip = true
	default:
		fmt.Fprintln(sess.Stderr(), "securechat: usage: admin backup [--gzip] > FILE")
		return 2
	}
	if s.cfg.Backup == nil {
		fmt.Fprintln(sess.Stderr(), "securechat: this server cannot make backups")
		return 1
	}
	if err := s.cfg.Backup(sess, zip); err != nil {
		s.log.Error("backup failed", "user", safeName(user), "err", err)
		fmt.Fprintln(sess.Stderr(), "securechat: backup failed; the server log has the reason")
		return 1
	}
	s.log.Info("backup", "user", safeName(user), "remote", remote(sess.Context()))
	return 0
}
