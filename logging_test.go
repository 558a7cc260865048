package cognito_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// logBuffer is a slog handler's output, safe for the goroutines of a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records are the logged records, each as its JSON object.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var r map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		out = append(out, r)
	}
	return out
}

func (b *logBuffer) messages(t *testing.T) []string {
	var msgs []string
	for _, r := range b.records(t) {
		msgs = append(msgs, r["level"].(string)+" "+r["msg"].(string))
	}
	return msgs
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

func TestLoggerReportsJWKSEvents(t *testing.T) {
	logger, logs := newLogger()
	f := newPoolFixture(t, cognito.WithLogger(logger))
	ctx := context.Background()
	tok := f.pool.MintAccessToken("alice")

	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
	_, err := f.v.VerifyAccessToken(ctx, tok)
	require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	_, err = f.v.VerifyAccessToken(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"WARN cognito: JWKS fetch failed",
		"WARN cognito: JWKS quiet period: unknown kids fail without a fetch",
		"INFO cognito: JWKS fetched",
	}, logs.messages(t))
	recs := logs.records(t)
	assert.Equal(t, f.cfg.KeySetURL(), recs[0]["url"])
	assert.Contains(t, recs[0]["error"], "answered 500")
	assert.Equal(t, "1m0s", recs[1]["for"])
	assert.EqualValues(t, len(f.pool.KeyIDs()), recs[2]["keys"])

	f.clock.Advance(cognito.DefaultJWKSMinRefetchPeriod) // past the quiet period
	old := f.pool.KeyIDs()
	f.pool.RotateKeys(cognitotest.DropOld)
	_, err = f.v.VerifyAccessToken(ctx, f.pool.MintAccessToken("alice"))
	require.NoError(t, err)
	recs = logs.records(t)
	require.Len(t, recs, 5)
	assert.Equal(t, "cognito: JWKS keys rotated", recs[4]["msg"])
	assert.ElementsMatch(t, f.pool.KeyIDs(), recs[4]["added"])
	assert.ElementsMatch(t, old, recs[4]["removed"])

	assert.NotContains(t, logs.String(), tok[strings.LastIndexByte(tok, '.')+1:], "no token in the logs")
}

// TestJWKSRefetchOfTheSameKeysLogsNoRotation: a refresh that finds the keys
// it had logs that it fetched them, and no rotation.
func TestJWKSRefetchOfTheSameKeysLogsNoRotation(t *testing.T) {
	logger, logs := newLogger()
	f := newPoolFixture(t, cognito.WithLogger(logger))
	require.NoError(t, f.v.Prefetch(context.Background()))
	f.clock.Advance(cognito.DefaultJWKSRefreshInterval)
	require.NoError(t, f.v.Prefetch(context.Background()))
	require.Equal(t, 2, f.pool.Requests(cognitotest.EndpointJWKS))
	assert.Equal(t, []string{"INFO cognito: JWKS fetched", "INFO cognito: JWKS fetched"}, logs.messages(t))
}

func TestLoggerReportsTokenFailures(t *testing.T) {
	logger, logs := newLogger()
	f := newM2MFixture(t, cognito.WithLogger(logger), cognito.WithRenewMargin(5*time.Minute))
	ts := f.client.TokenSource("orders/read")
	first, err := ts.Token()
	require.NoError(t, err)
	assert.Empty(t, logs.String(), "a success is not worth a line")

	f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable, Body: `{"error":"server_error"}`})
	f.clock.Advance(58 * time.Minute)
	_, err = ts.Token()
	require.NoError(t, err)

	_, err = f.client.ClientCredentials(context.Background(), "orders/nope")
	require.Error(t, err)

	recs := logs.records(t)
	require.Len(t, recs, 3)
	assert.Equal(t, "cognito: token request failed", recs[0]["msg"])
	assert.Equal(t, "client_credentials", recs[0]["grant_type"])
	assert.EqualValues(t, 503, recs[0]["status"])
	assert.Equal(t, "server_error", recs[0]["code"])
	assert.Equal(t, "cognito: M2M token renewal failed; serving the current token until it expires", recs[1]["msg"])
	assert.Equal(t, "invalid_scope", recs[2]["code"])

	out := logs.String()
	for _, secret := range []string{f.m2m.ClientSecret, first.AccessToken} {
		assert.NotContains(t, out, secret)
	}
}

func TestLoggerSilentByDefault(t *testing.T) {
	var buf logBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	f := newM2MFixture(t)
	v, err := cognito.NewVerifier(f.pool.Config(), cognito.WithLogger(nil))
	require.NoError(t, err)
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Status: http.StatusInternalServerError})
	_, err = v.VerifyAccessToken(context.Background(), f.pool.MintAccessToken("alice"))
	require.Error(t, err)
	_, err = f.client.ClientCredentials(context.Background(), "orders/nope")
	require.Error(t, err)

	assert.Empty(t, buf.String(), "no logger given: nothing logged, not even to slog's default")
}

func TestLoggerOneLinePerQuietPeriod(t *testing.T) {
	logger, logs := newLogger()
	f := newPoolFixture(t, cognito.WithLogger(logger))
	ctx := context.Background()
	_, err := f.v.VerifyAccessToken(ctx, f.pool.MintAccessToken("alice"))
	require.NoError(t, err)

	// Many tokens with unknown kids at once: one fetch, one quiet period, one line.
	f.pool.FailNext(cognitotest.EndpointJWKS, 1, cognitotest.Failure{Delay: 20 * time.Millisecond})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_, err := f.v.VerifyAccessToken(ctx, f.pool.MintAccessToken("alice", cognitotest.WithKeyID("unknown-"+string(rune('a'+i%26)))))
			assert.ErrorIs(t, err, cognito.ErrUnknownKey)
		})
	}
	wg.Wait()
	quiet := 0
	for _, m := range logs.messages(t) {
		if strings.Contains(m, "quiet period") {
			quiet++
		}
	}
	assert.Equal(t, 1, quiet, "%v", logs.messages(t))
}

// TestLoggerRefusedRefreshIsInfo: a refresh token that Cognito refuses with
// invalid_grant expired, was revoked, or was spent a moment ago by another
// replica (rotation): ordinary, so logged at Info. Every other failed token
// request, a refused code included, stays a warning.
func TestLoggerRefusedRefreshIsInfo(t *testing.T) {
	pf := newPoolFixture(t)
	logger, logs := newLogger()
	client, err := cognito.NewClient(pf.cfg, cognito.WithClock(pf.clock.Now), cognito.WithLogger(logger))
	require.NoError(t, err)
	ctx := context.Background()

	_, err = client.Refresh(ctx, "a-dead-refresh-token")
	require.ErrorIs(t, err, cognito.ErrInvalidGrant)
	pf.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusInternalServerError, Body: `{"error":"server_error"}`})
	_, err = client.Refresh(ctx, "a-dead-refresh-token")
	require.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
	_, err = client.ExchangeCode(ctx, "a-used-code")
	require.ErrorIs(t, err, cognito.ErrInvalidGrant)

	assert.Equal(t, []string{
		"INFO cognito: token request failed",
		"WARN cognito: token request failed",
		"WARN cognito: token request failed",
	}, logs.messages(t))
	recs := logs.records(t)
	assert.Equal(t, "refresh_token", recs[0]["grant_type"])
	assert.Equal(t, "invalid_grant", recs[0]["code"])
	assert.Equal(t, "authorization_code", recs[2]["grant_type"])
	assert.NotContains(t, logs.String(), "a-dead-refresh-token")
}
