package sshapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/renameio/v2"

	"securechat/accounts"
	"securechat/room"
	"securechat/textsafe"
)

// maxTopic bounds a room's topic, in characters.
const maxTopic = 200

// validRoom checks a room name: 1 to 32 of a-z, 0-9, "-" and "_".
func validRoom(name string) error {
	if name == "" || len(name) > 32 {
		n, _ := textsafe.Clip(textsafe.Sanitize(name, false), 40)
		return fmt.Errorf("room %q: a room name is 1 to 32 characters of a-z, 0-9, - and _", n)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("room %q: a room name is 1 to 32 characters of a-z, 0-9, - and _", textsafe.Sanitize(name, false))
		}
	}
	return nil
}

// parseRoom reads a room as users write it ("#go" or "go").
func parseRoom(s string) (string, error) {
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "#"))
	return name, validRoom(name)
}

// roomState is what a room's view starts with for user.
func (s *Server) roomState(user, name string) RoomState {
	backlog, err := s.backlog(user, s.conf().Backlog, name, nil)
	if err != nil {
		s.log.Error("read backlog", "user", safeName(user), "room", name, "err", err)
	}
	p, _ := s.acc.Prefs(user)
	return RoomState{Name: name, Topic: s.room.Topic(name), Members: s.room.RoomMembers(name), Backlog: s.msgs.share(backlog), LastRead: p.LastRead[name]}
}

// rememberRooms keeps the rooms a user is in with the account, so the next
// login, from any client, rejoins them.
func (s *Server) rememberRooms(user, name string, in bool) {
	err := s.acc.UpdatePrefs(user, func(p *accounts.Prefs) error {
		p.Rooms = slices.DeleteFunc(p.Rooms, func(r string) bool { return r == name })
		if in && len(p.Rooms) < accounts.MaxRooms {
			p.Rooms = append(p.Rooms, name)
		}
		return nil
	})
	if err != nil {
		s.log.Warn("save rooms", "user", safeName(user), "err", err)
	}
}

// roomLines is /rooms: every live room with its member count and topic.
func (s *Server) roomLines() []string {
	out := []string{"Rooms:"}
	for _, r := range s.room.Rooms() {
		line := fmt.Sprintf("  #%s (%d)", r.Name, r.Members)
		if r.Topic != "" {
			line += " " + r.Topic
		}
		out = append(out, line)
	}
	return out
}

// setTopic sets a room's topic, announces it in the room, and keeps it in
// the data folder so it survives restarts.
func (s *Server) setTopic(ctx context.Context, user, name, text string) ([]string, error) {
	text = strings.TrimSpace(textsafe.Sanitize(text, false))
	if text == "" {
		if t := s.room.Topic(name); t != "" {
			return []string{"Topic of #" + name + ": " + t}, nil
		}
		return []string{"#" + name + " has no topic. /topic TEXT sets one."}, nil
	}
	if err := s.checkMuted(user); err != nil {
		return nil, err
	}
	if n := len([]rune(text)); n > maxTopic {
		return nil, fmt.Errorf("a topic is at most %d characters", maxTopic)
	}
	if text == "-" {
		text = ""
	}
	s.topicsMu.Lock()
	defer s.topicsMu.Unlock()
	topics := map[string]string{}
	for _, r := range s.room.Rooms() {
		if r.Topic != "" {
			topics[r.Name] = r.Topic
		}
	}
	for k, v := range s.savedTopics {
		if _, live := topics[k]; !live {
			topics[k] = v
		}
	}
	if text == "" {
		delete(topics, name)
	} else {
		topics[name] = text
	}
	if err := s.saveTopics(topics); err != nil {
		s.log.Error("save topics", "err", err)
		return nil, errors.New("not saved on the server, please try again")
	}
	s.savedTopics = topics
	s.room.SetTopic(name, text)
	if _, err := s.room.Publish(ctx, room.Message{Kind: room.KindTopic, Room: name, From: user, Text: text}); err != nil {
		return nil, notSaved(err)
	}
	return nil, nil
}

func (s *Server) saveTopics(topics map[string]string) error {
	if s.cfg.TopicsPath == "" {
		return nil
	}
	b, err := json.MarshalIndent(topics, "", "  ")
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(s.cfg.TopicsPath, append(b, '\n'), 0o600); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(s.cfg.TopicsPath))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// loadTopics restores the topics at start; a missing file is none.
func (s *Server) loadTopics() error {
	if s.cfg.TopicsPath == "" {
		return nil
	}
	b, err := os.ReadFile(s.cfg.TopicsPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read topics: %w", err)
	}
	topics := map[string]string{}
	if err := json.Unmarshal(b, &topics); err != nil {
		return fmt.Errorf("topics file %s: %w", s.cfg.TopicsPath, err)
	}
	s.savedTopics = map[string]string{}
	for name, t := range topics {
		if validRoom(name) != nil {
			continue
		}
		t, _ = textsafe.Clip(textsafe.Sanitize(t, false), maxTopic)
		s.savedTopics[name] = t
		s.room.SetTopic(name, t)
	}
	return nil
}
