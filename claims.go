package cognito

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cognitokit/cognito/internal/jsonname"
)

// The header and claims are decoded by walking the top-level members of the
// JSON object once: every member's type is checked on the raw JSON (a string
// exp or a numeric aud is malformed, where encoding/json or jwx would coerce
// or ignore it), and a repeated member name is refused, since parsers disagree
// on which copy wins.

var (
	errNotObject   = errors.New("is not a JSON object")
	errInvalidJSON = errors.New("is not valid JSON")
	errTooDeep     = fmt.Errorf("nests deeper than %d levels", maxJSONDepth)
)

// maxJSONDepth bounds the nesting of a token's header and claims; Cognito's
// go two levels deep.
const maxJSONDepth = 32

// eachMember calls fn with the name (valid only during the call) and raw
// value of each member of the JSON object data, and fails on invalid JSON
// (RFC 8259, as json.Valid judges it), a non-object, nesting deeper than
// maxJSONDepth or a repeated name. Names are compared as encoding/json decodes them, unescaped and with invalid UTF-8
// replaced by U+FFFD, so "\u0061ud" repeats "aud", and names that differ only
// in invalid bytes repeat each other. eachMemberFolded compares names as
// encoding/json matches them to struct fields, folded too (see
// jsonname.AppendFolded): "AUD" repeats "aud" and "\u017fub" ("ſub") repeats
// "sub", so that Claims(v) never sees two candidates for one field. It
// validates as it goes, in one pass.
func eachMember(data []byte, fn func(name, value []byte) error) error {
	return scanMembers(data, false, fn)
}

// eachMemberFolded is eachMember with names compared folded, as
// encoding/json matches them to struct fields.
func eachMemberFolded(data []byte, fn func(name, value []byte) error) error {
	return scanMembers(data, true, fn)
}

func scanMembers(data []byte, fold bool, fn func(name, value []byte) error) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		if _, err := scanValue(data, i, 0); err != nil {
			return err
		}
		return errNotObject
	}
	// The names (or folded names) of the first members are kept back to
	// back in names, on the stack, and compared one by one: fastest for
	// tokens as Cognito makes them. Past len(keys) names a map takes over,
	// so that thousands of members cost linear time, not quadratic.
	var (
		keys     [32][]byte
		names    [512]byte
		folded   [64]byte
		unquoted []byte // reused by every escaped name: fn must not keep name
	)
	seen, buf, seenSet := 0, names[:0], map[string]struct{}(nil)
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			if i >= len(data) || data[i] != '"' {
				return errInvalidJSON
			}
			end, err := scanString(data, i)
			if err != nil {
				return err
			}
			name := data[i+1 : end-1]
			if !plainString(data[i:end]) {
				unquoted = appendUnquoted(unquoted[:0], data[i:end])
				name = unquoted
			}
			key := name
			if fold {
				key = jsonname.AppendFolded(folded[:0], name)
			}
			repeated := false
			if seenSet == nil {
				for _, k := range keys[:seen] {
					repeated = repeated || bytes.Equal(k, key)
				}
				if !repeated && seen < len(keys) {
					start := len(buf)
					buf = append(buf, key...)
					keys[seen] = buf[start:]
					seen++
				} else if !repeated {
					seenSet = make(map[string]struct{}, 2*seen)
					for _, k := range keys[:seen] {
						seenSet[string(k)] = struct{}{}
					}
				}
			}
			if seenSet != nil && !repeated {
				_, repeated = seenSet[string(key)]
				seenSet[string(key)] = struct{}{}
			}
			if repeated {
				return fmt.Errorf("repeats member %q", clean(string(name), 40))
			}
			if i = skipSpace(data, end); i >= len(data) || data[i] != ':' {
				return errInvalidJSON
			}
			i = skipSpace(data, i+1)
			if end, err = scanValue(data, i, 1); err != nil {
				return err
			}
			if err := fn(name, data[i:end]); err != nil {
				return err
			}
			if i = skipSpace(data, end); i < len(data) && data[i] == ',' {
				i = skipSpace(data, i+1)
				continue
			}
			if i >= len(data) || data[i] != '}' {
				return errInvalidJSON
			}
			i++
			break
		}
	}
	if skipSpace(data, i) != len(data) {
		return errInvalidJSON
	}
	return nil
}

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index just past the JSON string starting at d[i],
// checking its escapes and that it holds no control characters.
func scanString(d []byte, i int) (int, error) {
	if i >= len(d) || d[i] != '"' {
		return 0, errInvalidJSON
	}
	for i++; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			return i + 1, nil
		case c < 0x20:
			return 0, errInvalidJSON
		case c == '\\':
			if i++; i >= len(d) {
				return 0, errInvalidJSON
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) || !isHex(d[i+1]) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) {
					return 0, errInvalidJSON
				}
				i += 4
			default:
				return 0, errInvalidJSON
			}
		}
	}
	return 0, errInvalidJSON
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanValue returns the index just past the JSON value starting at d[i], which
// sits depth containers deep.
func scanValue(d []byte, i, depth int) (int, error) {
	if i >= len(d) {
		return 0, errInvalidJSON
	}
	switch c := d[i]; {
	case c == '"':
		return scanString(d, i)
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return 0, errTooDeep
		}
		return scanContainer(d, i, depth+1)
	case c == 't':
		return scanLiteral(d, i, "true")
	case c == 'f':
		return scanLiteral(d, i, "false")
	case c == 'n':
		return scanLiteral(d, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(d, i)
	}
	return 0, errInvalidJSON
}

