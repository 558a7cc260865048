package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// startFakePool runs fake-pool in process with args, on clk, and returns
// the Config its printed variables describe (with redirectURI), and stop,
// which interrupts it, checks that it exited 0 and returns its standard
// error. The test's end stops it too.
func startFakePool(t *testing.T, clk *cognitotest.Clock, redirectURI string, args ...string) (cfg cognito.Config, stop func() string) {
	t.Helper()
	stdoutR, stdoutW := io.Pipe()
	var stderr bytes.Buffer // written by fake-pool through its own lock, read once it has exited
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		e := &env{stdin: strings.NewReader(""), stdout: stdoutW, stderr: &stderr, getenv: func(string) string { return "" }, now: clk.Now}
		done <- run(ctx, append([]string{"fake-pool", "--addr", "127.0.0.1:0", "--redirect-uri", redirectURI}, args...), e)
		stdoutW.Close()
	}()
	stop = sync.OnceValue(func() string {
		cancel()
		assert.Equal(t, exitOK, <-done, "fake-pool exits 0 once interrupted")
		return stderr.String()
	})
	t.Cleanup(func() { stop() })
	vars := map[string]string{}
	for _, kv := range readVars(t, stdoutR, 5) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	return cognito.Config{
		UserPoolID: vars["COGNITO_USER_POOL_ID"], ClientID: vars["COGNITO_CLIENT_ID"], ClientSecret: vars["COGNITO_CLIENT_SECRET"],
		Domain: vars["COGNITO_DOMAIN"], Issuer: vars["COGNITO_ISSUER"], RedirectURI: redirectURI,
	}, stop
}

// TestFakePoolLifetimesOnTheCommandsClock runs fake-pool on a Clock and
// watches its flags at work: the tokens' lifetime, rotation with a grace
// period, and the refresh tokens' lifetime, each to the second, and each
// request's line on stderr.
func TestFakePoolLifetimesOnTheCommandsClock(t *testing.T) {
	clk := cognitotest.NewClock(testNow)
	codes := make(chan string, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes <- r.URL.Query().Get("code")
	}))
	t.Cleanup(app.Close)
	cfg, stop := startFakePool(t, clk, app.URL+"/callback", "--user", "bob:pw-of-bob",
		"--token-lifetime", "5m", "--refresh-token-lifetime", "2h", "--rotate-refresh-tokens", "--retry-grace-period", "30s")

	verifier := cognito.GenerateVerifier()
	status, _, err := browse(cfg.LoginURL("st4te", cognito.WithPKCE(verifier)), "bob", "pw-of-bob")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	client, err := cognito.NewClient(cfg, cognito.WithClock(clk.Now))
	require.NoError(t, err)
	ctx := t.Context()
	signIn, err := client.ExchangeCode(ctx, <-codes, cognito.WithCodeVerifier(verifier))
	require.NoError(t, err)
	assert.True(t, testNow.Add(5*time.Minute).Equal(signIn.Expiry), "--token-lifetime 5m: %v", signIn.Expiry)
	v, err := cognito.NewVerifier(cfg, cognito.WithClock(clk.Now))
	require.NoError(t, err)
	id, err := v.VerifyIDToken(ctx, signIn.IDToken)
	require.NoError(t, err)
	assert.True(t, testNow.Add(5*time.Minute).Equal(id.Expiry), "the ID token's exp: %v", id.Expiry)

	// Rotation: a new refresh token each time; the spent one works 30s more.
	first, err := client.Refresh(ctx, signIn.RefreshToken)
	require.NoError(t, err)
	require.NotEqual(t, signIn.RefreshToken, first.RefreshToken, "--rotate-refresh-tokens")
	clk.Advance(30*time.Second - time.Second)
	second, err := client.Refresh(ctx, signIn.RefreshToken)
	require.NoError(t, err, "29s after it was spent: within --retry-grace-period 30s")
	clk.Advance(time.Second)
	_, err = client.Refresh(ctx, signIn.RefreshToken)
	assert.ErrorIs(t, err, cognito.ErrInvalidGrant, "30s after it was spent")

	// Two refresh tokens issued at the same moment: one is used a second
	// before --refresh-token-lifetime 2h is up, the other as it is up.
	clk.Advance(2*time.Hour - 29*time.Second - time.Second) // first and second were issued 29s apart; second 2h-1s ago
	_, err = client.Refresh(ctx, second.RefreshToken)
	require.NoError(t, err, "1s before --refresh-token-lifetime 2h")
	_, err = client.Refresh(ctx, first.RefreshToken)
	assert.ErrorIs(t, err, cognito.ErrInvalidGrant, "2h and 29s after it was issued")

	log := stop()
	assert.Contains(t, log, "fake-pool: ID and access tokens last 5m, refresh tokens 2h; refresh tokens rotate, and a spent one works 30s more\n")
	assert.Equal(t, 1, strings.Count(log, `msg="token request" grant_type=authorization_code client_id=cognitotest0client0id00000 status=200`+"\n"))
	assert.Equal(t, 3, strings.Count(log, `msg="token request" grant_type=refresh_token client_id=cognitotest0client0id00000 status=200`+"\n"))
	assert.Equal(t, 1, strings.Count(log, `status=400 error=invalid_grant error_description="Invalid Refresh Token"`+"\n"), "the spent one, after the grace period")
	assert.Equal(t, 1, strings.Count(log, `status=400 error=invalid_grant error_description="Refresh Token has expired"`+"\n"), "the one that outlived 2h")
	for _, secret := range []string{signIn.RefreshToken, first.RefreshToken, signIn.AccessToken, cfg.ClientSecret, "pw-of-bob"} {
		assert.NotContains(t, log, secret)
	}
}

