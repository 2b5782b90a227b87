package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// CheckURL says what is wrong with an endpoint URL, or nil: it must be
// absolute https://, or http:// to a loopback host (127.0.0.0/8, ::1,
// localhost) for a receiver on the same machine, with no user or password
// (they would show in `webhooks list`) and no fragment.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("--url %q is not a URL: %v", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("--url %q must be an absolute https:// URL", raw)
	}
	if u.User != nil {
		return fmt.Errorf("--url must not carry a user or password; authenticate deliveries by their signature")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("--url %q must not have a fragment (#…)", raw)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("--url %q has no host", raw)
	}
	if u.Scheme == "http" && !loopbackHost(host) {
		return fmt.Errorf("--url %q is not HTTPS: http:// is allowed only to loopback (127.0.0.0/8, ::1, localhost)", raw)
	}
	if ip, err := netip.ParseAddr(host); err == nil && !loopbackHost(host) && !publicAddr(ip) {
		return fmt.Errorf("--url %q names %s, which is not a public address", raw, ip)
	}
	return nil
}

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// publicAddr reports whether ip may be sent to from a URL that does not
// name loopback: a unicast address outside every range of the IANA
// special-purpose address registries (special), and for IPv6 within the
// global unicast space 2000::/3. An IPv4-mapped IPv6 address is judged as
// the IPv4 address it maps.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	if ip.Is6() && !globalUnicast6.Contains(ip) {
		return false
	}
	for _, r := range special {
		if r.prefix.Contains(ip) {
			return false
		}
	}
	return true
}

// globalUnicast6 is the IPv6 space allocated for global unicast; the rest
// of the IPv6 address space is reserved, loopback, local or multicast.
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// specialRange is one range no delivery goes to unless a URL names
// loopback (or the operator allows private networks).
type specialRange struct {
	prefix netip.Prefix
	name   string
}

