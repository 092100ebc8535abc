package limits

import (
	"net"
	"net/netip"
)

// ipv6SourceBits is how much of an IPv6 address names one source: a /64 is
// what one subscriber or one host usually gets, so counting single IPv6
// addresses would let anyone rotate through 2^64 of them.
const ipv6SourceBits = 64

// SourceOf returns the key for per-source limits: the address itself (a /32)
// for IPv4, and the enclosing /64 for IPv6. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) count as the IPv4 address they carry, and IPv6 zones are
// ignored. An invalid addr gives the zero Prefix.
func SourceOf(addr netip.Addr) netip.Prefix {
	if !addr.IsValid() {
		return netip.Prefix{}
	}
	addr = addr.Unmap().WithZone("")
	bits := 32
	if addr.Is6() {
		bits = ipv6SourceBits
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		// Unreachable: bits never exceeds the address length.
		return netip.Prefix{}
	}
	return p
}

// SourceOfNetAddr is SourceOf for the net.Addr a listener or an SSH context
// reports (*net.TCPAddr, *net.UDPAddr, *net.IPAddr, or anything whose String
// is "ip:port" or "ip"). ok is false when a carries no IP address.
func SourceOfNetAddr(a net.Addr) (netip.Prefix, bool) {
	var ip net.IP
	switch t := a.(type) {
	case nil:
		return netip.Prefix{}, false
	case *net.TCPAddr:
		if t == nil {
			return netip.Prefix{}, false
		}
		ip = t.IP
	case *net.UDPAddr:
		if t == nil {
			return netip.Prefix{}, false
		}
		ip = t.IP
	case *net.IPAddr:
		if t == nil {
			return netip.Prefix{}, false
		}
		ip = t.IP
	default:
		s := a.String()
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return SourceOf(ap.Addr()), true
		}
		if addr, err := netip.ParseAddr(s); err == nil {
			return SourceOf(addr), true
		}
		return netip.Prefix{}, false
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Prefix{}, false
	}
	return SourceOf(addr), true
}
