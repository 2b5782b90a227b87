package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCallerAddrForwardedPorts: a trusted proxy that writes each hop of
// X-Forwarded-For with the client's port (ip:port, [v6]:port) still names
// the client, not itself, so that every client behind it keeps a bucket
// of its own.
func TestCallerAddrForwardedPorts(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 2001:db8:ffff::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, remote, xff, want string }{
		{"v4 with a port", "10.1.2.3:5000", "198.51.100.1:43512", "addr:198.51.100.1"},
		{"v6 with a port", "10.1.2.3:5000", "[2001:db8:5::5]:443", "addr:2001:db8:5::/64"},
		{"v6 in brackets without a port", "10.1.2.3:5000", "[2001:db8:5::5]", "addr:2001:db8:5::/64"},
		{"mapped v4 with a port", "10.1.2.3:5000", "[::ffff:198.51.100.1]:80", "addr:198.51.100.1"},
		{"a chain written with ports", "10.1.2.3:5000", "198.51.100.1:1, 10.9.9.9:2", "addr:198.51.100.1"},
		{"two clients, two buckets", "10.1.2.3:5000", "198.51.100.2:43512", "addr:198.51.100.2"},
		{"a forged hop with a port before the real one", "10.1.2.3:5000", "192.0.2.66:1, 198.51.100.1:2", "addr:198.51.100.1"},
		{"a port alone is malformed", "10.1.2.3:5000", ":443", "addr:10.1.2.3"},
		{"an empty bracket is malformed", "10.1.2.3:5000", "[]", "addr:10.1.2.3"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		r.Header.Set("X-Forwarded-For", tt.xff)
		if got := callerAddr(r, trusted); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
