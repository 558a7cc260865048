package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// m2mFixture is a fake pool with a web client (the server's own) and an M2M
// client allowed two resource-server scopes, on one clock.
type m2mFixture struct {
	pool   *cognitotest.Server
	clock  *cognitotest.Clock
	m2m    cognitotest.AppClient
	cfg    cognito.Config // the M2M client's
	client *cognito.Client
}

func newM2MFixture(t *testing.T, opts ...cognito.Option) *m2mFixture {
	t.Helper()
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now))
	m2m, err := pool.AddClient(cognitotest.AppClient{ClientID: "orderssvc", Scopes: []string{"orders/read", "orders/write"}})
	require.NoError(t, err)
	cfg := pool.ClientConfig(m2m)
	client, err := cognito.NewClient(cfg, append([]cognito.Option{cognito.WithClock(clock.Now)}, opts...)...)
	require.NoError(t, err)
	return &m2mFixture{pool: pool, clock: clock, m2m: m2m, cfg: cfg, client: client}
}

func TestClientCredentials(t *testing.T) {
	f := newM2MFixture(t)
	v, err := cognito.NewVerifier(f.pool.Config(), cognito.WithClientIDs(f.m2m.ClientID), cognito.WithClock(f.clock.Now))
	require.NoError(t, err)

	tokens, err := f.client.ClientCredentials(context.Background(), "orders/read")
	require.NoError(t, err)
	assert.Empty(t, tokens.IDToken, "no user, no ID token")
	assert.Empty(t, tokens.RefreshToken, "client_credentials never gives a refresh token")
	assert.Equal(t, "Bearer", tokens.TokenType)
	assert.Equal(t, f.clock.Now().Add(cognitotest.DefaultTokenLifetime), tokens.Expiry)

	at, err := v.VerifyAccessToken(context.Background(), tokens.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "orderssvc", at.ClientID)
	assert.Equal(t, "orderssvc", at.Subject, "the client is its own subject")
	assert.Empty(t, at.Username)
	assert.Equal(t, []string{"orders/read"}, at.Scopes)

	all, err := f.client.ClientCredentials(context.Background())
	require.NoError(t, err)
	at, err = v.VerifyAccessToken(context.Background(), all.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, []string{"orders/read", "orders/write"}, at.Scopes, "no scope asked: every resource-server scope of the client")
}

func TestClientCredentialsRefusals(t *testing.T) {
	f := newM2MFixture(t)

	_, err := f.client.ClientCredentials(context.Background(), "orders/delete")
	var oe *cognito.OAuthError
	require.ErrorAs(t, err, &oe, "an unknown scope is the endpoint's answer")
	assert.Equal(t, "invalid_scope", oe.Code)
	assert.Equal(t, http.StatusBadRequest, oe.StatusCode)
	assert.ErrorIs(t, err, cognito.ErrInvalidRequest)
	assert.NotErrorIs(t, err, cognito.ErrEndpointUnavailable)

	_, err = f.client.ClientCredentials(context.Background(), "orders/read extra")
	assert.ErrorIs(t, err, cognito.ErrInvalidRequest, "a scope with a space would smuggle a second scope")

	wrong := f.cfg
	wrong.ClientSecret = "not-the-secret"
	c, err := cognito.NewClient(wrong)
	require.NoError(t, err)
	_, err = c.ClientCredentials(context.Background())
	assert.ErrorIs(t, err, cognito.ErrInvalidClient)
	assertNoSecrets(t, err, "not-the-secret", f.m2m.ClientSecret)

	public, err := f.pool.AddClient(cognitotest.AppClient{ClientID: "spa", Public: true})
	require.NoError(t, err)
	c, err = cognito.NewClient(f.pool.ClientConfig(public))
	require.NoError(t, err)
	f.pool.ResetCounts()
	_, err = c.ClientCredentials(context.Background())
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "a public client cannot authenticate: refused before any request")
	assert.Zero(t, f.pool.Requests(cognitotest.EndpointToken))

	f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Status: http.StatusServiceUnavailable})
	_, err = f.client.ClientCredentials(context.Background())
	assert.ErrorIs(t, err, cognito.ErrEndpointUnavailable)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = f.client.ClientCredentials(ctx)
	assert.ErrorIs(t, err, cognito.ErrEndpointUnavailable)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTokenSourceOneRequestForManyCallers(t *testing.T) {
	f := newM2MFixture(t)
	// Hold the first answer back so that the callers pile up behind it.
	f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Delay: 50 * time.Millisecond})
	ts := f.client.TokenSource("orders/read")

	const callers = 1000
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			tok, err := ts.Token()
			errs[i] = err
			if err == nil {
				tokens[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()

	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "one token request for every caller")
	for i := range callers {
		require.NoError(t, errs[i])
		require.Equal(t, tokens[0], tokens[i])
	}
	assert.NotEmpty(t, tokens[0])
}

