package cognito

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Fuzz targets of the parsers, from the inside (see fuzz_test.go for how to
// run them). Each checks a property against encoding/json or the function's
// contract, not just the absence of panics.

var fuzzJSONSeeds = []string{
	`{"kid":"abc","alg":"RS256"}`,
	`{"alg":"RS256","kid":"a","alg":"none"}`,
	`{"\u0061lg":"RS256","alg":"none"}`,
	`{"crit":["b64"],"b64":false,"alg":"RS256","kid":"k"}`,
	`{"sub":"s","iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123","aud":"c","token_use":"id","exp":1795000000,"iat":1794990000}`,
	`{"sub":"s","exp":1.5e9,"nbf":0.25,"aud":["a","b"],"cognito:groups":["x"],"email_verified":"true","scope":"a b"}`,
	`{"exp":"1795000000","aud":1,"token_use":["id"],"cognito:groups":"admins","email_verified":1}`,
	`{"a":{"b":[1,2,{"c":"}"}]},"d":"\"","e":null,"f":true,"g":-0.0e-0}`,
	` { "x" : [ ] , "y" : { } } `,
	`{"é":"\ud83d\ude00","\u00e9":1}`,
	`{"exp":253402300799,"iat":253402300800}`,
	`{"sub":"s","exp":1,"SUB":"t"}`, `{"sub":"s","exp":1,"\u017fub":"t"}`, `{"EMAIL":"e","exp":1}`,
	`{"K":"k","exp":1,"k":"x"}`, `{"Custom:X":1,"exp":1,"custom:x":2}`,
	`[]`, `null`, `"s"`, `{`, `{"a":1,}`, `{"a" 1}`, ``,
}

func FuzzEachMember(f *testing.F) {
	for _, s := range fuzzJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzEachMember(t, data, false)
		fuzzEachMember(t, data, true)
	})
}

func fuzzEachMember(t *testing.T, data []byte, fold bool) {
	var names []string
	var values [][]byte
	err := scanMembers(data, fold, func(name, value []byte) error {
		names = append(names, string(name))
		values = append(values, bytes.Clone(value))
		return nil
	})
	if errors.Is(err, errTooDeep) {
		return // deeper than encoding/json's limit is valid to it, not to us
	}
	jsonNames, jsonValues, isObject := topLevelMembers(data)
	if !isObject {
		if err == nil {
			t.Fatalf("eachMember accepted %q, which encoding/json does not take for an object", data)
		}
		return
	}
	// With fold, names repeat each other when encoding/json would match
	// them to one struct field: its foldName is documented to agree
	// with bytes.EqualFold.
	dup := false
	for i, n := range jsonNames {
		for _, m := range jsonNames[:i] {
			dup = dup || n == m || fold && strings.EqualFold(n, m)
		}
	}
	if dup != (err != nil) {
		t.Fatalf("eachMember(%q, fold %v) = %v, but encoding/json sees repeated names: %v (names %q)", data, fold, err, dup, jsonNames)
	}
	if err != nil {
		return
	}
	if !slices.Equal(names, jsonNames) {
		t.Fatalf("eachMember names %q, encoding/json names %q", names, jsonNames)
	}
	for i := range values {
		if !bytes.Equal(values[i], jsonValues[i]) {
			t.Fatalf("member %q: eachMember value %q, encoding/json value %q", names[i], values[i], jsonValues[i])
		}
	}
}

// topLevelMembers lists the names and raw values of the members of the JSON
// object data as encoding/json reads them, and whether data is one.
func topLevelMembers(data []byte) (names []string, values [][]byte, ok bool) {
	if !json.Valid(data) {
		return nil, nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		names = append(names, tok.(string))
		values = append(values, v)
	}
	return names, values, true
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range fuzzJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseHeader(data)
		if err != nil {
			if !errors.Is(err, ErrMalformedToken) || !strings.HasPrefix(err.Error(), "cognito: ") {
				t.Fatalf("parseHeader error %v is not ErrMalformedToken", err)
			}
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil || m == nil {
			t.Fatalf("parseHeader accepted %q, which encoding/json refuses: %v", data, err)
		}
		if _, ok := m["crit"]; ok {
			t.Fatalf("parseHeader accepted crit in %q", data)
		}
		var alg, kid string
		if json.Unmarshal(m["alg"], &alg) != nil || alg != h.alg || alg == "" {
			t.Fatalf("alg %q, encoding/json reads %q", h.alg, m["alg"])
		}
		if k, ok := m["kid"]; ok && (json.Unmarshal(k, &kid) != nil || kid != h.kid) {
			t.Fatalf("kid %q, encoding/json reads %q", h.kid, k)
		}
	})
}

