package sshapp

import (
	"context"
	"slices"
	"strings"

	"securechat/accounts"
	"securechat/room"
	"securechat/textsafe"
)

// modReason is an admin's reason as it is stored and shown: sanitised to
// one line and bounded like a ban's.
func modReason(words []string) string {
	r, _ := textsafe.ClipBytes(textsafe.Sanitize(strings.Join(words, " "), false), accounts.MaxBanReasonBytes)
	return r
}

// withReason appends ": reason" when there is one.
func withReason(s, reason string) string {
	if reason == "" {
		return s
	}
	return s + ": " + reason
}

// announceModeration tells every room target is in what an admin did
// ("bob was kicked by alice: spam"), as ssh-chat does, so that a kick does
// not read as an ordinary "← bob left". It is stored like the room's other
// notices, and returns once shown, so it comes before the leave a kick or
// ban causes.
func (s *Server) announceModeration(admin, target, text string) {
	rooms := s.room.RoomsOf(target)
	slices.Sort(rooms)
	for _, name := range rooms {
		if _, err := s.room.Publish(context.Background(), room.Message{Kind: room.KindSystem, Room: name, From: admin, Text: text}); err != nil {
			s.log.Warn("moderation notice not shown", "room", name, "err", err)
		}
	}
}
