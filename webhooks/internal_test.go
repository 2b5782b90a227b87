package webhooks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]string{
		"https://partner.example.org/hooks":   "",
		"http://127.0.0.1:9000/hooks":         "",
		"http://127.8.9.10/hooks":             "",
		"http://[::1]:9000/":                  "",
		"http://localhost:9000/":              "",
		"http://partner.example.org/hooks":    "is not HTTPS",
		"http://10.0.0.1/hooks":               "is not HTTPS",
		"https://10.0.0.1/hooks":              "not a public address",
		"https://169.254.169.254/latest":      "not a public address",
		"https://[::]/":                       "not a public address",
		"ftp://partner.example.org/":          "absolute https://",
		"partner.example.org/hooks":           "absolute https://",
		"https://user:pw@partner.example.org": "user or password",
		"https://partner.example.org/#x":      "fragment",
		"https://:443/":                       "no host",
		"http://%zz":                          "is not a URL",
	} {
		err := CheckURL(url)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", url, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want an error saying %q", url, err, want)
		}
	}
}

// TestDialChecksTheAddressConnectedTo: a URL whose name does not say
// loopback reaches no loopback address, whatever its name resolves to
// after it was checked (the dialer checks the address itself); one that
// names loopback reaches loopback only.
func TestDialChecksTheAddressConnectedTo(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := newHTTPClient(true)
	// As for a public name that resolves to 127.0.0.1: the context does
	// not say the URL names loopback.
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, nil)
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "not a public address") {
		t.Errorf("a name resolving to loopback was reached: %v", err)
	}
	if status, err := post(context.Background(), c, srv.URL, http.Header{}, []byte("{}"), time.Second); err != nil || status != 200 {
		t.Errorf("loopback URL: %d %v", status, err)
	}
	for _, u := range []string{"http://partner.example.org/", "ftp://127.0.0.1/", "file:///etc/passwd"} {
		if _, err := post(context.Background(), c, u, http.Header{}, nil, time.Second); err == nil || !strings.Contains(err.Error(), "only https://") {
			t.Errorf("post to %s: %v", u, err)
		}
	}
}

func TestSignMatchesTheSpecificationsExample(t *testing.T) {
	t.Parallel()
	// The example of the Standard Webhooks specification.
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	got, err := Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestBackoffIsJitteredAndBounded(t *testing.T) {
	t.Parallel()
	w := &Worker{cfg: Config{RetryBase: time.Second, RetryMax: time.Minute}.withDefaults()}
	for n := 1; n < 100; n++ {
		ceil := min(time.Minute, time.Second<<min(n-1, 10))
		for range 20 {
			if d := w.backoff(n); d < 0 || d > ceil {
				t.Fatalf("backoff(%d) = %s, over %s", n, d, ceil)
			}
		}
	}
}
