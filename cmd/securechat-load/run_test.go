package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSmallRun sets up six users, then runs six sessions with two senders
// at 2 tokens/s against the real server: every token must reach every
// screen, in order, with sane latencies, and the JSON report must parse.
// It runs with each terminal model.
func TestSmallRun(t *testing.T) {
	for _, emulator := range []string{emulatorGrid, emulatorVT10x} {
		t.Run(emulator, func(t *testing.T) { testSmallRun(t, emulator) })
	}
}

func testSmallRun(t *testing.T, emulator string) {
	args := append(serverArgs(),
		"--prefix", "small"+emulator, "--setup", "--login-bench", "20", "--emulator", emulator,
		"--sessions", "6", "--senders", "2", "--rate", "2",
		"--warmup", "1s", "--duration", "3s", "--grace", "5s", "--json")
	code, out, errOut := runTool(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s\nserver log:\n%s", code, out, errOut, srv.log.String())
	}
	var rep report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	checkSetup(t, rep.Setup, 6)
	if b := rep.LoginBench; b == nil || b.Logins != 20 || b.Failed != 0 || b.PerSec <= 0 {
		t.Errorf("login bench: %+v", b)
	}
	x := rep.Run
	if x == nil {
		t.Fatalf("no run in report:\n%s", out)
	}
	if x.Connect.Connected != 6 || x.Connect.Failed != 0 {
		t.Errorf("connect: %+v", x.Connect)
	}
	// 2 senders × 2/s × 3 s, give or take one token each at the edges.
	if x.TokensSent < 10 || x.TokensSent > 14 {
		t.Errorf("tokens sent = %d, want about 12", x.TokensSent)
	}
	if x.Expected != x.TokensSent*6 || x.Delivered != x.Expected || x.Ratio != 1 {
		t.Errorf("deliveries: expected %d, delivered %d, ratio %v", x.Expected, x.Delivered, x.Ratio)
	}
	if x.OrderViolations != 0 || x.SessionsLost != 0 {
		t.Errorf("order violations %d, sessions lost %d", x.OrderViolations, x.SessionsLost)
	}
	checkLatency(t, x.Latency)
	if x.BytesPerDelivery <= 0 || x.DeliveriesPerSec <= 0 {
		t.Errorf("bytes per delivery %v, deliveries/s %v", x.BytesPerDelivery, x.DeliveriesPerSec)
	}
	if s := x.Server; s == nil || s.PeakRSSKiB <= 0 || s.RSSEndKiB <= 0 || s.CPUPercent < 0 {
		t.Errorf("server stats: %+v", s)
	}
	if x.Tool.Emulator != emulator || x.Tool.CPUPercent <= 0 {
		t.Errorf("load tool: %+v", x.Tool)
	}
	if !strings.Contains(errOut, "delivered") {
		t.Errorf("the table should go to stderr with --json:\n%s", errOut)
	}
}

func checkSetup(t *testing.T, s *setupReport, users int) {
	t.Helper()
	if s == nil {
		t.Fatal("no setup in report")
	}
	if s.Users != users || s.Failed != 0 || s.AlreadySetUp+s.PasswordLogins != users {
		t.Errorf("setup: %+v", s)
	}
	if k := s.KeyLogins; k == nil || k.Logins != users || k.Failed != 0 {
		t.Errorf("key logins after setup: %+v", k)
	}
}

func checkLatency(t *testing.T, l latencyReport) {
	t.Helper()
	ordered := 0 < l.P50Ms && l.P50Ms <= l.P90Ms && l.P90Ms <= l.P99Ms && l.P99Ms <= l.MaxMs
	// Generous: the test machine may be busy, but a token that takes two
	// seconds to show on a six-session server is a bug.
	if !ordered || l.MaxMs > 2000 {
		t.Errorf("latencies not sane: %+v", l)
	}
}

