package sshapp

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"securechat/room"
)

// TestGoldenScreen runs the model as a real Bubble Tea program and compares
// its final screen with testdata/TestGoldenScreen.golden (regenerate with
// go test ./sshapp -run TestGoldenScreen -update).
func TestGoldenScreen(t *testing.T) {
	m := newTestModel(80, 16, &recordingChat{},
		room.Message{ID: 1, Time: t0, Kind: room.KindMessage, From: "bob", Text: "good morning"},
		room.Message{ID: 2, Time: t0.Add(time.Minute), Kind: room.KindJoin, From: "carol", Text: "carol joined"},
	)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 16))
	tm.Send(incomingMsg{msgs: []room.Message{
		{ID: 3, Time: t0.Add(2 * time.Minute), Kind: room.KindMessage, From: "carol", Text: "a longer message that has to wrap onto a second row because the pane is only sixty columns wide"},
	}, members: []string{"alice", "bob", "carol"}})
	tm.Type("draft")
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("draft")) },
		teatest.WithDuration(5*time.Second))
	tm.Send(tea.Quit())
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
	_, _ = io.Copy(io.Discard, tm.FinalOutput(t))
	frame := final.View()
	teatest.RequireEqualOutput(t, []byte(strings.TrimRight(frame, " \n")+"\n"))
}
