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

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"plain", "urn:cognito:loa:2", 64, "urn:cognito:loa:2"},
		{"an ESC sequence loses its ESC", "a\x1b[31mb", 64, "a[31mb"},
		{"an OSC sequence loses ESC and BEL", "\x1b]0;pwned\x07x", 64, "]0;pwnedx"},
		{"DEL", "a\x7fb", 64, "ab"},
		{"C1 CSI, as UTF-8", "a\u009b31mb", 64, "a31mb"},
		{"newline and tab", "a\nb\tc\r", 64, "abc"},
		{"bidi overrides", "admin\u202egnp.exe\u2066x\u2069", 64, "admingnp.exex"},
		{"cut at n bytes", "abcdef", 4, "abcd"},
		{"cut on a character boundary", "ééé", 5, "éé"},
		{"invalid UTF-8 becomes the replacement character", "a\xffb", 64, "a\ufffdb"},
		{"n zero", "abc", 0, ""},
	} {
		assert.Equal(t, tt.want, clip(tt.in, tt.n), tt.name)
	}
}