// TestSetupTwice: a second --setup finds every key already working and
// pays no bcrypt.
func TestSetupTwice(t *testing.T) {
	args := append(serverArgs(), "--prefix", "twice", "--sessions", "3", "--setup", "--duration", "0", "--json")
	for round, wantKey := range []int{0, 3} {
		code, out, errOut := runTool(t, args...)
		if code != exitOK {
			t.Fatalf("round %d: exit %d\n%s\n%s", round, code, out, errOut)
		}
		var rep report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, out)
		}
		checkSetup(t, rep.Setup, 3)
		if rep.Setup.AlreadySetUp != wantKey || rep.Run != nil {
			t.Errorf("round %d: already set up %d, want %d; run %+v", round, rep.Setup.AlreadySetUp, wantKey, rep.Run)
		}
	}
}

// TestUnknownUsersFail: without --setup, users that do not exist cannot
// log in by key; the run says so and exits 1.
func TestUnknownUsersFail(t *testing.T) {
	args := append(serverArgs(), "--prefix", "nobody", "--sessions", "2", "--senders", "1",
		"--warmup", "0s", "--duration", "1s", "--connect-timeout", "5s")
	code, out, errOut := runTool(t, args...)
	if code != exitError || !strings.Contains(out, "2 failed") || !strings.Contains(errOut, "no session connected") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// TestStalledSessions: sessions that never read do not keep the others
// from getting every message, in order.
func TestStalledSessions(t *testing.T) {
	args := append(serverArgs(),
		"--prefix", "stall", "--setup",
		"--sessions", "4", "--stalled", "2", "--senders", "2", "--rate", "2",
		"--warmup", "1s", "--duration", "2s", "--grace", "5s", "--json")
	code, out, errOut := runTool(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var rep report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	x := rep.Run
	if x == nil || x.Stalled != 2 || x.Ratio != 1 || x.OrderViolations != 0 {
		t.Fatalf("run with stalled sessions: %+v", x)
	}
	if !strings.Contains(errOut, "stalled") {
		t.Fatalf("table does not mention the stalled sessions:\n%s", errOut)
	}
}

// TestCrowd: a crowd connecting during the measured period is reported on
// its own, and neither its screens nor its bytes count towards the room's
// deliveries.
func TestCrowd(t *testing.T) {
	args := append(serverArgs(),
		"--prefix", "crowd", "--setup",
		"--sessions", "3", "--crowd", "6", "--crowd-concurrency", "6", "--senders", "1", "--rate", "2",
		"--warmup", "1s", "--duration", "3s", "--grace", "5s", "--json")
	code, out, errOut := runTool(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var rep report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	checkSetup(t, rep.Setup, 9) // the crowd's users are set up too
	x := rep.Run
	if x == nil || x.Crowd == nil {
		t.Fatalf("no crowd in the run: %+v", x)
	}
	if k := x.Crowd; k.Sessions != 6 || k.Connected != 6 || k.Failed != 0 || k.TotalSec <= 0 || k.P99Ms <= 0 {
		t.Errorf("crowd: %+v", k)
	}
	if x.Expected != x.TokensSent*3 || x.Delivered != x.Expected {
		t.Errorf("deliveries: %d tokens, expected %d, delivered %d; want the 3 room sessions' only", x.TokensSent, x.Expected, x.Delivered)
	}
	if !strings.Contains(errOut, "crowd") {
		t.Errorf("table does not mention the crowd:\n%s", errOut)
	}
}

// TestNoSelf: with --no-self the sender's own screen is not expected to
// show its tokens. securechat shows them there too, so a run counts one
// sighting too many per token, and the report says which way it counted.
func TestNoSelf(t *testing.T) {
	args := append(serverArgs(),
		"--prefix", "noself", "--setup",
		"--sessions", "3", "--senders", "1", "--rate", "2", "--no-self",
		"--warmup", "1s", "--duration", "2s", "--grace", "5s", "--json")
	code, out, errOut := runTool(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var rep report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	x := rep.Run
	if x == nil || !x.NoSelf || x.TokensSent == 0 || x.Expected != x.TokensSent*2 || x.Delivered != x.TokensSent*3 {
		t.Fatalf("run with --no-self: %+v", x)
	}
	if !strings.Contains(errOut, "but the sender's") {
		t.Errorf("table does not say the sender's screen was left out:\n%s", errOut)
	}
}
