package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cognitokit/cognito/internal/safetext"
)

func runDecode(_ context.Context, e *env, args []string) error {
	s := newSettings("decode", "[--json] TOKEN|-",
		"Decode shows a JWT's header and claims, with its times in UTC and relative to\n"+
			"now. Nothing is checked: the output is marked UNVERIFIED. Use \"cognito verify\"\n"+
			"to check a token. With -, the token is read from standard input.",
		"  cognito decode eyJraWQiOi...\n  pbpaste | cognito decode -")
	s.jsonFlag("print one JSON object: {\"verified\": false, \"header\", \"claims\", \"times\"}")
	pos, err := s.parse(e, args)
	if err != nil {
		return err
	}
	raw, err := tokenArg(e, pos, "token")
	if err != nil {
		return err
	}
	raw = strings.TrimSpace(strings.TrimPrefix(raw, "Bearer "))
	tok, err := parseUnverified(raw)
	if err != nil {
		return err
	}
	now := e.now()
	if s.jsonOut {
		return writeJSON(e.stdout, decodeJSON(tok, now))
	}
	fmt.Fprintln(e.stdout, "UNVERIFIED: decoded only; the signature, issuer, audience and times are not checked (use cognito verify)")
	fmt.Fprintf(e.stdout, "\nheader:\n%s\n", indent(tok.header))
	if tok.encrypted {
		fmt.Fprintf(e.stdout, "\nan encrypted token (JWE), such as Cognito's refresh tokens: only the pool can read its claims\n")
		return nil
	}
	fmt.Fprintf(e.stdout, "\nclaims:\n%s\n", indent(tok.payload))
	if times := tok.times(now); len(times) > 0 {
		fmt.Fprintln(e.stdout, "\ntimes (UTC):")
		for _, t := range times {
			fmt.Fprintf(e.stdout, "  %-10s %s  %s\n", t.Claim, t.UTC, t.Relative)
		}
	}
	return nil
}

// unverified is a JWT taken apart without any check.
type unverified struct {
	header, payload json.RawMessage
	encrypted       bool           // a JWE: payload is empty
	hdr, claims     map[string]any // header and payload decoded, for reading fields
}

// parseUnverified splits and decodes a compact JWS (three parts) or a JWE's
// header (five parts). Errors never quote the token.
func parseUnverified(raw string) (*unverified, error) {
	parts := strings.Split(raw, ".")
	switch len(parts) {
	case 3, 5:
	default:
		return nil, usagef("not a JWT: it has %d dot-separated parts, a JWT has 3 (or 5 when encrypted); pass the whole token, without \"Bearer \"", len(parts))
	}
	t := &unverified{encrypted: len(parts) == 5}
	var err error
	if t.header, t.hdr, err = decodePart(parts[0]); err != nil {
		return nil, usagef("not a JWT: the header %v", err)
	}
	if t.encrypted {
		return t, nil
	}
	if t.payload, t.claims, err = decodePart(parts[1]); err != nil {
		return nil, usagef("not a JWT: the claims %v", err)
	}
	return t, nil
}

// decodePart decodes one base64url part holding a JSON object. Padding is
// tolerated: decode shows what a token says, it does not judge its form.
func decodePart(p string) (json.RawMessage, map[string]any, error) {
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
	if err != nil {
		return nil, nil, errors.New("is not base64url")
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&m); err != nil || m == nil || !json.Valid(data) {
		return nil, nil, errors.New("is not a JSON object")
	}
	return data, m, nil
}

// str is the claim or header field name as a string, "" when absent or not one.
func str(m map[string]any, name string) string {
	s, _ := m[name].(string)
	return s
}

// unixTime is the NumericDate claim name, and whether it is one.
func unixTime(m map[string]any, name string) (time.Time, bool) {
	n, ok := m[name].(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
}

// timeClaim is one of a token's times, for people and for --json.
type timeClaim struct {
	Claim    string `json:"claim"`
	Unix     int64  `json:"unix"`
	UTC      string `json:"utc"`
	Relative string `json:"relative"`
}

// timeClaims are the claims shown as times, in the order a reader wants them.
var timeClaims = []string{"exp", "iat", "nbf", "auth_time"}

func (t *unverified) times(now time.Time) []timeClaim {
	var out []timeClaim
	for _, name := range timeClaims {
		at, ok := unixTime(t.claims, name)
		if !ok {
			continue
		}
		out = append(out, timeClaim{
			Claim: name, Unix: at.Unix(), UTC: at.Format("2006-01-02 15:04:05 MST"),
			Relative: relative(name, at, now),
		})
	}
	return out
}

// relative says when at is from now: "expires in 42m" or "expired 3h ago"
// for exp, "3h ago" or "in 5m" for the others.
func relative(claim string, at, now time.Time) string {
	d := at.Sub(now)
	if claim == "exp" {
		if now.Before(at) { // the Verifier's rule: valid while now is before exp
			return "expires in " + human(d)
		}
		return "expired " + human(-d) + " ago"
	}
	if d > 0 {
		return "in " + human(d)
	}
	return human(-d) + " ago"
}

// human rounds d down to a short form: 42s, 42m, 3h, 3h20m, 12d.
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

func decodeJSON(t *unverified, now time.Time) any {
	out := struct {
		Verified  bool            `json:"verified"`
		Encrypted bool            `json:"encrypted,omitempty"`
		Header    json.RawMessage `json:"header"`
		Claims    json.RawMessage `json:"claims,omitempty"`
		Times     []timeClaim     `json:"times,omitempty"`
	}{Encrypted: t.encrypted, Header: t.header, Claims: t.payload}
	if !t.encrypted {
		out.Times = t.times(now)
	}
	return out
}

// indent pretty-prints JSON, keeping the token's order of members.
func indent(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(escapeControls(raw))
	}
	return string(escapeControls(b.Bytes()))
}

func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeControls(b.Bytes()))
	return err
}

// escapeControls writes the control characters that a JSON string may hold
// unescaped, DEL and C1 (U+0080 to U+009F), as \u escapes, and invalid
// UTF-8 as U+FFFD, as a JSON decoder reads it: the same JSON, but a hostile
// token cannot reach the terminal with a control sequence (U+009B, or a lone
// 0x9B byte on an 8-bit terminal, opens one as ESC [ does). JSON escapes C0
// itself, and outside its strings valid JSON holds no control character.
func escapeControls(js []byte) []byte {
	// JSON's white space (\t, \n, \r) is C0, and stays.
	rawInJSON := func(r rune) bool { return r >= 0x7f && safetext.IsControl(r) }
	if utf8.Valid(js) && !bytes.ContainsFunc(js, rawInJSON) {
		return js
	}
	out := make([]byte, 0, len(js)+16)
	for _, r := range string(js) {
		if rawInJSON(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}
