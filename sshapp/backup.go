package sshapp

import (
	"errors"

	"github.com/charmbracelet/ssh"
)

// backupCmd is `admin backup [--gzip]`: a consistent snapshot of the data
// folder, written to the exec session's standard output by Config.Backup.
// The table lets only admins reach it.
func (s *Server) backupCmd(c *call, args []string) ([]string, error) {
	zip := false
	switch {
	case len(args) == 0:
	case len(args) == 1 && args[0] == "--gzip":
		zip = true
	default:
		return nil, badCall("usage: admin backup [--gzip] > FILE")
	}
	if c.stdout == nil {
		return nil, errors.New("a backup goes to standard output: run ssh HOST admin backup > FILE")
	}
	if s.cfg.Backup == nil {
		return nil, errors.New("this server cannot make backups")
	}
	if err := s.cfg.Backup(c.stdout, zip); err != nil {
		s.log.Error("backup failed", "user", safeName(c.user), "err", err)
		return nil, errors.New("backup failed; the server log has the reason")
	}
	where := ""
	if sc, ok := c.ctx.(ssh.Context); ok {
		where = remote(sc)
	}
	s.log.Info("backup", "user", safeName(c.user), "remote", where)
	return nil, nil
}
