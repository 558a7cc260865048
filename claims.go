package cognito

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The header and claims are decoded by walking the top-level members of the
// JSON object once: every member's type is checked on the raw JSON (a string
// exp or a numeric aud is malformed, where encoding/json or jwx would coerce
// or ignore it), and a repeated member name is refused, since parsers disagree
// on which copy wins.

var errNotObject = errors.New("is not a JSON object")

// eachMember calls fn with the name and raw value of each member of the JSON
// object data, and fails on invalid JSON, a non-object or a repeated name.
func eachMember(data []byte, fn func(name string, value []byte) error) error {
	if !json.Valid(data) {
		return errors.New("is not valid JSON")
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return errNotObject
	}
	var names [24]string
	seen := names[:0]
	for i = skipSpace(data, i+1); i < len(data) && data[i] != '}'; {
		end := skipString(data, i)
		name, err := decodeString(data[i:end])
		if err != nil {
			return err
		}
		for _, n := range seen {
			if n == name {
				return fmt.Errorf("repeats member %q", clean(name, 40))
			}
		}
		seen = append(seen, name)
		i = skipSpace(data, skipSpace(data, end)+1) // past the colon
		end = skipValue(data, i)
		if err := fn(name, data[i:end]); err != nil {
			return err
		}
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return nil
}

// The skip functions assume valid JSON (eachMember checks it first) and stay
// within bounds whatever the input.

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string starting at d[i] == '"'.
func skipString(d []byte, i int) int {
	for i++; i < len(d); i++ {
		switch d[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(d)
}

// skipValue returns the index just past the value starting at d[i].
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return len(d)
	}
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for ; i < len(d); i++ {
			switch d[i] {
			case '"':
				i = skipString(d, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(d)
	}
	for i < len(d) && d[i] != ',' && d[i] != '}' && d[i] != ']' && d[i] != ' ' &&
		d[i] != '\t' && d[i] != '\n' && d[i] != '\r' {
		i++
	}
	return i
}

func decodeString(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' {
		return "", errors.New("is not a string")
	}
	body := v[1 : len(v)-1]
	for _, c := range body {
		if c == '\\' || c >= 0x80 {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return "", errors.New("is not a string")
			}
			return s, nil
		}
	}
	return string(body), nil
}

func decodeStrings(v []byte) ([]string, error) {
	if len(v) == 0 || v[0] != '[' {
		return nil, errors.New("is not an array of strings")
	}
	var out []string
	for i := skipSpace(v, 1); i < len(v) && v[i] != ']'; {
		end := skipValue(v, i)
		s, err := decodeString(v[i:end])
		if err != nil {
			return nil, errors.New("is not an array of strings")
		}
		out = append(out, s)
		if i = skipSpace(v, end); i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return out, nil
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

func parseHeader(data []byte) (header, error) {
	var h header
	err := eachMember(data, func(name string, v []byte) error {
		var err error
		switch name {
		case "alg":
			h.alg, err = decodeString(v)
		case "kid":
			h.kid, err = decodeString(v)
		case "typ", "cty":
			_, err = decodeString(v)
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

// claims are the registered and Cognito claims of a token, type-checked.
type claims struct {
	iss, sub, tokenUse, clientID, username, cognitoUsername string
	email, name, nonce, scope                               string
	aud                                                     []string
	groups                                                  []string
	emailVerified                                           bool
	exp, nbf, iat, authTime                                 time.Time
	hasExp                                                  bool
}

func parseClaims(data []byte) (*claims, error) {
	c := new(claims)
	err := eachMember(data, func(name string, v []byte) error {
		var err error
		switch name {
		case "iss":
			c.iss, err = decodeString(v)
		case "sub":
			c.sub, err = decodeString(v)
		case "token_use":
			c.tokenUse, err = decodeString(v)
		case "client_id":
			c.clientID, err = decodeString(v)
		case "username":
			c.username, err = decodeString(v)
		case "cognito:username":
			c.cognitoUsername, err = decodeString(v)
		case "email":
			c.email, err = decodeString(v)
		case "name":
			c.name, err = decodeString(v)
		case "nonce":
			c.nonce, err = decodeString(v)
		case "scope":
			c.scope, err = decodeString(v)
		case "jti", "origin_jti", "event_id", "at_hash":
			_, err = decodeString(v)
		case "aud":
			if len(v) > 0 && v[0] == '[' {
				c.aud, err = decodeStrings(v)
			} else {
				var a string
				a, err = decodeString(v)
				c.aud = []string{a}
			}
		case "cognito:groups":
			c.groups, err = decodeStrings(v)
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
		}
		if err != nil {
			return fmt.Errorf("claim %s %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: claims %w", ErrMalformedToken, err)
	}
	if !c.hasExp {
		return nil, fmt.Errorf("%w: claims have no exp", ErrMalformedToken)
	}
	return c, nil
}
