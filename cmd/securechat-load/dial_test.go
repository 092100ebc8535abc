package main

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

func TestResolveLoopback(t *testing.T) {
	tests := []struct {
		addr   string
		want   string // "" when refused
		notLo  bool   // refused as not loopback (not merely unresolvable)
		anyErr bool   // refused for whatever reason (DNS may be missing)
	}{
		{addr: "127.0.0.1:2222", want: "127.0.0.1:2222"},
		{addr: "127.9.8.7:22", want: "127.9.8.7:22"},
		{addr: "[::1]:22", want: "[::1]:22"},
		{addr: "[::ffff:127.0.0.1]:22", want: "127.0.0.1:22"},
		{addr: "10.0.0.1:22", notLo: true},
		{addr: "192.168.1.1:22", notLo: true},
		{addr: "[2001:db8::1]:22", notLo: true},
		{addr: "0.0.0.0:22", notLo: true},
		{addr: "example.com:22", anyErr: true},
		{addr: "127.0.0.1", anyErr: true},
		{addr: "127.0.0.1:", anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got, err := resolveLoopback(context.Background(), tt.addr)
			switch {
			case tt.want != "":
				if err != nil || got.String() != tt.want {
					t.Errorf("got %v, %v; want %s", got, err, tt.want)
				}
			case tt.notLo:
				if !errors.Is(err, ErrNotLoopback) {
					t.Errorf("got %v, %v; want ErrNotLoopback", got, err)
				}
			case tt.anyErr:
				if err == nil {
					t.Errorf("got %v; want an error", got)
				}
			}
		})
	}
}

// TestRefusesRemoteTargets: the command exits with a usage error before it
// connects anywhere.
func TestRefusesRemoteTargets(t *testing.T) {
	for _, addr := range []string{"10.0.0.1:22", "example.com:22"} {
		code, out, errOut := runTool(t, "--addr", addr, "--sessions", "1", "--senders", "1", "--duration", "1s")
		if code != exitUsage || out != "" || !strings.Contains(errOut, addr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", addr, code, out, errOut)
		}
		if addr == "10.0.0.1:22" && !strings.Contains(errOut, "loopback") {
			t.Errorf("%s: the error should say why: %q", addr, errOut)
		}
	}
}

func TestSourceIP(t *testing.T) {
	v4 := target{ip: net.IPv4(127, 0, 0, 1).To4(), port: "22"}
	tests := []struct {
		slot, per int
		want      string
	}{
		{0, 10, "127.0.0.2"},
		{9, 10, "127.0.0.2"},
		{10, 10, "127.0.0.3"},
		{252 * 10, 10, "127.0.0.254"},
		{253 * 10, 10, "127.0.0.2"}, // wraps
		{5, 1, "127.0.0.7"},
	}
	for _, tt := range tests {
		if got := v4.sourceIP(tt.slot, tt.per).String(); got != tt.want {
			t.Errorf("sourceIP(%d, %d) = %s, want %s", tt.slot, tt.per, got, tt.want)
		}
	}
	v6 := target{ip: net.IPv6loopback, port: "22"}
	if ip := v6.sourceIP(3, 10); ip != nil {
		t.Errorf("IPv6 target: source %v, want none", ip)
	}
}

func TestConfigBounds(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error; "" for none
	}{
		{nil, ""},
		{[]string{"--sessions", "0"}, "--sessions"},
		{[]string{"--sessions", "3000"}, "--sessions 3000"}, // 253 sources × 10
		{[]string{"--sessions", "3000", "--per-source", "16"}, ""},
		{[]string{"--senders", "11"}, "--senders"},
		{[]string{"--rate", "0"}, "--rate"},
		{[]string{"--prefix", "Load"}, "--prefix"},
		{[]string{"--prefix", "-x"}, "--prefix"},
		{[]string{"--prefix", "a.b_c-1"}, ""},
		{[]string{"--width", "10"}, "--width"},
		{[]string{"extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := parseFlags(tt.args, &lockedBuffer{})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestUserKeysAreDeterministic(t *testing.T) {
	a, err := userSigner("seed", "load0001")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := userSigner("seed", "load0001")
	c, _ := userSigner("seed", "load0002")
	d, _ := userSigner("other", "load0001")
	line := authorizedLine(a, "x")
	if line != authorizedLine(b, "x") {
		t.Error("same seed and name gave different keys")
	}
	if line == authorizedLine(c, "x") || line == authorizedLine(d, "x") {
		t.Error("different seed or name gave the same key")
	}
	if !strings.HasPrefix(line, "ssh-ed25519 ") || !strings.HasSuffix(line, " x\n") {
		t.Errorf("authorized line %q", line)
	}
}