// scanContainer scans the object or array starting at d[i].
func scanContainer(d []byte, i, depth int) (int, error) {
	closing, object := byte(']'), d[i] == '{'
	if object {
		closing = '}'
	}
	if i = skipSpace(d, i+1); i < len(d) && d[i] == closing {
		return i + 1, nil
	}
	for {
		var err error
		if object {
			if i, err = scanString(d, i); err != nil {
				return 0, err
			}
			if i = skipSpace(d, i); i >= len(d) || d[i] != ':' {
				return 0, errInvalidJSON
			}
			i = skipSpace(d, i+1)
		}
		if i, err = scanValue(d, i, depth); err != nil {
			return 0, err
		}
		if i = skipSpace(d, i); i >= len(d) {
			return 0, errInvalidJSON
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case closing:
			return i + 1, nil
		default:
			return 0, errInvalidJSON
		}
	}
}

func scanLiteral(d []byte, i int, lit string) (int, error) {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return 0, errInvalidJSON
	}
	return i + len(lit), nil
}

// scanNumber scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func scanNumber(d []byte, i int) (int, error) {
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		i = skipDigits(d, i)
	default:
		return 0, errInvalidJSON
	}
	if i < len(d) && d[i] == '.' {
		if j := skipDigits(d, i+1); j > i+1 {
			i = j
		} else {
			return 0, errInvalidJSON
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := skipDigits(d, i)
		if j == i {
			return 0, errInvalidJSON
		}
		i = j
	}
	return i, nil
}

func skipDigits(d []byte, i int) int {
	for i < len(d) && '0' <= d[i] && d[i] <= '9' {
		i++
	}
	return i
}

// decodeString decodes v, a JSON value that scanValue accepted, which must
// be a string.
func decodeString(v []byte) (string, error) {
	if plainString(v) {
		return string(v[1 : len(v)-1]), nil
	}
	if len(v) < 2 || v[0] != '"' {
		return "", errors.New("is not a string")
	}
	return string(appendUnquoted(nil, v)), nil
}

// appendUnquoted appends the value of q, a JSON string that scanString
// accepted, decoded as encoding/json decodes it: escapes resolved, and each
// byte of invalid UTF-8 and each unpaired surrogate replaced by U+FFFD.
func appendUnquoted(dst, q []byte) []byte {
	s := q[1 : len(q)-1]
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && s[i+1] == 'u':
			r := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hex4(s[i+2 : i+6])
				}
				if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
					i += 6
				}
			}
			dst = utf8.AppendRune(dst, r)
		case c == '\\':
			dst = append(dst, unescaped(s[i+1]))
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += n
		}
	}
	return dst
}

// unescaped returns the byte that the JSON escape \c stands for.
func unescaped(c byte) byte {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return c // ", \ and /
}

