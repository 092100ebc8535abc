package sshapp

import (
	"fmt"
	"time"

	"securechat/limits"
)

// slowDown is the answer to a line from the UI's outbox that came before
// the user's flood allowance had room for it: the outbox sends it again
// after wait. It is not a refusal: nothing is lost and nobody is muted.
type slowDown struct{ wait time.Duration }

func (e slowDown) Error() string {
	return "sending faster than the room allows: the line waits its turn"
}

// paceFlood applies the per-user message rate to a line from the UI's
// outbox: over the rate it answers slowDown, with no strike.
func (s *Server) paceFlood(user string) error {
	v, wait, until := s.guards.flood.Pace(user)
	switch v {
	case limits.Allowed:
		return nil
	case limits.Wait:
		return slowDown{wait: wait}
	}
	return fmt.Errorf("you are muted for flooding until %s UTC", until.UTC().Format("15:04:05"))
}
