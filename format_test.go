package cognito_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

var printVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%20v", "%-8s", "%d"}

// printed is every way fmt, log and slog print v, joined.
func printed(v any) string {
	var b strings.Builder
	for _, verb := range printVerbs {
		fmt.Fprintf(&b, verb+"\n", v)
	}
	fmt.Fprintln(&b, v)
	fmt.Fprint(&b, v, "\n")
	fmt.Fprintln(&b, []any{v}, map[string]any{"k": v})
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "v", v)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "v", v)
	return b.String()
}

func TestFmtRedactsSecrets(t *testing.T) {
	f := newClientFixture(t)
	secret := f.cfg.ClientSecret
	code := f.authorize(t)
	tokens, err := f.client.ExchangeCode(context.Background(), code)
	require.NoError(t, err)
	secrets := []string{secret, tokens.IDToken, tokens.AccessToken, tokens.RefreshToken}
	// Parts of a token give it away too: its signature, and its payload.
	for _, tok := range []string{tokens.IDToken, tokens.AccessToken} {
		parts := strings.Split(tok, ".")
		secrets = append(secrets, parts[1], parts[2])
	}

	for name, v := range map[string]any{
		"Config": f.cfg, "*Config": &f.cfg,
		"Tokens": *tokens, "*Tokens": tokens,
		"*Client": f.client,
	} {
		out := printed(v)
		for _, s := range secrets {
			require.NotContains(t, out, s, name)
		}
		assert.Contains(t, out, "[redacted]", name)
		assert.Contains(t, out, "%!d(string=[redacted])", "the redacted copy still gets the usual verbs")
	}

	out := printed(f.cfg)
	assert.Contains(t, out, f.cfg.ClientID, "what is not secret still prints")
	assert.Contains(t, out, `cognito.Config{Region:"", UserPoolID:"`+f.cfg.UserPoolID)
	assert.Contains(t, printed(tokens), "TokenType:Bearer")
	assert.Contains(t, printed(f.client), "&cognito.Client{Config:cognito.Config{")
	assert.Contains(t, printed((*cognito.Client)(nil)), "(*cognito.Client)(nil)")

	public := cognito.Config{ClientID: "x"}
	assert.NotContains(t, fmt.Sprintf("%+v", public), "[redacted]", "nothing to hide: an empty secret prints empty")
	assert.Equal(t, fmt.Sprintf("%v", f.cfg), f.cfg.String())
	assert.Equal(t, fmt.Sprintf("%#v", f.cfg), f.cfg.GoString())
	assert.Equal(t, fmt.Sprintf("%#v", *tokens), tokens.GoString())
	assert.Equal(t, fmt.Sprintf("%v", f.client), f.client.String())
}

// TestFmtHidesURLPasswords: a Config prints every URL field without its
// password, in every verb and through slog.
func TestFmtHidesURLPasswords(t *testing.T) {
	cfg := cognito.Config{
		UserPoolID:  "us-east-1_AbC123",
		ClientID:    "client",
		Domain:      "https://d:s3cret-domain@myapp.example.com",
		RedirectURI: "https://r:s3cret-redirect@app.example.com/cb",
		LogoutURI:   "https://l:s3cret-logout@app.example.com/bye",
		Issuer:      "https://i:s3cret-issuer@issuer.example.com/pool",
		JWKSURL:     "https://j:s3cret-jwks@keys.example.com/jwks.json",
	}
	for name, v := range map[string]any{"Config": cfg, "*Config": &cfg} {
		out := printed(v)
		assert.NotContains(t, out, "s3cret", name)
		for _, u := range []string{"d:xxxxx@myapp.example.com", "r:xxxxx@app.example.com/cb", "l:xxxxx@app.example.com/bye",
			"i:xxxxx@issuer.example.com/pool", "j:xxxxx@keys.example.com/jwks.json"} {
			assert.Contains(t, out, u, name)
		}
	}
	assert.Equal(t, "https://d:s3cret-domain@myapp.example.com", cfg.Domain, "printing changes a copy only")

	// Callback URLs may carry user info and still validate: a Client keeps it.
	valid := cognito.Config{UserPoolID: "us-east-1_AbC123", ClientID: "client", Domain: "https://myapp.example.com",
		RedirectURI: "https://r:s3cret-redirect@app.example.com/cb", LogoutURI: "https://l:s3cret-logout@app.example.com/bye"}
	client, err := cognito.NewClient(valid)
	require.NoError(t, err)
	out := printed(client)
	assert.NotContains(t, out, "s3cret")
	assert.Contains(t, out, "r:xxxxx@app.example.com/cb")
}

func TestFmtPrintsVerifiedTokensReadably(t *testing.T) {
	f := newPoolFixture(t)
	ctx := context.Background()
	raw := f.pool.MintIDToken("alice", cognitotest.WithClaim("secret_claim", "s3cr3t-value"))
	id, err := f.v.VerifyIDToken(ctx, raw)
	require.NoError(t, err)
	at, err := f.v.VerifyAccessToken(ctx, f.pool.MintAccessToken("alice", cognitotest.WithClaim("secret_claim", "s3cr3t-value")))
	require.NoError(t, err)

	for name, v := range map[string]any{"*IDToken": id, "IDToken": *id, "*AccessToken": at, "AccessToken": *at} {
		out := printed(v)
		assert.NotContains(t, out, "s3cr3t-value", name)
		assert.NotContains(t, out, "123 34", name, "no raw claim bytes as numbers")
		assert.Contains(t, out, "alice", name)
	}
	assert.Contains(t, fmt.Sprintf("%+v", id), "Email:alice@example.com")
	assert.Contains(t, fmt.Sprintf("%#v", at), `cognito.AccessToken{Subject:"`)
	assert.Equal(t, fmt.Sprintf("%v", id), id.String())
	assert.Equal(t, fmt.Sprintf("%v", at), at.String())

	var c map[string]any
	require.NoError(t, id.Claims(&c))
	assert.Equal(t, "s3cr3t-value", c["secret_claim"], "printing does not touch the claims")
}