// hex4 reads the four hexadecimal digits of a \\u escape.
func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// plainString reports whether v is a JSON string with no escapes and only
// ASCII, whose bytes between the quotes are its value.
func plainString(v []byte) bool {
	if len(v) < 2 || v[0] != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// stringClaim is a claim checked to be a JSON string but not yet decoded, so
// that comparing it with the configured issuer or client ID costs no allocation.
type stringClaim []byte

func (s stringClaim) equals(want string) bool {
	if plainString(s) {
		return string(s[1:len(s)-1]) == want
	}
	got, err := decodeString(s)
	return err == nil && got == want
}

// String decodes the claim; it is empty if the claim is not a string.
func (s stringClaim) String() string {
	got, _ := decodeString(s)
	return got
}

func checkString(v []byte) (stringClaim, error) {
	if plainString(v) {
		return v, nil
	}
	if _, err := decodeString(v); err != nil {
		return nil, err
	}
	return v, nil
}

// checkStrings checks that v, a valid JSON value, is an array of strings and
// passes them to each undecoded.
func checkStrings(v []byte, each func(stringClaim)) error {
	errNotStrings := errors.New("is not an array of strings")
	if len(v) == 0 || v[0] != '[' {
		return errNotStrings
	}
	for i := skipSpace(v, 1); i < len(v) && v[i] != ']'; {
		end, err := scanString(v, i)
		if err != nil {
			return errNotStrings
		}
		s, err := checkString(v[i:end])
		if err != nil {
			return errNotStrings
		}
		each(s)
		if i = skipSpace(v, end); i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return nil
}

func decodeStrings(v []byte) ([]string, error) {
	var out []string
	err := checkStrings(v, func(s stringClaim) { out = append(out, s.String()) })
	return out, err
}

// maxNumericDate is the last second of year 9999: later dates are not dates.
const maxNumericDate = 253402300799

// decodeNumericDate reads an RFC 7519 NumericDate: a non-negative JSON number
// of seconds, possibly fractional.
func decodeNumericDate(v []byte) (time.Time, error) {
	var secs int64
	integer := len(v) > 0 && len(v) <= 12
	for _, c := range v {
		if c < '0' || c > '9' {
			integer = false
			break
		}
		secs = secs*10 + int64(c-'0')
	}
	if integer {
		if secs > maxNumericDate {
			return time.Time{}, errors.New("is out of range")
		}
		return time.Unix(secs, 0), nil
	}
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return time.Time{}, errors.New("is not a number")
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f < 0 || f > maxNumericDate || math.IsNaN(f) {
		return time.Time{}, errors.New("is out of range")
	}
	whole, frac := math.Modf(f)
	return time.Unix(int64(whole), int64(frac*1e9)), nil
}

// decodeBool accepts a JSON boolean, and the strings "true" and "false" that
// Cognito sends for some attributes of federated users.
func decodeBool(v []byte) (bool, error) {
	switch string(v) {
	case "true", `"true"`:
		return true, nil
	case "false", `"false"`:
		return false, nil
	}
	return false, errors.New("is not a boolean")
}

// header is the JOSE header of a token.
type header struct {
	alg, kid string
}

// maxHeaderMembers bounds the members of a header, which is read before the
// signature is checked: Cognito's has two, and within this bound repeats are
// found without a map.
const maxHeaderMembers = 32

func parseHeader(data []byte) (header, error) {
	var h header
	members := 0
	err := eachMember(data, func(name, v []byte) error {
		var err error
		if members++; members > maxHeaderMembers {
			return fmt.Errorf("has more than %d members", maxHeaderMembers)
		}
		switch string(name) {
		case "alg":
			h.alg, err = decodeString(v)
		case "kid":
			h.kid, err = decodeString(v)
		case "typ", "cty":
			_, err = checkString(v)
		case "crit":
			// RFC 7515 section 4.1.11: extensions we do not implement must be refused.
			return errors.New("names critical extensions (crit), which are not supported")
		}
		// jku, x5u, jwk and x5c are ignored: keys come only from the configured JWKS.
		if err != nil {
			return fmt.Errorf("member %s %w", name, err)
		}
		return nil
	})
	if err != nil {
		return h, fmt.Errorf("%w: header %w", ErrMalformedToken, err)
	}
	if h.alg == "" {
		return h, fmt.Errorf("%w: header has no alg", ErrMalformedToken)
	}
	return h, nil
}

// claims are the registered and Cognito claims of a token, type-checked. The
// ones only compared with configuration stay undecoded.
type claims struct {
	iss, tokenUse, clientID, aud stringClaim // aud: a string, or an array when audArray
	azp                          stringClaim
	audArray                     bool
	sub, username                string // username or cognito:username
	email, name, nonce, scope    string
	acr                          string   // the level the sign-in reached
	groups, amr                  []string // amr: the methods the sign-in completed
	emailVerified                bool
	exp, nbf, iat, authTime      time.Time
	hasExp                       bool
	originJTI, jti               stringClaim // what a revocation list keys on
}

// audience reports whether the token is for clientID: aud is clientID, or an
// array holding it, and when that array names other audiences too, azp is
// clientID (OpenID Connect Core 1.0 section 3.1.3.7).
func (c *claims) audience(clientID string) bool {
	if !c.audArray {
		return c.aud != nil && c.aud.equals(clientID)
	}
	found, n := false, 0
	_ = checkStrings(c.aud, func(s stringClaim) { found, n = found || s.equals(clientID), n+1 })
	return found && (n == 1 || c.azp != nil && c.azp.equals(clientID))
}

// readClaims holds, folded, the name of every claim parseClaims reads: a
// token may not spell one of them in another case.
var readClaims = jsonname.NewSet("iss", "token_use", "client_id", "azp", "sub", "username", "cognito:username",
	"email", "name", "nonce", "scope", "jti", "origin_jti", "event_id", "at_hash", "aud",
	"cognito:groups", "email_verified", "exp", "nbf", "iat", "auth_time", "acr", "amr")

// usernameClaim is the claim that names the user in each kind of token.
var usernameClaim = map[string]string{"id": "cognito:username", "access": "username"}

func parseClaims(data []byte, use string) (claims, error) {
	var c claims
	userClaim := usernameClaim[use]
	err := eachMemberFolded(data, func(name, v []byte) error {
		var err error
		switch n := string(name); n {
		case "iss":
			c.iss, err = checkString(v)
		case "token_use":
			c.tokenUse, err = checkString(v)
		case "client_id":
			c.clientID, err = checkString(v)
		case "azp":
			c.azp, err = checkString(v)
		case "sub":
			c.sub, err = decodeString(v)
		case "username", "cognito:username":
			var u string
			if u, err = decodeString(v); n == userClaim {
				c.username = u
			}
		case "email":
			c.email, err = decodeString(v)
		case "name":
			c.name, err = decodeString(v)
		case "nonce":
			c.nonce, err = decodeString(v)
		case "scope":
			c.scope, err = decodeString(v)
		case "origin_jti":
			c.originJTI, err = checkString(v)
		case "jti":
			c.jti, err = checkString(v)
		case "event_id", "at_hash":
			_, err = checkString(v)
		case "aud":
			c.aud, c.audArray = v, len(v) > 0 && v[0] == '['
			if c.audArray {
				err = checkStrings(v, func(stringClaim) {})
			} else {
				_, err = checkString(v)
			}
		case "cognito:groups":
			c.groups, err = decodeStrings(v)
		case "acr":
			c.acr, err = decodeString(v)
		case "amr":
			c.amr, err = decodeStrings(v)
		case "email_verified":
			c.emailVerified, err = decodeBool(v)
		case "exp":
			c.exp, err = decodeNumericDate(v)
			c.hasExp = true
		case "nbf":
			c.nbf, err = decodeNumericDate(v)
		case "iat":
			c.iat, err = decodeNumericDate(v)
		case "auth_time":
			c.authTime, err = decodeNumericDate(v)
		default:
			// Claims(v) matches "EMAIL" or "ſub" to a field tagged email or
			// sub, which would then disagree with the typed field.
			if readClaims.Holds(name) {
				err = errors.New("differs only in case from a claim of that name")
			}
		}
		if err != nil {
			return fmt.Errorf("claim %s %w", clean(string(name), 40), err)
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("%w: claims %w", ErrMalformedToken, err)
	}
	if !c.hasExp {
		return c, fmt.Errorf("%w: claims have no exp", ErrMalformedToken)
	}
	return c, nil
}
