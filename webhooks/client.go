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
// name loopback: not loopback, private, link-local (cloud metadata lives
// there), unspecified, multicast, or the carrier-grade NAT range.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() &&
		!ip.IsUnspecified() && !netip.MustParsePrefix("100.64.0.0/10").Contains(ip)
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
			d.Control = func(_, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("dial %s: %w", address, err)
				}
				ip := ap.Addr().Unmap()
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