func TestFakePoolRefusesBadLifetimes(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"a negative token lifetime", []string{"--token-lifetime", "-1m"}, "--token-lifetime -1m0s must be positive"},
		{"a zero token lifetime", []string{"--token-lifetime", "0s"}, "--token-lifetime 0s must be positive"},
		{"a token lifetime over a day", []string{"--token-lifetime", "24h0m1s"}, "--token-lifetime 24h0m1s is over Cognito's limit of 24h"},
		{"a token lifetime in milliseconds", []string{"--token-lifetime", "90500ms"}, "--token-lifetime 1m30.5s is not a whole number of seconds, as tokens count them"},
		{"a zero refresh token lifetime", []string{"--refresh-token-lifetime", "0s"}, "--refresh-token-lifetime 0s must be positive"},
		{"a refresh token lifetime over ten years", []string{"--refresh-token-lifetime", "87600h1s"}, "--refresh-token-lifetime 87600h0m1s is over Cognito's limit of 87600h"},
		{"refresh tokens shorter than the tokens", []string{"--token-lifetime", "2h", "--refresh-token-lifetime", "1h"},
			"--refresh-token-lifetime (1h) must be longer than --token-lifetime (2h): refresh tokens outlive the tokens they renew"},
		{"refresh tokens as long as the tokens", []string{"--token-lifetime", "1h", "--refresh-token-lifetime", "60m"}, "must be longer than --token-lifetime"},
		{"a negative grace period", []string{"--rotate-refresh-tokens", "--retry-grace-period", "-1s"}, "--retry-grace-period -1s must not be negative"},
		{"a grace period over a minute", []string{"--rotate-refresh-tokens", "--retry-grace-period", "61s"}, "--retry-grace-period 1m1s is over Cognito's limit of 1m"},
		{"a grace period without rotation", []string{"--retry-grace-period", "10s"}, "--retry-grace-period needs --rotate-refresh-tokens"},
		{"a zero grace period without rotation", []string{"--retry-grace-period", "0s"}, "--retry-grace-period needs --rotate-refresh-tokens"},
		{"not a duration", []string{"--refresh-token-lifetime", "forever"}, `invalid value "forever" for flag -refresh-token-lifetime`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, now: time.Now}
			code := run(t.Context(), append([]string{"fake-pool", "--addr", "127.0.0.1:0"}, tt.args...), e)
			assert.Equal(t, exitUsage, code)
			assert.Equal(t, "cognito fake-pool: ", stderr.String()[:19])
			assert.Contains(t, strings.SplitN(stderr.String(), "\n", 2)[0], tt.want)
			assert.Contains(t, stderr.String(), `run "cognito help fake-pool" for usage`)
			assert.Empty(t, stdout.String(), "no pool started")
		})
	}

	t.Run("the limits themselves are allowed", func(t *testing.T) {
		clk := cognitotest.NewClock(testNow)
		cfg, stop := startFakePool(t, clk, "http://127.0.0.1:1/callback", "--token-lifetime", "24h", "--refresh-token-lifetime", "87600h",
			"--rotate-refresh-tokens", "--retry-grace-period", "60s")
		assert.NotEmpty(t, cfg.Domain)
		assert.Contains(t, stop(), "ID and access tokens last 24h, refresh tokens 87600h; refresh tokens rotate, and a spent one works 1m more")
	})
	t.Run("below Cognito's minimums, to watch a refresh", func(t *testing.T) {
		clk := cognitotest.NewClock(testNow)
		_, stop := startFakePool(t, clk, "http://127.0.0.1:1/callback", "--token-lifetime", "1s", "--refresh-token-lifetime", "2s")
		assert.Contains(t, stop(), "ID and access tokens last 1s, refresh tokens 2s\n")
	})
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 720 * time.Hour: "720h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s",
		10 * time.Second: "10s", time.Minute: "1m", 2*time.Hour + 5*time.Second: "2h0m5s", 0: "0s",
	} {
		assert.Equal(t, want, shortDuration(d), "%v", d)
	}
}
