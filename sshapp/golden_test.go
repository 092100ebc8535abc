package sshapp

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"securechat/room"
)

// TestGoldenScreen runs the model as a real Bubble Tea program at 40, 80
// and 200 columns in the dark and light themes, with and without the side
// panel (which shows from 64 columns), and compares each final
// screen with testdata/TestGoldenScreen/<case>.golden (regenerate with
// go test ./sshapp -run TestGoldenScreen -update). The ANSI256 profile keeps
// the themes' colours in the files.
func TestGoldenScreen(t *testing.T) {
	for _, theme := range []string{"dark", "light"} {
		for _, c := range []struct {
			width int
			panel bool
		}{{40, false}, {80, false}, {200, false}, {80, true}, {200, true}} {
			width, name := c.width, fmt.Sprintf("%s-%d", theme, c.width)
			if c.panel {
				name += "-panel"
			}
			t.Run(name, func(t *testing.T) {
				m := NewModel(ModelConfig{
					User:        "alice",
					Fingerprint: "SHA256:testfingerprint",
					Styles:      NewThemeStyles(lipglossRenderer(termenv.ANSI256), theme),
					Chat:        &recordingChat{},
					Members:     []string{"alice", "bob"},
					Width:       width,
					Height:      16,
					Panel:       c.panel,
					Rooms:       []RoomState{{Name: "go", Members: []string{"alice"}}},
					Backlog: ptrs(
						room.Message{ID: 1, Time: t0, Kind: room.KindMessage, Room: "lobby", From: "bob", Text: "good morning"},
						room.Message{ID: 2, Time: t0.Add(time.Minute), Kind: room.KindJoin, Room: "lobby", From: "carol", Text: "carol joined"},
					),
				})
				tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(width, 16))
				tm.Send(incomingMsg{msgs: ptrs(
					room.Message{ID: 3, Time: t0.Add(2 * time.Minute), Kind: room.KindMessage, Room: "lobby", From: "carol", Text: "a longer message that has to wrap onto a second row, with 你好 and 👍 in it, @alice"},
					room.Message{ID: 4, Time: t0.Add(3 * time.Minute), Kind: room.KindEmote, Room: "lobby", From: "bob", Text: "waves"},
					room.Message{ID: 5, Time: t0.Add(3 * time.Minute), Kind: room.KindMessage, Room: "go", From: "bob", Text: "in go"}), members: []string{"alice", "bob", "carol"}})
				tm.Type("draft")
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("draft")) },
					teatest.WithDuration(5*time.Second))
				tm.Send(tea.Quit())
				final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
				_, _ = io.Copy(io.Discard, tm.FinalOutput(t))
				// The frame as the terminal shows it: gaps as the spaces
				// they leave.
				frame := terminalText(final.View())
				checkView(t, final.(*Model), width, 16)
				teatest.RequireEqualOutput(t, []byte(strings.TrimRight(frame, " \n")+"\n"))
			})
		}
	}
}