func TestTokenSourceCachesAndRenewsInsideTheMargin(t *testing.T) {
	f := newM2MFixture(t, cognito.WithRenewMargin(2*time.Minute))
	ts := f.client.TokenSource()

	first, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, "Bearer", first.TokenType)
	assert.Equal(t, f.clock.Now().Add(time.Hour), first.Expiry)

	f.clock.Advance(time.Hour - 2*time.Minute - time.Second) // one second before the margin
	again, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, first.AccessToken, again.AccessToken)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "the cached token until the margin")

	f.clock.Advance(time.Second) // inside the margin, still valid
	renewed, err := ts.Token()
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, renewed.AccessToken)
	assert.Equal(t, f.clock.Now().Add(time.Hour), renewed.Expiry)
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken))

	renewed.AccessToken = "changed by a caller"
	mine, err := ts.Token()
	require.NoError(t, err)
	assert.NotEqual(t, "changed by a caller", mine.AccessToken, "each caller gets its own copy")
}

func TestTokenSourceMarginIsAtMostHalfTheLifetime(t *testing.T) {
	clock := newTestClock()
	pool := cognitotest.NewServer(t, cognitotest.WithClock(clock.Now), cognitotest.WithTokenLifetimes(5*time.Minute, 0))
	m2m, err := pool.AddClient(cognitotest.AppClient{Scopes: []string{"orders/read"}})
	require.NoError(t, err)
	client, err := cognito.NewClient(pool.ClientConfig(m2m), cognito.WithClock(clock.Now), cognito.WithRenewMargin(time.Hour))
	require.NoError(t, err)
	ts := client.TokenSource()

	_, err = ts.Token()
	require.NoError(t, err)
	clock.Advance(2*time.Minute + 29*time.Second)
	_, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, 1, pool.Requests(cognitotest.EndpointToken), "a margin longer than the token must not renew on every call")
	clock.Advance(time.Second)
	_, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, 2, pool.Requests(cognitotest.EndpointToken), "renewed at half the lifetime")
}

func TestTokenSourceServesTheOldTokenWhileRenewalFails(t *testing.T) {
	f := newM2MFixture(t, cognito.WithRenewMargin(5*time.Minute))
	ts := f.client.TokenSource("orders/read")
	first, err := ts.Token()
	require.NoError(t, err)

	f.pool.FailNext(cognitotest.EndpointToken, 3, cognitotest.Failure{Status: http.StatusInternalServerError})
	f.clock.Advance(56 * time.Minute) // inside the margin
	tok, err := ts.Token()
	require.NoError(t, err, "a failed renewal keeps the still valid token")
	assert.Equal(t, first.AccessToken, tok.AccessToken)
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken))

	tok, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, first.AccessToken, tok.AccessToken)
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "no new request on every call right after a failure")

	f.clock.Advance(10 * time.Second) // the retry delay is over
	tok, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, first.AccessToken, tok.AccessToken)
	assert.Equal(t, 3, f.pool.Requests(cognitotest.EndpointToken), "retried after the delay")

	f.clock.Set(first.Expiry) // expired
	_, err = ts.Token()
	assert.ErrorIs(t, err, cognito.ErrEndpointUnavailable, "no valid token left: the renewal's error")
	var oe *cognito.OAuthError
	assert.ErrorAs(t, err, &oe)

	assert.Equal(t, 4, f.pool.Requests(cognitotest.EndpointToken))

	tok, err = ts.Token()
	require.NoError(t, err, "the endpoint is back: a new token at once")
	assert.NotEqual(t, first.AccessToken, tok.AccessToken)
	assert.True(t, tok.Expiry.After(f.clock.Now()))
}

