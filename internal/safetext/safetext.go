// Package safetext makes text fit for an error message or a log line: text
// from the network without control characters and cut to a length, and URLs
// from the configuration without their passwords. The cognito package, alb
// and the cognito command share it, so that what one refuses to print the
// others refuse too.
package safetext

import (
	"net/url"
	"strings"
)

// IsControl reports whether r is a control character: C0 (U+0000 to U+001F),
// DEL (U+007F) or C1 (U+0080 to U+009F). A terminal acts on C1 as on C0:
// U+009B opens a control sequence as ESC [ does.
func IsControl(r rune) bool { return r < 0x20 || 0x7f <= r && r <= 0x9f }

// Clean keeps at most n bytes of s's characters that are not control
// characters, and "..." after them when it cut s, so that a hostile peer
// cannot fill logs or inject control sequences through an error message. The
// result is valid UTF-8.
func Clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strings.ToValidUTF8(s, "")
}

// URL returns raw, a URL from the configuration, as a message may show it:
// with the password of its user info replaced by "xxxxx", as
// (*url.URL).Redacted does. Where url.Parse finds no user info, or no host,
// raw is read more warily, since a password written without
// percent-encoding its '/', '?' or '#' (base64 passwords have them) ends
// what url.Parse takes for the authority early, and may even leave a host
// and a port ("user:123" of "https://user:123/x@host"): after the scheme's
// "://" (or from the start), whatever follows the first ':' up to the last
// '@' is replaced the same way. A URL with no password but a port and an
// '@' further on ("https://host:8443/a@b") then shows less than it could,
// never a password.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err == nil && u.Host != "" && u.User != nil {
		return u.Redacted()
	}
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + len("://")
	}
	if at := strings.LastIndexByte(raw[start:], '@'); at >= 0 {
		if colon := strings.IndexByte(raw[start:start+at], ':'); colon >= 0 {
			return raw[:start+colon+1] + "xxxxx" + raw[start+at:]
		}
	}
	if err == nil && u.Host != "" {
		return u.Redacted()
	}
	return raw
}
