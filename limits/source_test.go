package limits

import (
	"net"
	"net/netip"
	"testing"
)

func TestSourceOf(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.2", "127.0.0.2/32"},
		{"203.0.113.9", "203.0.113.9/32"},
		{"::ffff:127.0.0.2", "127.0.0.2/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			got := SourceOf(netip.MustParseAddr(tt.addr))
			if want := netip.MustParsePrefix(tt.want); got != want {
				t.Errorf("SourceOf(%s) = %s, want %s", tt.addr, got, want)
			}
		})
	}
	if got := SourceOf(netip.Addr{}); got.IsValid() {
		t.Errorf("SourceOf(invalid) = %s, want the zero Prefix", got)
	}
}

// stringAddr is a net.Addr that is only a string, as some wrappers report.
type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }

func TestSourceOfNetAddr(t *testing.T) {
	tests := []struct {
		name   string
		addr   net.Addr
		want   string
		wantOK bool
	}{
		{"tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 2222}, "127.0.0.2/32", true},
		{"tcp4 4-byte", &net.TCPAddr{IP: net.IP{10, 0, 0, 1}, Port: 1}, "10.0.0.1/32", true},
		{"tcp6", &net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 22}, "2001:db8::/64", true},
		{"tcp6 zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Zone: "eth0"}, "fe80::/64", true},
		{"udp", &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1)}, "192.0.2.1/32", true},
		{"ip", &net.IPAddr{IP: net.ParseIP("2001:db8:0:1::1")}, "2001:db8:0:1::/64", true},
		{"string ip:port", stringAddr("[2001:db8::1]:22"), "2001:db8::/64", true},
		{"string ip", stringAddr("198.51.100.4"), "198.51.100.4/32", true},
		{"string junk", stringAddr("pipe"), "", false},
		{"unix", &net.UnixAddr{Name: "/tmp/s", Net: "unix"}, "", false},
		{"tcp no ip", &net.TCPAddr{Port: 22}, "", false},
		{"nil tcp", (*net.TCPAddr)(nil), "", false},
		{"nil", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := SourceOfNetAddr(tt.addr)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v (got %s)", ok, tt.wantOK, got)
			}
			if ok && got != netip.MustParsePrefix(tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// FuzzSourceOf checks that any address lands in a source that contains it,
// of the right size, and that IPv4-mapped addresses meet their IPv4 twins.
func FuzzSourceOf(f *testing.F) {
	f.Add([]byte{127, 0, 0, 2})
	f.Add(netip.MustParseAddr("::ffff:127.0.0.2").AsSlice())
	f.Add(netip.MustParseAddr("2001:db8::1").AsSlice())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, ok := netip.AddrFromSlice(b)
		p := SourceOf(addr)
		if !ok {
			if p.IsValid() {
				t.Fatalf("SourceOf(invalid) = %s", p)
			}
			return
		}
		u := addr.Unmap()
		if !p.Contains(u) {
			t.Fatalf("SourceOf(%s) = %s does not contain it", addr, p)
		}
		want := 64
		if u.Is4() {
			want = 32
		}
		if p.Bits() != want || p != p.Masked() {
			t.Fatalf("SourceOf(%s) = %s, want a masked /%d", addr, p, want)
		}
		if u.Is4() && SourceOf(netip.AddrFrom16(u.As16())) != p {
			t.Fatalf("mapped form of %s lands elsewhere", u)
		}
	})
}
