package cognitotest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

// newClock is the tests' clock, at a fixed time far from the wall clock's,
// so that a test that reads the wall clock by mistake fails.
func newClock() *cognitotest.Clock {
	return cognitotest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

// browser does not follow redirects: tests read Location themselves.
var browser = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

func get(t *testing.T, rawURL string) (*http.Response, string) {
	t.Helper()
	resp, err := browser.Get(rawURL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// postForm POSTs form to rawURL, with Basic credentials when user is set.
func postForm(t *testing.T, rawURL string, form url.Values, user, pass string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := browser.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func decodeJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m), "body: %s", body)
	return m
}

// authorizeParams are a valid authorize request for pool's defaults.
func authorizeParams(pool *cognitotest.Server) url.Values {
	cfg := pool.Config()
	return url.Values{
		"client_id":     {cfg.ClientID},
		"redirect_uri":  {cfg.RedirectURI},
		"response_type": {"code"},
		"scope":         {"openid email profile"},
		"state":         {"st4te"},
	}
}

// authorize GETs /oauth2/authorize with params and returns the redirect's
// query, failing unless it redirects to the pool's first callback URL.
func authorize(t *testing.T, pool *cognitotest.Server, params url.Values) url.Values {
	t.Helper()
	resp, body := get(t, pool.URL()+"/oauth2/authorize?"+params.Encode())
	require.Equal(t, http.StatusFound, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, pool.Config().RedirectURI, loc.Scheme+"://"+loc.Host+loc.Path)
	return loc.Query()
}

// codeFor signs username in through SignInAs and returns the code.
func codeFor(t *testing.T, pool *cognitotest.Server, username string, params url.Values) string {
	t.Helper()
	pool.SignInAs(username)
	q := authorize(t, pool, params)
	require.NotEmpty(t, q.Get("code"), "redirect query: %v", q)
	return q.Get("code")
}

// exchange redeems code with the default client's secret in Basic.
func exchange(t *testing.T, pool *cognitotest.Server, code string, extra url.Values) (*http.Response, map[string]any) {
	t.Helper()
	cfg := pool.Config()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cfg.RedirectURI}}
	for k, v := range extra {
		form[k] = v
	}
	resp, body := postForm(t, pool.URL()+"/oauth2/token", form, cfg.ClientID, cfg.ClientSecret)
	return resp, decodeJSON(t, body)
}

// verify checks tok against the JWKS the pool serves, with jwx, and
// returns its claims.
func verify(t *testing.T, pool *cognitotest.Server, tok string) map[string]any {
	t.Helper()
	set, err := jwk.Fetch(t.Context(), pool.Issuer()+"/.well-known/jwks.json")
	require.NoError(t, err)
	payload, err := jws.Verify([]byte(tok), jws.WithKeySet(set, jws.WithRequireKid(true)), jws.WithAlgorithmMatch(true))
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}

func TestConfigDescribesThePool(t *testing.T) {
	pool := cognitotest.NewServer(t)
	cfg := pool.Config()

	require.NoError(t, cfg.Validate())
	assert.True(t, strings.HasPrefix(pool.URL(), "http://127.0.0.1:"), pool.URL())
	assert.Equal(t, pool.URL(), cfg.Domain)
	assert.Equal(t, pool.URL()+"/"+cognitotest.DefaultPoolID, pool.Issuer())
	assert.Equal(t, pool.Issuer(), cfg.Issuer)
	assert.Equal(t, cognitotest.DefaultPoolID, cfg.UserPoolID)
	assert.Equal(t, cognitotest.DefaultClientID, cfg.ClientID)
	assert.Equal(t, cognitotest.DefaultClientSecret, cfg.ClientSecret)
	assert.Equal(t, cognitotest.DefaultRedirectURI, cfg.RedirectURI)
	assert.Equal(t, cognitotest.DefaultLogoutURI, cfg.LogoutURI)
	assert.Empty(t, cfg.JWKSURL)
}

func TestOptionsShapeTheConfig(t *testing.T) {
	pool := cognitotest.NewServer(t,
		cognitotest.WithPoolID("local_abc123"),
		cognitotest.WithClientID("myclient"),
		cognitotest.WithPublicClient(),
		cognitotest.WithRedirectURI("http://localhost:8080/cb", "myapp://cb"),
		cognitotest.WithLogoutURI("http://localhost:8080/bye"),
	)
	cfg := pool.Config()

	require.NoError(t, cfg.Validate())
	assert.Equal(t, "local_abc123", cfg.UserPoolID)
	assert.Equal(t, "myclient", cfg.ClientID)
	assert.Empty(t, cfg.ClientSecret)
	assert.Equal(t, "http://localhost:8080/cb", cfg.RedirectURI)
	assert.Equal(t, "http://localhost:8080/bye", cfg.LogoutURI)
	assert.True(t, strings.HasSuffix(pool.Issuer(), "/local_abc123"))
}

func TestStartRefusesBadOptions(t *testing.T) {
	for name, opt := range map[string]cognitotest.Option{
		"pool ID without underscore":  cognitotest.WithPoolID("nounderscore"),
		"pool ID with a slash":        cognitotest.WithPoolID("us-east-1_a/b"),
		"empty client ID":             cognitotest.WithClientID(""),
		"no redirect URI":             cognitotest.WithRedirectURI(),
		"relative redirect URI":       cognitotest.WithRedirectURI("/callback"),
		"scope with a space":          cognitotest.WithAllowedScopes("openid email"),
		"address on every interface":  cognitotest.WithAddr(":0"),
		"address on a public host":    cognitotest.WithAddr("192.0.2.1:0"),
		"address that is not host:po": cognitotest.WithAddr("localhost"),
	} {
		t.Run(name, func(t *testing.T) {
			s, err := cognitotest.Start(opt)
			if s != nil {
				s.Close()
			}
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "cognitotest: "), err.Error())
		})
	}
}

func TestStartListensOnWithAddrAndCloses(t *testing.T) {
	s, err := cognitotest.Start(cognitotest.WithAddr("localhost:0"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"), s.URL())
	resp, _ := get(t, s.Issuer()+"/.well-known/jwks.json")
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	s.Close()
	s.Close() // twice is fine
	_, err = browser.Get(s.Issuer() + "/.well-known/jwks.json")
	assert.Error(t, err)
}

func TestUnknownPathsAndOtherPoolsAre404(t *testing.T) {
	pool := cognitotest.NewServer(t)
	for _, p := range []string{"/nope", "/us-east-1_Other/.well-known/jwks.json", "/oauth2/userinfo/x"} {
		resp, _ := get(t, pool.URL()+p)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, p)
	}
}

// do sends req and decodes its JSON answer.
func do(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := browser.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, decodeJSON(t, string(body))
}

// basic is an Authorization Basic value without the form-encoding.
func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// BenchmarkStart measures what a test pays for a fresh pool: with the
// embedded keys, no RSA key generation.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		s, err := cognitotest.Start()
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkRotateKeysGenerating measures a rotation once the embedded keys
// have run out and two RSA keys must be generated.
func BenchmarkRotateKeysGenerating(b *testing.B) {
	s, err := cognitotest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for range 3 { // use up the embedded keys
		s.RotateKeys(cognitotest.DropOld)
	}
	for b.Loop() {
		s.RotateKeys(cognitotest.DropOld)
	}
}
