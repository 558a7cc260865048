package main

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

func TestExplainStripsControlCharacters(t *testing.T) {
	tok, err := parseUnverified(b64json(`{"alg":"HS256","kid":"k\u001b[31m"}`) + "." + b64json(`{"aud":"x\u001b]0;pwned\u0007"}`) + ".sig")
	require.NoError(t, err)
	x := explain(cognito.ErrUnsupportedAlgorithm, explainContext{tok: tok})
	assert.Equal(t, `alg is "HS256" (unverified header), but Cognito signs with RS256: the token is not from a Cognito pool, or was forged`, x.Reason)
	x = explain(cognito.ErrUnknownKey, explainContext{tok: tok, jwksURL: "https://example.com/jwks.json"})
	assert.NotContains(t, x.Reason, "\x1b")
	assert.Contains(t, x.Reason, "signed by kid k[31m (unverified header)")
	x = explain(cognito.ErrInvalidAudience, explainContext{tok: tok, use: "id", clients: []string{"mine"}})
	assert.NotContains(t, x.Reason, "\x1b")
	assert.NotContains(t, x.Reason, "\x07")
	assert.Equal(t, "aud", x.Check)
}

func b64json(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
