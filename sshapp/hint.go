package sshapp

import (
	"net"
	"strconv"
)

// hintAddr is the host and port to show in a command a user copies: the
// configured public host name, else the address the client reached
// ("localhost" for loopback, as a person types it), and the port the
// client reached.
func hintAddr(publicHost string, local net.Addr) (host, port string) {
	host, port = publicHost, "8080"
	a, ok := local.(*net.TCPAddr)
	if !ok {
		if host == "" {
			host = "HOST"
		}
		return host, port
	}
	port = strconv.Itoa(a.Port)
	if host == "" {
		switch {
		case a.IP.IsLoopback():
			host = "localhost"
		case a.IP.IsUnspecified():
			host = "HOST"
		default:
			host = a.IP.String()
		}
	}
	return host, port
}