func FuzzParseClaims(f *testing.F) {
	for _, s := range fuzzJSONSeeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, id bool) {
		use := "access"
		if id {
			use = "id"
		}
		c, err := parseClaims(data, use)
		if err != nil {
			if !errors.Is(err, ErrMalformedToken) || !strings.HasPrefix(err.Error(), "cognito: ") {
				t.Fatalf("parseClaims error %v is not ErrMalformedToken", err)
			}
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil || m == nil {
			t.Fatalf("parseClaims accepted %q, which encoding/json refuses: %v", data, err)
		}
		// Claims(v) decodes with encoding/json, which matches names to
		// fields ignoring case: each field must get the very member the
		// typed fields read, or none when the token has none.
		var tagged claimFields
		if err := json.Unmarshal(data, &tagged); err != nil {
			t.Fatalf("encoding/json refuses %q into RawMessage fields: %v", data, err)
		}
		for name, got := range tagged.byName() {
			if want, ok := m[name]; !bytes.Equal(*got, want) || ok != (*got != nil) {
				t.Fatalf("Claims(v) reads %s as %s, the typed fields as %s", name, *got, want)
			}
		}
		str := func(name string, got string, present bool) {
			raw, ok := m[name]
			var want string
			if ok && (raw[0] != '"' || json.Unmarshal(raw, &want) != nil) {
				t.Fatalf("claim %s = %s accepted as a string", name, raw)
			}
			if present && got != want {
				t.Fatalf("claim %s: parseClaims %q, encoding/json %q", name, got, want)
			}
		}
		str("iss", c.iss.String(), true)
		str("token_use", c.tokenUse.String(), true)
		str("client_id", c.clientID.String(), true)
		str("sub", c.sub, true)
		str("email", c.email, true)
		str("name", c.name, true)
		str("nonce", c.nonce, true)
		str("scope", c.scope, true)
		str(usernameClaim[use], c.username, true)
		str("acr", c.acr, true)
		for _, other := range []string{"username", "cognito:username", "jti", "origin_jti", "event_id", "at_hash"} {
			str(other, "", false)
		}
		for name, got := range map[string][]string{"cognito:groups": c.groups, "amr": c.amr} {
			raw, ok := m[name]
			if !ok {
				continue
			}
			var want []string
			if json.Unmarshal(raw, &want) != nil || want == nil {
				t.Fatalf("%s = %s accepted as an array of strings", name, raw)
			}
			if !slices.Equal(got, want) && len(got)+len(want) > 0 {
				t.Fatalf("%s: parseClaims %q, encoding/json %q", name, got, want)
			}
		}
		if raw, ok := m["email_verified"]; ok {
			var b bool
			var s string
			switch {
			case json.Unmarshal(raw, &b) == nil && raw[0] != 'n':
			case json.Unmarshal(raw, &s) == nil && (s == "true" || s == "false"):
				b = s == "true"
			default:
				t.Fatalf("email_verified = %s accepted", raw)
			}
			if b != c.emailVerified {
				t.Fatalf("email_verified: parseClaims %v, encoding/json %s", c.emailVerified, raw)
			}
		}
		if raw, ok := m["aud"]; ok {
			var one string
			var many []string
			switch {
			case json.Unmarshal(raw, &one) == nil && raw[0] == '"':
				many = []string{one}
			case json.Unmarshal(raw, &many) == nil && raw[0] == '[':
			default:
				t.Fatalf("aud = %s accepted", raw)
			}
			var azp string
			rawAzp, hasAzp := m["azp"]
			hasAzp = hasAzp && json.Unmarshal(rawAzp, &azp) == nil
			for _, a := range append(many, "cognitokit-not-an-audience") {
				// With several audiences, azp must name the client (OIDC Core
				// 3.1.3.7); an absent azp names none, not "".
				want := slices.Contains(many, a) && (len(many) == 1 || raw[0] == '"' || hasAzp && azp == a)
				if c.audience(a) != want {
					t.Fatalf("audience(%q) = %v for aud %s", a, c.audience(a), raw)
				}
			}
		} else if c.audience("") {
			t.Fatalf("a token without aud has an audience")
		}
		dates := map[string]time.Time{"exp": c.exp, "nbf": c.nbf, "iat": c.iat, "auth_time": c.authTime}
		for name, got := range dates {
			raw, ok := m[name]
			if !ok {
				if !got.IsZero() || name == "exp" {
					t.Fatalf("claim %s absent but parsed as %v", name, got)
				}
				continue
			}
			var secs float64
			if json.Unmarshal(raw, &secs) != nil || raw[0] == 'n' {
				t.Fatalf("claim %s = %s accepted as a NumericDate", name, raw)
			}
			if secs < 0 || secs > maxNumericDate || math.IsNaN(secs) {
				t.Fatalf("claim %s = %s accepted out of range", name, raw)
			}
			whole, frac := math.Modf(secs)
			if got.Unix() != int64(whole) || math.Abs(float64(got.Nanosecond())-frac*1e9) > 1 {
				t.Fatalf("claim %s = %s parsed as %v, encoding/json reads %v s", name, raw, got.UTC(), secs)
			}
		}
	})
}