// special holds every row of the IANA IPv4 and IPv6 Special-Purpose
// Address Registries (iana-ipv4-special-registry and
// iana-ipv6-special-registry, as of 2025), and the multicast ranges,
// which are in registries of their own. Rows the registry marks globally
// reachable (anycast services such as AS112, PCP and TURN, NAT64's
// 64:ff9b::/96, ORCHIDv2) are refused too: no webhook receiver lives at a
// protocol's anycast address, and NAT64 addresses reach whatever IPv4
// address they embed, loopback and private networks included.
var special = []specialRange{
	// IPv4.
	{netip.MustParsePrefix("0.0.0.0/8"), "this network (RFC 791)"},
	{netip.MustParsePrefix("0.0.0.0/32"), "this host on this network (RFC 1122)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private use (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space, carrier-grade NAT (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (RFC 1122)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link local, where cloud metadata services live (RFC 3927)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private use (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (RFC 6890)"},
	{netip.MustParsePrefix("192.0.0.0/29"), "IPv4 service continuity prefix (RFC 7335)"},
	{netip.MustParsePrefix("192.0.0.8/32"), "IPv4 dummy address (RFC 7600)"},
	{netip.MustParsePrefix("192.0.0.9/32"), "Port Control Protocol anycast (RFC 7723)"},
	{netip.MustParsePrefix("192.0.0.10/32"), "TURN anycast (RFC 8155)"},
	{netip.MustParsePrefix("192.0.0.170/32"), "NAT64/DNS64 discovery (RFC 8880)"},
	{netip.MustParsePrefix("192.0.0.171/32"), "NAT64/DNS64 discovery (RFC 8880)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation, TEST-NET-1 (RFC 5737)"},
	{netip.MustParsePrefix("192.31.196.0/24"), "AS112-v4 (RFC 7535)"},
	{netip.MustParsePrefix("192.52.193.0/24"), "AMT (RFC 7450)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "deprecated 6to4 relay anycast (RFC 7526)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private use (RFC 1918)"},
	{netip.MustParsePrefix("192.175.48.0/24"), "direct delegation AS112 service (RFC 7534)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation, TEST-NET-2 (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation, TEST-NET-3 (RFC 5737)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast (RFC 5771)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (RFC 1112)"},
	{netip.MustParsePrefix("255.255.255.255/32"), "limited broadcast (RFC 919)"},
	// IPv6.
	{netip.MustParsePrefix("::1/128"), "loopback (RFC 4291)"},
	{netip.MustParsePrefix("::/128"), "unspecified (RFC 4291)"},
	{netip.MustParsePrefix("::ffff:0:0/96"), "IPv4-mapped (RFC 4291), judged as the IPv4 address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "IPv4-IPv6 translation, NAT64 (RFC 6052)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "IPv4-IPv6 translation, local use (RFC 8215)"},
	{netip.MustParsePrefix("100::/64"), "discard-only (RFC 6666)"},
	{netip.MustParsePrefix("100:0:0:1::/64"), "dummy IPv6 prefix (RFC 9780)"},
	{netip.MustParsePrefix("2001::/23"), "IETF protocol assignments (RFC 2928)"},
	{netip.MustParsePrefix("2001::/32"), "Teredo, which reaches IPv4 addresses it embeds (RFC 4380)"},
	{netip.MustParsePrefix("2001:1::1/128"), "Port Control Protocol anycast (RFC 7723)"},
	{netip.MustParsePrefix("2001:1::2/128"), "TURN anycast (RFC 8155)"},
	{netip.MustParsePrefix("2001:1::3/128"), "DNS-SD service registration protocol anycast (RFC 9665)"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking (RFC 5180)"},
	{netip.MustParsePrefix("2001:3::/32"), "AMT (RFC 7450)"},
	{netip.MustParsePrefix("2001:4:112::/48"), "AS112-v6 (RFC 7535)"},
	{netip.MustParsePrefix("2001:10::/28"), "deprecated, formerly ORCHID (RFC 4843)"},
	{netip.MustParsePrefix("2001:20::/28"), "ORCHIDv2 (RFC 7343)"},
	{netip.MustParsePrefix("2001:30::/28"), "drone remote ID entity tags (RFC 9374)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation (RFC 3849)"},
	{netip.MustParsePrefix("2002::/16"), "6to4, which reaches IPv4 addresses it embeds (RFC 3056)"},
	{netip.MustParsePrefix("2620:4f:8000::/48"), "direct delegation AS112 service (RFC 7534)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation (RFC 9637)"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing SIDs (RFC 9602)"},
	{netip.MustParsePrefix("fc00::/7"), "unique local (RFC 4193)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local unicast (RFC 4291)"},
	{netip.MustParsePrefix("fec0::/10"), "deprecated site-local (RFC 3879)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast (RFC 4291)"},
}

// dialAllowed says whether a delivery may connect to ip: loopback only
// when its URL names loopback (loopbackOK), private networks only with
// allowPrivate, and otherwise public addresses only.
func dialAllowed(ip netip.Addr, loopbackOK, allowPrivate bool) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback() && loopbackOK:
		return nil
	case loopbackOK:
		return fmt.Errorf("the URL names loopback, and %s is not", ip)
	case publicAddr(ip), allowPrivate && ip.IsPrivate():
		return nil
	}
	return fmt.Errorf("refused to connect to %s: not a public address", ip)
}

// maxResponseBytes is the most of a receiver's answer read.
const maxResponseBytes = 16 << 10

// errRedirect marks an answer that asked to go elsewhere: never followed.
var errRedirect = errors.New("redirects are not followed")

// newHTTPClient is the deliveries' client: no proxy from the environment,
// no redirects followed, TLS 1.2 at least, and a dialer that checks the
// address it really connects to (after DNS), so that a name that resolves
// to loopback or a private network after its URL was checked reaches
// nothing there. Loopback is reached only by URLs that name it; private
// networks only with allowPrivate.
func newHTTPClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	t := &http.Transport{
		Proxy:                  nil,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  0, // the attempt's context bounds it
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 16 << 10,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			loopbackOK, _ := ctx.Value(loopbackKey{}).(bool)
			d := *dialer
			// Checked on every connection, with the address it really
			// goes to: each of a name's addresses, at every retry.
			d.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("dial %s: %w", address, err)
				}
				return dialAllowed(ap.Addr(), loopbackOK, allowPrivate)
			}
			return d.DialContext(ctx, network, addr)
		},
	}
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// loopbackKey marks an attempt's context when its URL names loopback.
type loopbackKey struct{}

// post sends one attempt: body to rawURL with headers, within timeout.
// It returns the status answered (0 when none) and why it failed (nil for
// a 2xx). A 3xx is a failure: redirects are not followed.
func post(ctx context.Context, c *http.Client, rawURL string, h http.Header, body []byte, timeout time.Duration) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !loopbackHost(u.Hostname())) {
		// add checked it; the database may have been edited since.
		return 0, errors.New("only https://, or http:// to loopback, is sent to")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = context.WithValue(ctx, loopbackKey{}, loopbackHost(u.Hostname()))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	req.Header = h
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the endpoint's, shown beside the attempt
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("no answer within %s", timeout)
		}
		return 0, err
	}
	defer resp.Body.Close()
	// Only the status counts; a little of the body is read so that the
	// connection may be kept, and no more, whatever the receiver sends.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, fmt.Errorf("answered %d: %w", resp.StatusCode, errRedirect)
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return resp.StatusCode, fmt.Errorf("answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