func TestTokenSourceNeverUsesACallersContext(t *testing.T) {
	f := newM2MFixture(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "no token", http.StatusUnauthorized)
		}
	}))
	t.Cleanup(api.Close)
	ts := f.client.TokenSource("orders/read")

	// As in x/oauth2's issue 388: the first use comes with a context that is
	// cancelled soon after.
	ctx, cancel := context.WithCancel(context.Background())
	hc := oauth2.NewClient(ctx, ts)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.URL, nil)
	require.NoError(t, err)
	res, err := hc.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	cancel()

	// A caller that gives up while a renewal is on its way does not spoil it
	// for the others.
	f.clock.Advance(time.Hour)
	gone, stop := context.WithCancel(context.Background())
	stop()
	req, err = http.NewRequestWithContext(gone, http.MethodGet, api.URL, nil)
	require.NoError(t, err)
	_, err = hc.Do(req)
	require.Error(t, err)
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "the renewal ran to its end on its own context")

	res, err = hc.Get(api.URL) // an hour later, after both contexts ended
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "and is what the next caller gets")
}

func TestTokenSourceTimeout(t *testing.T) {
	// The hung request waits this out; the next one must answer within it
	// on a loaded machine under -race, so it is not cut tight.
	f := newM2MFixture(t, cognito.WithHTTPClient(&http.Client{Timeout: time.Second}))
	f.pool.FailNext(cognitotest.EndpointToken, 1, cognitotest.Failure{Hang: true})
	ts := f.client.TokenSource()

	_, err := ts.Token()
	assert.ErrorIs(t, err, cognito.ErrEndpointUnavailable, "a hung endpoint is given up within the client's timeout")
	tok, err := ts.Token()
	require.NoError(t, err, "and the next call tries again")
	assert.NotEmpty(t, tok.AccessToken)
}

func TestTokenSourceErrors(t *testing.T) {
	f := newM2MFixture(t)
	_, err := f.client.TokenSource("orders/nope").Token()
	var oe *cognito.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "invalid_scope", oe.Code)

	wrong := f.cfg
	wrong.ClientSecret = "wrong-secret"
	c, err := cognito.NewClient(wrong)
	require.NoError(t, err)
	_, err = c.TokenSource().Token()
	assert.ErrorIs(t, err, cognito.ErrInvalidClient)
	assertNoSecrets(t, err, "wrong-secret")
	assert.False(t, errors.Is(err, cognito.ErrEndpointUnavailable))
}

func TestM2MTokenPassesTheScopeGuards(t *testing.T) {
	f := newM2MFixture(t)
	v, err := cognito.NewVerifier(f.pool.Config(), cognito.WithClientIDs(f.m2m.ClientID), cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	h := chain(whoami, cognito.RequireAccessToken(v), cognito.RequireAnyScope("orders/read"))
	admins := chain(whoami, cognito.RequireAccessToken(v), cognito.RequireGroup("admins"))

	tok, err := f.client.TokenSource("orders/read").Token()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, serve(h, "Bearer "+tok.AccessToken).Code)
	assert.Equal(t, http.StatusForbidden, serve(admins, "Bearer "+tok.AccessToken).Code, "an M2M token is in no group")

	minted := f.pool.MintClientCredentialsToken(f.m2m.ClientID)
	assert.Equal(t, http.StatusOK, serve(h, "Bearer "+minted).Code)
	writeOnly := f.pool.MintClientCredentialsToken(f.m2m.ClientID, cognitotest.WithScopes("orders/write"))
	assert.Equal(t, http.StatusForbidden, serve(h, "Bearer "+writeOnly).Code)
}

func TestTokenSourceNegativeMarginKeepsTheDefault(t *testing.T) {
	f := newM2MFixture(t, cognito.WithRenewMargin(-time.Hour))
	ts := f.client.TokenSource()
	_, err := ts.Token()
	require.NoError(t, err)
	f.clock.Advance(time.Hour - cognito.DefaultRenewMargin - time.Second)
	_, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken))
	f.clock.Advance(time.Second)
	_, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "renewed DefaultRenewMargin before expiry")
}

func TestTokenSourceZeroMarginRenewsOnlyAtExpiry(t *testing.T) {
	f := newM2MFixture(t, cognito.WithRenewMargin(0))
	ts := f.client.TokenSource()
	_, err := ts.Token()
	require.NoError(t, err)

	f.clock.Advance(time.Hour - time.Second) // well inside the default margin
	_, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, 1, f.pool.Requests(cognitotest.EndpointToken), "a zero margin is a margin, not the default")

	f.clock.Advance(time.Second)
	_, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, 2, f.pool.Requests(cognitotest.EndpointToken), "renewed at expiry")
}