// claimFields has a field for every claim parseClaims reads, as a user of
// Claims(v) would tag it.
type claimFields struct {
	Iss           json.RawMessage `json:"iss"`
	TokenUse      json.RawMessage `json:"token_use"`
	ClientID      json.RawMessage `json:"client_id"`
	Azp           json.RawMessage `json:"azp"`
	Sub           json.RawMessage `json:"sub"`
	Username      json.RawMessage `json:"username"`
	CogUsername   json.RawMessage `json:"cognito:username"`
	Email         json.RawMessage `json:"email"`
	Name          json.RawMessage `json:"name"`
	Nonce         json.RawMessage `json:"nonce"`
	Scope         json.RawMessage `json:"scope"`
	Jti           json.RawMessage `json:"jti"`
	OriginJti     json.RawMessage `json:"origin_jti"`
	EventID       json.RawMessage `json:"event_id"`
	AtHash        json.RawMessage `json:"at_hash"`
	Aud           json.RawMessage `json:"aud"`
	Groups        json.RawMessage `json:"cognito:groups"`
	EmailVerified json.RawMessage `json:"email_verified"`
	Exp           json.RawMessage `json:"exp"`
	Nbf           json.RawMessage `json:"nbf"`
	Iat           json.RawMessage `json:"iat"`
	AuthTime      json.RawMessage `json:"auth_time"`
	ACR           json.RawMessage `json:"acr"`
	AMR           json.RawMessage `json:"amr"`
}

func (c *claimFields) byName() map[string]*json.RawMessage {
	return map[string]*json.RawMessage{
		"iss": &c.Iss, "token_use": &c.TokenUse, "client_id": &c.ClientID, "azp": &c.Azp, "sub": &c.Sub,
		"username": &c.Username, "cognito:username": &c.CogUsername, "email": &c.Email, "name": &c.Name,
		"nonce": &c.Nonce, "scope": &c.Scope, "jti": &c.Jti, "origin_jti": &c.OriginJti, "event_id": &c.EventID,
		"at_hash": &c.AtHash, "aud": &c.Aud, "cognito:groups": &c.Groups, "email_verified": &c.EmailVerified,
		"exp": &c.Exp, "nbf": &c.Nbf, "iat": &c.Iat, "auth_time": &c.AuthTime, "acr": &c.ACR, "amr": &c.AMR,
	}
}

func TestClaimFieldsCoverEveryClaimRead(t *testing.T) {
	// The fuzzer's struct stands for every typed field: it must name every
	// claim parseClaims reads.
	var c claimFields
	require.Len(t, c.byName(), len(readClaims))
	for name := range c.byName() {
		require.True(t, readClaims.Holds([]byte(name)), name)
	}
}

func FuzzParseJWKS(f *testing.F) {
	for _, s := range []string{
		`{"keys":[]}`,
		`{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`,
		`{"keys":[{"kty":"RSA","kid":"k","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}`,
		`{"keys":null}`, `{"keys":{}}`, `[]`, `null`, ``, `{"keys":[null,1,"x",[]]}`,
	} {
		f.Add([]byte(s))
	}
	for _, k := range fuzzRSAJWKs(f) {
		f.Add([]byte(`{"keys":[` + k + `]}`))
		f.Add([]byte(`{"keys":[` + k + `,` + k + `]}`))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := parseJWKS(body)
		if err != nil {
			if keys != nil {
				t.Fatalf("parseJWKS returned keys with an error")
			}
			return
		}
		var doc struct{ Keys []json.RawMessage }
		if json.Unmarshal(body, &doc) != nil || len(keys) == 0 || len(keys) > len(doc.Keys) {
			t.Fatalf("parseJWKS kept %d keys of %q", len(keys), body)
		}
		for kid, k := range keys {
			if kid == "" || k == nil || k.pub == nil || k.pub.N == nil {
				t.Fatalf("parseJWKS kept an empty key under %q", kid)
			}
			if b := k.pub.N.BitLen(); b < minRSABits || b > maxRSABits || k.pub.E < 3 || k.pub.E%2 == 0 {
				t.Fatalf("parseJWKS kept kid %q: %d bits, e=%d", kid, b, k.pub.E)
			}
		}
	})
}

