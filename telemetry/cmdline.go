package telemetry

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// secretName matches the names of flags, and of a connection string's
// options, whose values are secrets.
var secretName = regexp.MustCompile(`(?i)(secret|passw|pwd|token|credential|private.?key|api.?key|session)`)

// redacted stands for a secret's value.
const redacted = "REDACTED"

// RedactArgs is a command line fit to show: the password of any URL in it
// (a --mongodb-uri with its user's password), the values of a URL's
// secret-named options (tlsCertificateKeyFilePassword, a session token)
// and the values of secret-named flags (--...-secret, --...-password,
// --...-token, as -name=value or -name value) are REDACTED.
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	secretNext := false
	for i, a := range args {
		if secretNext {
			out[i], secretNext = redacted, false
			continue
		}
		out[i] = redactURLs(a)
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !secretName.MatchString(name) {
			continue
		}
		if hasValue {
			out[i] = a[:strings.Index(a, "=")+1] + redacted
		} else {
			secretNext = true // the value is the next argument
		}
	}
	return out
}

// urlIn finds URLs with a scheme in an argument (alone, or as a flag's
// value).
var urlIn = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"']+`)

// redactURLs hides the passwords and secret options of the URLs in s.
func redactURLs(s string) string {
	return urlIn.ReplaceAllStringFunc(s, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			// Unparsable: keep the scheme and host's place, hide the rest.
			scheme, _, _ := strings.Cut(raw, "://")
			return scheme + "://" + redacted
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
		if q := u.Query(); len(q) > 0 {
			changed := false
			for k, vs := range q {
				if secretName.MatchString(k) {
					for j := range vs {
						vs[j] = redacted
					}
					changed = true
				}
				for j, v := range vs { // authMechanismProperties=AWS_SESSION_TOKEN:…
					if name, _, ok := strings.Cut(v, ":"); ok && secretName.MatchString(name) {
						vs[j] = name + ":" + redacted
						changed = true
					}
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
		return u.String()
	})
}

// cmdline serves the process's command line as net/http/pprof does (its
// arguments separated by NUL bytes), with its secrets redacted: a
// debug listener is private, but what it shows is read, pasted and kept.
func cmdline(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(strings.Join(RedactArgs(os.Args), "\x00")))
}
