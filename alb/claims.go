package alb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/internal/jsonname"
)

// The header and claims are read member by member from the top-level JSON
// object, each member's type checked on its raw JSON, and a repeated member
// name refused: parsers disagree on which copy wins, so a value with two
// signers could mean one thing here and another elsewhere. The claims'
// names are compared folded too, as encoding/json matches them to the
// fields of Token.Claims's v (see jsonname), so that Token and Claims never
// read one claim two ways.

var errInvalidJSON = errors.New("is not valid JSON")

// eachMember calls fn with the name, as encoding/json decodes it, and the raw
// value of each member of the JSON object data. It fails on invalid JSON, a
// non-object or a repeated name: with fold, names that fold alike
// (jsonname.AppendFolded) repeat each other. json.Valid judges the whole
// first, so the walk below may trust the structure: it only finds where
// members start and end, which costs a fraction of what a json.Decoder does.
func eachMember(data []byte, fold bool, fn func(name, value []byte) error) error {
	if !json.Valid(data) {
		return errInvalidJSON
	}
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return errors.New("is not a JSON object")
	}
	// The first names (folded, with fold) are kept in arrays on the stack:
	// seen[:n] and, back to back, folded.
	var (
		seen   [16][]byte
		n      int
		many   map[string]struct{}
		folded [256]byte
		keys   = folded[:0]
	)
	for i = skipSpace(data, i+1); data[i] == '"'; {
		end := stringEnd(data, i)
		name := data[i+1 : end-1]
		if !plainString(data[i:end]) {
			s, err := decodeString(data[i:end])
			if err != nil {
				return errInvalidJSON
			}
			name = []byte(s)
		}
		key := name
		if fold {
			start := len(keys)
			keys = jsonname.AppendFolded(keys, name)
			key = keys[start:]
		}
		// A linear search over the first names is fastest for the few
		// members a load balancer sends; past them a map keeps thousands
		// of members linear.
		repeated := false
		if many == nil {
			for _, k := range seen[:n] {
				repeated = repeated || bytes.Equal(k, key)
			}
			if !repeated && n == len(seen) {
				many = make(map[string]struct{}, 2*n)
				for _, k := range seen {
					many[string(k)] = struct{}{}
				}
			} else if !repeated {
				seen[n] = key
				n++
			}
		}
		if many != nil {
			_, repeated = many[string(key)]
			many[string(key)] = struct{}{}
		}
		if repeated {
			return fmt.Errorf("repeats member %q", clean(string(name), 40))
		}
		i = skipSpace(data, skipSpace(data, end)+1) // past the colon
		end = valueEnd(data, i)
		if err := fn(name, data[i:end]); err != nil {
			return fmt.Errorf("member %q %w", clean(string(name), 40), err)
		}
		if i = skipSpace(data, end); data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return nil
}

func skipSpace(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the valid JSON string at d[i].
func stringEnd(d []byte, i int) int {
	for i++; d[i] != '"'; i++ {
		if d[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// valueEnd returns the index just past the valid JSON value at d[i].
func valueEnd(d []byte, i int) int {
	switch d[i] {
	case '"':
		return stringEnd(d, i)
	case '{', '[':
		depth := 0
		for {
			switch d[i] {
			case '"':
				i = stringEnd(d, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(d) && d[i] != ',' && d[i] != '}' && d[i] != ']' && d[i] != ' ' && d[i] != '\t' && d[i] != '\n' && d[i] != '\r' {
		i++
	}
	return i
}

// plainString reports whether v is a JSON string of printable ASCII without
// escapes, whose bytes between the quotes are its value.
func plainString(v []byte) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return true
}

// decodeString decodes a JSON string; most are plain, copied as they are.
func decodeString(v []byte) (string, error) {
	if plainString(v) {
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", errors.New("is not a string")
	}
	return s, nil
}

// maxNumericDate is the last second of year 9999: later dates are not dates.
const maxNumericDate = 253402300799

// decodeNumericDate reads an RFC 7519 NumericDate: a non-negative JSON number
// of seconds, possibly fractional.
func decodeNumericDate(v []byte) (time.Time, error) {
	if len(v) == 0 || v[0] < '0' || v[0] > '9' {
		return time.Time{}, errors.New("is not a non-negative number")
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f > maxNumericDate || math.IsNaN(f) {
		return time.Time{}, errors.New("is out of range")
	}
	whole, frac := math.Modf(f)
	return time.Unix(int64(whole), int64(frac*1e9)), nil
}

// header is the JOSE header of an x-amzn-oidc-data value, where the load
// balancer puts what it vouches for: who signed (signer), for which app
// client (client), from which issuer (iss), until when (exp).
type header struct {
	alg, kid, signer, iss, client string
	exp                           time.Time
}

// requiredHeader are the members every load balancer's header carries;
// a missing kid is refused as any kid that is not a UUID is.
var requiredHeader = [...]string{"alg", "signer", "iss", "client", "exp"}

func parseHeader(data []byte) (header, error) {
	var h header
	var has [len(requiredHeader)]bool
	err := eachMember(data, false, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "alg":
			h.alg, err = decodeString(v)
		case "kid":
			h.kid, err = decodeString(v)
		case "signer":
			h.signer, err = decodeString(v)
		case "iss":
			h.iss, err = decodeString(v)
		case "client":
			h.client, err = decodeString(v)
		case "exp":
			h.exp, err = decodeNumericDate(v)
		case "typ":
			_, err = decodeString(v)
		case "crit":
			// RFC 7515 section 4.1.11: extensions not understood must be refused.
			err = errors.New("names critical extensions, which are not supported")
		}
		// jku, x5u, jwk and x5c are ignored: keys come only from KeysURL.
		if i := slices.Index(requiredHeader[:], string(name)); i >= 0 {
			has[i] = true
		}
		return err
	})
	if err != nil {
		return h, fmt.Errorf("%w: alb: header %w", cognito.ErrMalformedToken, err)
	}
	for i, name := range requiredHeader {
		if !has[i] {
			return h, fmt.Errorf("%w: alb: header has no %s", cognito.ErrMalformedToken, name)
		}
	}
	return h, nil
}

// claims are the user's claims the Token has fields for, type-checked.
type claims struct {
	sub, email, username string
	iss                  string
	groups               []string
	exp                  time.Time
	hasIss, hasExp       bool
}

// readClaims holds, folded, the name of every claim parseClaims reads: a
// value may not spell one of them in another case, which Token.Claims would
// read where Token does not.
var readClaims = jsonname.NewSet("sub", "email", "username", "iss", "exp", "cognito:groups")

func parseClaims(data []byte) (claims, error) {
	var c claims
	err := eachMember(data, true, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "sub":
			c.sub, err = decodeString(v)
		case "email":
			c.email, err = decodeString(v)
		case "username":
			c.username, err = decodeString(v)
		case "iss":
			c.iss, err = decodeString(v)
			c.hasIss = true
		case "exp":
			c.exp, err = decodeNumericDate(v)
			c.hasExp = true
		case "cognito:groups":
			if len(v) == 0 || v[0] != '[' || json.Unmarshal(v, &c.groups) != nil {
				err = errors.New("is not an array of strings")
			}
		default:
			if readClaims.Holds(name) {
				err = errors.New("differs only in case from a claim of that name")
			}
		}
		return err
	})
	if err != nil {
		return c, fmt.Errorf("%w: alb: claims %w", cognito.ErrMalformedToken, err)
	}
	if c.sub == "" {
		return c, fmt.Errorf("%w: alb: claims have no sub", cognito.ErrMalformedToken)
	}
	return c, nil
}
