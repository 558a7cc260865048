package alb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/cognitokit/cognito"
)

// The header and claims are read member by member from the top-level JSON
// object, each member's type checked on its raw JSON, and a repeated member
// name refused: parsers disagree on which copy wins, so a value with two
// signers could mean one thing here and another elsewhere.

var errInvalidJSON = errors.New("is not valid JSON")

// eachMember calls fn with the name, as encoding/json decodes it, and the raw
// value of each member of the JSON object data. It fails on invalid JSON, a
// non-object, trailing data or a repeated name.
func eachMember(data []byte, fn func(name string, value json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("is not a JSON object")
	}
	seen := make(map[string]struct{}, 16)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errInvalidJSON
		}
		name, _ := t.(string) // a key, as the decoder only returns strings here
		if _, repeated := seen[name]; repeated {
			return fmt.Errorf("repeats member %q", clean(name, 40))
		}
		seen[name] = struct{}{}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return errInvalidJSON
		}
		if err := fn(name, v); err != nil {
			return fmt.Errorf("member %q %w", clean(name, 40), err)
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return errInvalidJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("has data after the object")
	}
	return nil
}

func decodeString(v json.RawMessage) (string, error) {
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
func decodeNumericDate(v json.RawMessage) (time.Time, error) {
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
var requiredHeader = []string{"alg", "signer", "iss", "client", "exp"}

func parseHeader(data []byte) (header, error) {
	var h header
	has := make(map[string]bool, len(requiredHeader))
	err := eachMember(data, func(name string, v json.RawMessage) error {
		var err error
		switch name {
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
		has[name] = true
		return err
	})
	if err != nil {
		return h, fmt.Errorf("%w: alb: header %w", cognito.ErrMalformedToken, err)
	}
	for _, name := range requiredHeader {
		if !has[name] {
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

func parseClaims(data []byte) (claims, error) {
	var c claims
	err := eachMember(data, func(name string, v json.RawMessage) error {
		var err error
		switch name {
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
