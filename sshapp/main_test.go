package sshapp

import (
	"testing"

	"go.uber.org/goleak"
)

// Every session, pump and timer must end with its connection: goleak fails
// the package if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// teatest waits for SIGINT for the life of the test binary.
		goleak.IgnoreTopFunction("github.com/charmbracelet/x/exp/teatest.NewTestModel.func2"))
}
