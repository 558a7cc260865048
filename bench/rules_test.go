package bench

import (
	"context"
	"crypto"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ruleCase is a token that breaks one rule. acceptedBy names the contenders
// known not to check that rule; the README's caveats list the same gaps.
type ruleCase struct {
	name       string
	acceptedBy []string
	// token mints the case's token for a contender of kind "id" or "access".
	token func(t *testing.T, f *fixture, kind string) string
}

// claimsOf are the claims of the fixture's first token of kind, as a map to
// break rules in.
func claimsOf(t *testing.T, kind string) map[string]any {
	t.Helper()
	var src any = idClaimsFor(0)
	if kind == "access" {
		src = accessClaimsFor(0)
	}
	data, err := json.Marshal(src)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

// withClaims mints a Cognito-headed token from the claims of kind after edit.
func withClaims(edit func(m map[string]any, kind string)) func(*testing.T, *fixture, string) string {
	return func(t *testing.T, f *fixture, kind string) string {
		m := claimsOf(t, kind)
		edit(m, kind)
		raw, err := f.mint(nil, m)
		require.NoError(t, err)
		return raw
	}
}

// withHeader mints the claims of kind under header, signed over hash.
func withHeader(hash crypto.Hash, header map[string]string) func(*testing.T, *fixture, string) string {
	return func(t *testing.T, f *fixture, kind string) string {
		raw, err := f.mintWith(hash, header, claimsOf(t, kind))
		require.NoError(t, err)
		return raw
	}
}

func audClaim(kind string) string {
	if kind == "access" {
		return "client_id"
	}
	return "aud"
}

var ruleCases = []ruleCase{
	{
		name:  "valid",
		token: withClaims(func(map[string]any, string) {}),
	},
	{
		name: "signature of another token",
		token: func(t *testing.T, f *fixture, kind string) string {
			good := withClaims(func(map[string]any, string) {})(t, f, kind)
			other := withClaims(func(m map[string]any, _ string) { m["sub"] = "someone-else" })(t, f, kind)
			return other[:strings.LastIndexByte(other, '.')] + good[strings.LastIndexByte(good, '.'):]
		},
	},
	{
		name: "alg none without signature",
		token: func(t *testing.T, f *fixture, kind string) string {
			raw := withHeader(crypto.SHA256, map[string]string{"kid": keyID, "alg": "none"})(t, f, kind)
			return raw[:strings.LastIndexByte(raw, '.')+1]
		},
	},
	{
		name:  "alg RS384 signed with SHA-384",
		token: withHeader(crypto.SHA384, map[string]string{"kid": keyID, "alg": "RS384"}),
	},
	{
		name: "alg HS256 over an RS256 signature",
		// jwx takes the algorithm from the JWKS key (RS256) and does not
		// compare it with the header's: the signature is still checked as
		// RS256 with the pool's key, so this is sloppiness, not a forgery.
		acceptedBy: []string{"floor", "jwx"},
		token:      withHeader(crypto.SHA256, map[string]string{"kid": keyID, "alg": "HS256"}),
	},
	{
		name:       "kid not in the JWKS",
		acceptedBy: []string{"floor", "go-oidc"},
		token:      withHeader(crypto.SHA256, map[string]string{"kid": "not-" + keyID, "alg": "RS256"}),
	},
	{
		name:       "no kid",
		acceptedBy: []string{"floor", "go-oidc"},
		token:      withHeader(crypto.SHA256, map[string]string{"alg": "RS256"}),
	},
	{
		name:       "issuer of another pool",
		acceptedBy: []string{"floor"},
		token: withClaims(func(m map[string]any, _ string) {
			m["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool"
		}),
	},
	{
		name:       "audience of another app client",
		acceptedBy: []string{"floor"},
		token: withClaims(func(m map[string]any, kind string) {
			m[audClaim(kind)] = "6otherclient0id00000000000"
		}),
	},
	{
		name:       "no audience",
		acceptedBy: []string{"floor"},
		token:      withClaims(func(m map[string]any, kind string) { delete(m, audClaim(kind)) }),
	},
	{
		name:       "expired one second ago",
		acceptedBy: []string{"floor"},
		token: withClaims(func(m map[string]any, _ string) {
			m["iat"] = fixedNow.Add(-time.Hour).Unix()
			m["exp"] = fixedNow.Add(-time.Second).Unix()
		}),
	},
	{
		name:       "no exp",
		acceptedBy: []string{"floor"},
		token:      withClaims(func(m map[string]any, _ string) { delete(m, "exp") }),
	},
	{
		name:       "nbf an hour ahead",
		acceptedBy: []string{"floor"},
		token:      withClaims(func(m map[string]any, _ string) { m["nbf"] = fixedNow.Add(time.Hour).Unix() }),
	},
	{
		name:       "iat an hour ahead",
		acceptedBy: []string{"floor", "go-oidc"},
		token: withClaims(func(m map[string]any, _ string) {
			m["iat"] = fixedNow.Add(time.Hour).Unix()
			m["exp"] = fixedNow.Add(2 * time.Hour).Unix()
		}),
	},
	{
		name:       "token_use of the other kind",
		acceptedBy: []string{"floor"},
		token: withClaims(func(m map[string]any, kind string) {
			m["token_use"] = map[string]string{"id": "access", "access": "id"}[kind]
		}),
	},
}

// TestContendersCheckTheSameRules shows what each contender's verify checks,
// so the benchmarks compare like with like: every contender accepts the
// valid token and rejects each broken one, except where acceptedBy records
// a rule it does not check.
func TestContendersCheckTheSameRules(t *testing.T) {
	f := getFixture(t)
	for _, c := range contenders {
		t.Run(c.name, func(t *testing.T) {
			verify, err := c.setup(t, f)
			require.NoError(t, err)
			for _, rc := range ruleCases {
				t.Run(rc.name, func(t *testing.T) {
					err := verify(context.Background(), rc.token(t, f, c.kind))
					if rc.name == "valid" || slices.Contains(rc.acceptedBy, c.name) {
						assert.NoError(t, err, "expected %s to accept this token", c.name)
					} else {
						assert.Error(t, err, "expected %s to reject this token", c.name)
					}
				})
			}
		})
	}
}

// TestFixtureTokensVerify guards the benchmarks' inputs: every pre-minted
// token passes every contender, so a benchmark never times a failure path.
func TestFixtureTokensVerify(t *testing.T) {
	f := getFixture(t)
	require.Len(t, f.idTokens, distinctTokens)
	require.Len(t, f.accessTokens, distinctTokens)
	assert.Len(t, uniq(f.idTokens), distinctTokens, "ID tokens must be distinct")
	assert.Len(t, uniq(f.accessTokens), distinctTokens, "access tokens must be distinct")
	for _, c := range contenders {
		verify, err := c.setup(t, f)
		require.NoError(t, err)
		for i, raw := range c.tokens(f) {
			require.NoError(t, verify(context.Background(), raw), "%s: token %d", c.name, i)
		}
	}
}

func uniq(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}