// fuzzRSAJWKs are real RSA JWKs in Cognito's shape and a few of its
// variants, to start the JWKS fuzzer from.
func fuzzRSAJWKs(f *testing.F) []string {
	f.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	n := base64.RawURLEncoding.EncodeToString(key.N.Bytes())
	return []string{
		`{"alg":"RS256","e":"AQAB","kid":"abcdefghijklmnopqrsexample=","kty":"RSA","n":"` + n + `","use":"sig"}`,
		`{"alg":"RS512","e":"AQAB","kid":"k2","kty":"RSA","n":"` + n + `"}`,
		`{"e":"AQAB","kid":"k3","kty":"RSA","n":"` + n + `","use":"enc"}`,
		`{"e":"AQAB","kid":"k4","kty":"RSA","n":"` + n + `","key_ops":["verify","sign"]}`,
		`{"e":"AQ","kid":"k5","kty":"RSA","n":"` + n + `"}`,
		`{"e":"AQAB","kty":"RSA","n":"` + n + `"}`,
	}
}

func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range []string{
		`{"id_token":"eyJ.a.b","access_token":"eyJ.c.d","refresh_token":"eyJ.e.f","expires_in":3600,"token_type":"Bearer"}`,
		`{"access_token":"a","expires_in":3600,"token_type":"bearer"}`,
		`{"id_token":"i","access_token":"a","refresh_token":"r","expires_in":0}`,
		`{"id_token":"i","access_token":"a","expires_in":3600,"token_type":"MAC"}`,
		`{"id_token":"i","access_token":"a","expires_in":"3600"}`,
		`{"error":"invalid_grant"}`,
		`<html>502 Bad Gateway</html>`,
		`{"id_token":"i","access_token":"a","expires_in":3600`,
		`{"access_token":null,"expires_in":-1}`,
		``, `null`, `[]`,
	} {
		f.Add([]byte(s), true, "")
		f.Add([]byte(s), false, "kept-refresh-token")
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, needID bool, keepRefresh string) {
		tok, err := parseTokenResponse(body, needID, keepRefresh, now)
		if err != nil {
			if tok != nil || !errors.Is(err, ErrEndpointUnavailable) {
				t.Fatalf("parseTokenResponse: %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "cognito: ") || len(msg) > 512 ||
				strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("ill-formed error message %q", msg)
			}
			var wire struct{ IDToken, AccessToken, RefreshToken string }
			_ = json.Unmarshal(body, &wire)
			for _, secret := range []string{wire.IDToken, wire.AccessToken, wire.RefreshToken, keepRefresh} {
				if len(secret) >= 8 && strings.Contains(msg, secret) {
					t.Fatalf("error message %q reveals a token", msg)
				}
			}
			return
		}
		switch {
		case tok.AccessToken == "":
			t.Fatalf("success without an access token")
		case needID && tok.IDToken == "":
			t.Fatalf("success without the ID token")
		case tok.RefreshToken == "":
			t.Fatalf("success without a refresh token")
		case tok.TokenType != "Bearer":
			t.Fatalf("token type %q", tok.TokenType)
		case !tok.Expiry.After(now):
			t.Fatalf("tokens expire at %v, not after %v (body %q)", tok.Expiry, now, body)
		}
	})
}

func TestEachMemberRepeatsAmongManyMembers(t *testing.T) {
	// Past the first names the check moves to a map: repeats are still found,
	// wherever they stand.
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 5000 {
		fmt.Fprintf(&b, `"m%d":%d,`, i, i)
	}
	for _, dup := range []string{`"m3"`, `"m4999"`, `"\u006d100"`} {
		doc := b.String() + dup + `:0}`
		for _, fold := range []bool{false, true} {
			require.ErrorContains(t, scanMembers([]byte(doc), fold, func(_, _ []byte) error { return nil }), "repeats member", dup)
		}
	}
	for _, dup := range []string{`"M3"`, `"\u017f"`, `"K"`} { // ſ and the Kelvin sign
		doc := b.String() + `"s":0,"k":0,` + dup + `:0}`
		require.NoError(t, eachMember([]byte(doc), func(_, _ []byte) error { return nil }))
		require.ErrorContains(t, eachMemberFolded([]byte(doc), func(_, _ []byte) error { return nil }), "repeats member", dup)
	}
	require.NoError(t, eachMemberFolded([]byte(b.String()+`"last":0}`), func(_, _ []byte) error { return nil }))
}