// tokenEndpoint is a fake pool's token endpoint whose answers a test writes:
// answer gets the request's number (from 1) and writes the answer. Its
// Config is that of a confidential client on it.
type tokenEndpoint struct {
	srv      *httptest.Server
	requests atomic.Int64
}

func newTokenEndpoint(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *tokenEndpoint {
	t.Helper()
	e := &tokenEndpoint{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/token" {
			http.NotFound(w, r)
			return
		}
		answer(int(e.requests.Add(1)), w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *tokenEndpoint) Config() cognito.Config {
	return cognito.Config{
		UserPoolID: "us-east-1_Fake", ClientID: "svc", ClientSecret: "svc-secret",
		Domain: e.srv.URL, Issuer: e.srv.URL + "/us-east-1_Fake",
	}
}

// writeToken answers a token for an hour, named by n.
func writeToken(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"token-%d","token_type":"Bearer","expires_in":3600}`, n)
}

// TestClientCredentialsForm: the request names the grant, the client (its
// secret goes in the Authorization header), and the scopes asked for joined
// by spaces; with none, it has no scope parameter at all,
// so that the endpoint grants every scope of the client.
func TestClientCredentialsForm(t *testing.T) {
	var forms []url.Values
	var mu sync.Mutex
	e := newTokenEndpoint(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.ParseForm() != nil {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		writeToken(w, n)
	})
	client, err := cognito.NewClient(e.Config())
	require.NoError(t, err)
	_, err = client.ClientCredentials(context.Background())
	require.NoError(t, err)
	_, err = client.ClientCredentials(context.Background(), "orders/read", "orders/write")
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, forms, 2)
	assert.Equal(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}}, forms[0], "no scope asked: no scope parameter")
	assert.Equal(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "scope": {"orders/read orders/write"}}, forms[1])
}

func TestTokenSourceJudgesTheOldTokenAfterASlowFailedRenewal(t *testing.T) {
	clock := newTestClock()
	e := newTokenEndpoint(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			writeToken(w, n)
			return
		}
		// A slow failure: the cached token expires while the endpoint
		// takes its time to refuse.
		clock.Advance(10 * time.Minute)
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
	})
	client, err := cognito.NewClient(e.Config(), cognito.WithClock(clock.Now), cognito.WithRenewMargin(5*time.Minute))
	require.NoError(t, err)
	ts := client.TokenSource()
	first, err := ts.Token()
	require.NoError(t, err)

	clock.Advance(56 * time.Minute) // inside the margin, 4 minutes left
	tok, err := ts.Token()
	require.True(t, clock.Now().After(first.Expiry), "the renewal outlived the token")
	assert.ErrorIs(t, err, cognito.ErrEndpointUnavailable, "the old token expired during the renewal: the renewal's error, not the token")
	assert.Nil(t, tok)
	assert.EqualValues(t, 2, e.requests.Load())
}

func TestTokenSourceOthersKeepTheValidTokenWhileOneRenews(t *testing.T) {
	clock := newTestClock()
	arrived, gate := make(chan struct{}), make(chan struct{})
	e := newTokenEndpoint(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 2 {
			close(arrived)
			select { // the renewal is held until the other callers are served
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		writeToken(w, n)
	})
	// Without the fix the other caller waits for the renewal, which the gate
	// holds until the client's timeout ends it: the test then fails in 5 s.
	client, err := cognito.NewClient(e.Config(), cognito.WithClock(clock.Now),
		cognito.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	require.NoError(t, err)
	ts := client.TokenSource()
	first, err := ts.Token()
	require.NoError(t, err)

	clock.Advance(time.Hour - 30*time.Second) // inside the default margin
	renewed := make(chan *oauth2.Token, 1)
	go func() {
		tok, err := ts.Token()
		assert.NoError(t, err)
		renewed <- tok
	}()
	<-arrived
	for range 10 {
		tok, err := ts.Token()
		require.NoError(t, err)
		assert.Equal(t, first.AccessToken, tok.AccessToken, "the cached token, still valid, while another caller renews it")
	}
	close(gate)

	tok := <-renewed
	require.NotNil(t, tok)
	assert.Equal(t, "token-2", tok.AccessToken, "the renewing caller waits for its request")
	tok, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, "token-2", tok.AccessToken)
	assert.EqualValues(t, 2, e.requests.Load())
}
