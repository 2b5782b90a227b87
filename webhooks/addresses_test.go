package webhooks

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := range b {
		if bit := i * 8; bit+8 > p.Bits() {
			keep := max(0, p.Bits()-bit)
			b[i] |= byte(0xff >> keep)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestSpecialRangesAreRefused: every row of the special-purpose table is
// refused, at its first and last address, by the URL check, by the check
// each connection makes, and (unless private networks are allowed and the
// address is private) with private networks allowed too.
func TestSpecialRangesAreRefused(t *testing.T) {
	t.Parallel()
	for _, r := range special {
		for _, ip := range []netip.Addr{r.prefix.Masked().Addr(), lastAddr(r.prefix)} {
			if ip.Is4In6() { // the mapped row: judged as the IPv4 address
				if publicAddr(ip) != publicAddr(ip.Unmap()) {
					t.Errorf("%s (%s): judged apart from %s", ip, r.name, ip.Unmap())
				}
				continue
			}
			if publicAddr(ip) {
				t.Errorf("%s (%s) counts as public", ip, r.name)
			}
			if err := dialAllowed(ip, false, false); err == nil {
				t.Errorf("%s (%s): a connection is allowed", ip, r.name)
			}
			if err := dialAllowed(ip, false, true); (err == nil) != ip.IsPrivate() {
				t.Errorf("%s (%s): with private networks allowed: %v", ip, r.name, err)
			}
			host := ip.String()
			if ip.Is6() {
				host = "[" + host + "]"
			}
			if ip.IsLoopback() {
				continue // a URL may name loopback
			}
			if err := CheckURL("https://" + host + "/hooks"); err == nil || !strings.Contains(err.Error(), "not a public address") {
				t.Errorf("https://%s/hooks: %v, want not a public address", host, err)
			}
		}
	}
}

// TestPublicAddressesAreAllowed: addresses just outside the special
// ranges, and well-known public ones, may be sent to.
func TestPublicAddressesAreAllowed(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"1.1.1.1", "9.9.9.9", "198.17.255.255", "198.20.0.0", "223.255.255.255", "100.63.255.255", "100.128.0.0",
		"::ffff:1.1.1.1", "2606:4700:4700::1111", "2001:200::1", "2a00:1450:4009:81f::200e", "2000::1",
	} {
		ip := netip.MustParseAddr(s)
		if !publicAddr(ip) {
			t.Errorf("%s counts as not public", s)
		}
		if err := dialAllowed(ip, false, false); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"::7f00:1", "4000::1", "fe80::1%eth0"} {
		if publicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s, outside global unicast, counts as public", s)
		}
	}
}

// TestEveryConnectionIsChecked: the client refuses, before connecting,
// addresses of the reserved ranges the old checks let through, as a name
// that resolves to them would give it.
func TestEveryConnectionIsChecked(t *testing.T) {
	t.Parallel()
	c := newHTTPClient(true)
	for _, u := range []string{"http://0.1.2.3:9/", "http://198.18.0.1:9/", "http://240.0.0.1:9/", "http://[64:ff9b::7f00:1]:9/", "http://[::ffff:169.254.169.254]:9/"} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, u, nil)
		if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "not a public address") {
			t.Errorf("%s: %v, want a refusal", u, err)
		}
	}
}
