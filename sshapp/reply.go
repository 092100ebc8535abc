package sshapp

import (
	"securechat/history"
)

// lastSealedSender is who last sent user a sealed message, so that /reply
// in a new session answers what arrived while the user was away. Like the
// login's count of those messages it looks at the newest loginScanLines
// lines of the log at most, so a login costs no more for a long absence.
// Private messages to users without keys are never stored: a session only
// learns of those while it is open.
func (s *Server) lastSealedSender(user string) string {
	f := sealedLines
	f.MaxLines = loginScanLines
	toUser := sealedFor(user, false)
	es, _, err := s.hist.TailFiltered(1, func(e history.Entry) bool {
		return toUser(e) && e.From != user
	}, f)
	if err != nil || len(es) == 0 {
		return ""
	}
	return es[0].From
}
