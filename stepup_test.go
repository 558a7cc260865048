package cognito_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

func TestLoginURLStepUpParameters(t *testing.T) {
	c := validConfig()
	u, err := url.Parse(c.LoginURL("s",
		cognito.WithAuthParam("acr_values", "urn:cognito:loa:1"), // refused: the option owns it
		cognito.WithACRValues("urn:cognito:loa:3", "urn:cognito:loa:2"),
		cognito.WithMaxAge(300*time.Second+999*time.Millisecond),
		cognito.WithAuthParam("max_age", "86400"),
	))
	require.NoError(t, err)
	q := u.Query()
	assert.Equal(t, []string{"urn:cognito:loa:3 urn:cognito:loa:2"}, q["acr_values"], "in order, space-separated")
	assert.Equal(t, []string{"300"}, q["max_age"], "whole seconds, rounded down")

	u, err = url.Parse(c.LoginURL("s", cognito.WithMaxAge(0)))
	require.NoError(t, err)
	assert.Equal(t, []string{"0"}, u.Query()["max_age"], "0 asks for a sign-in now")
}

// badStepUpOptions are options that WithACRValues and WithMaxAge refuse.
var badStepUpOptions = []struct {
	name string
	opt  cognito.AuthOption
}{
	{"a space inside a value", cognito.WithACRValues("urn:cognito:loa:2 urn:cognito:loa:3")},
	{"a tab inside a value", cognito.WithACRValues("urn:cognito:loa:2\turn")},
	{"a newline inside a value", cognito.WithACRValues("urn:cognito:loa:2\n")},
	{"a NUL inside a value", cognito.WithACRValues("urn:cognito:\x00loa:2")},
	{"a DEL inside a value", cognito.WithACRValues("urn:cognito:loa:2\x7f")},
	{"a C1 control inside a value", cognito.WithACRValues("urn:cognito:loa:2\u0085")},
	{"a no-break space inside a value", cognito.WithACRValues("urn:cognito:loa:2\u00a0x")},
	{"an empty value", cognito.WithACRValues("urn:cognito:loa:2", "")},
	{"no value", cognito.WithACRValues()},
	{"invalid UTF-8", cognito.WithACRValues("urn:\xff")},
	{"a value too long", cognito.WithACRValues(strings.Repeat("a", 129))},
	{"nine values", cognito.WithACRValues("a", "b", "c", "d", "e", "f", "g", "h", "i")},
	{"a negative max age", cognito.WithMaxAge(-time.Second)},
}

func TestStepUpOptionsRefuseBadInput(t *testing.T) {
	c := validConfig()
	pool := cognitotest.NewServer(t)
	cfg := pool.Config()
	client, err := cognito.NewClient(cfg)
	require.NoError(t, err)
	v, err := cognito.NewVerifier(cfg)
	require.NoError(t, err)
	flow := &cognito.LoginFlow{Config: cfg, Client: client, Verifier: v}
	for _, tc := range badStepUpOptions {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(c.LoginURL("s", tc.opt))
			require.NoError(t, err)
			assert.False(t, u.Query().Has("acr_values"), "LoginURL leaves it out")
			assert.False(t, u.Query().Has("max_age"), "LoginURL leaves it out")

			w := httptest.NewRecorder()
			err = flow.Start(w, httptest.NewRequest(http.MethodGet, "http://localhost/login", nil), cognito.WithNonce("x"), tc.opt)
			require.ErrorIs(t, err, cognito.ErrInvalidConfig)
			assert.True(t, strings.HasPrefix(err.Error(), "cognito: "), err.Error())
			assert.Empty(t, w.Header(), "Start wrote nothing")

			s, err := cognito.NewSessions(flow, cognito.NewMemoryStore(), cognito.WithLoginOptions(tc.opt))
			assert.Nil(t, s)
			assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
		})
	}
	w := httptest.NewRecorder()
	require.NoError(t, flow.Start(w, httptest.NewRequest(http.MethodGet, "http://localhost/login", nil),
		cognito.WithACRValues("urn:cognito:loa:2"), cognito.WithMaxAge(time.Minute)))
	u, err := url.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "urn:cognito:loa:2", u.Query().Get("acr_values"))
	assert.Equal(t, "60", u.Query().Get("max_age"))
}

func TestStepUpValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		step cognito.StepUp
	}{
		{"empty", cognito.StepUp{}},
		{"empty levels and no MaxAge", cognito.StepUp{ACR: []string{}}},
		{"MaxAge negative", cognito.StepUp{MaxAge: -time.Minute}},
		{"MaxAge negative with a level", cognito.StepUp{ACR: []string{"urn:cognito:loa:2"}, MaxAge: -1}},
		{"MaxAge under a second", cognito.StepUp{MaxAge: 999 * time.Millisecond}},
		{"a space inside a level", cognito.StepUp{ACR: []string{"urn:cognito:loa:2 urn:cognito:loa:3"}}},
		{"a control character inside a level", cognito.StepUp{ACR: []string{"urn:cognito:loa:2\r"}}},
		{"an empty level", cognito.StepUp{ACR: []string{""}, MaxAge: time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.step.Validate()
			require.ErrorIs(t, err, cognito.ErrInvalidConfig)
			assert.True(t, strings.HasPrefix(err.Error(), "cognito: "), err.Error())
			assert.NotContains(t, err.Error(), "\r")
		})
	}
	for _, ok := range []cognito.StepUp{
		{ACR: []string{"urn:cognito:loa:2"}},
		{MaxAge: time.Second},
		{ACR: []string{"urn:cognito:loa:2", "urn:cognito:loa:3"}, MaxAge: 5 * time.Minute},
	} {
		assert.NoError(t, ok.Validate(), "%+v", ok)
	}
}

func TestVerifyReadsACRAndAMR(t *testing.T) {
	f := newPoolFixture(t)
	ctx := context.Background()
	id, err := f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice",
		cognitotest.WithClaim("acr", "urn:cognito:loa:2"), cognitotest.WithClaim("amr", []string{"pwd", "otp", "mfa"})))
	require.NoError(t, err)
	assert.Equal(t, "urn:cognito:loa:2", id.ACR)
	assert.Equal(t, []string{"pwd", "otp", "mfa"}, id.AMR)

	access, err := f.v.VerifyAccessToken(ctx, f.pool.MintAccessToken("alice",
		cognitotest.WithClaim("acr", "urn:cognito:loa:3"), cognitotest.WithClaim("amr", []string{"pwd"})))
	require.NoError(t, err)
	assert.Equal(t, "urn:cognito:loa:3", access.ACR)
	assert.Equal(t, []string{"pwd"}, access.AMR)

	plain, err := f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice"))
	require.NoError(t, err)
	assert.Empty(t, plain.ACR, "absent claims are empty")
	assert.Nil(t, plain.AMR)

	t.Run("callers cannot change the cached AMR", func(t *testing.T) {
		raw := f.pool.MintIDToken("alice", cognitotest.WithClaim("amr", []string{"pwd", "otp"}))
		first, err := f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
		first.AMR[0] = "hacked"
		again, err := f.v.VerifyIDToken(ctx, raw)
		require.NoError(t, err)
		assert.Equal(t, []string{"pwd", "otp"}, again.AMR)

		rawAccess := f.pool.MintAccessToken("alice", cognitotest.WithClaim("amr", []string{"pwd", "otp"}))
		a1, err := f.v.VerifyAccessToken(ctx, rawAccess)
		require.NoError(t, err)
		a1.AMR[0] = "hacked"
		a2, err := f.v.VerifyAccessToken(ctx, rawAccess)
		require.NoError(t, err)
		assert.Equal(t, []string{"pwd", "otp"}, a2.AMR)
	})
}

func TestVerifyRefusesBadAuthenticationClaims(t *testing.T) {
	f := newPoolFixture(t, cognito.WithLeeway(30*time.Second))
	now := f.clock.Now()
	limit := now.Add(30*time.Second + cognito.IssuedAtAllowance)
	tests := []struct {
		name string
		opts []cognitotest.TokenOption
		want error
	}{
		{"acr as a number", []cognitotest.TokenOption{cognitotest.WithClaim("acr", 3)}, cognito.ErrMalformedToken},
		{"acr as an array", []cognitotest.TokenOption{cognitotest.WithClaim("acr", []string{"urn:cognito:loa:2"})}, cognito.ErrMalformedToken},
		{"acr as null", []cognitotest.TokenOption{cognitotest.WithClaim("acr", []any(nil))}, cognito.ErrMalformedToken},
		{"amr as a string", []cognitotest.TokenOption{cognitotest.WithClaim("amr", "pwd")}, cognito.ErrMalformedToken},
		{"amr with a number", []cognitotest.TokenOption{cognitotest.WithClaim("amr", []any{"pwd", 2})}, cognito.ErrMalformedToken},
		{"ACR beside acr", []cognitotest.TokenOption{cognitotest.WithClaim("acr", "urn:cognito:loa:1"), cognitotest.WithClaim("ACR", "urn:cognito:loa:3")}, cognito.ErrMalformedToken},
		{"Amr alone", []cognitotest.TokenOption{cognitotest.WithClaim("Amr", []string{"mfa"})}, cognito.ErrMalformedToken},
		{"auth_time beyond leeway and allowance", []cognitotest.TokenOption{cognitotest.WithClaim("auth_time", limit.Unix()+1)}, cognito.ErrTokenNotYetValid},
		{"auth_time as a string", []cognitotest.TokenOption{cognitotest.WithClaim("auth_time", "0")}, cognito.ErrMalformedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice", tt.opts...))
			assert.Nil(t, id)
			require.ErrorIs(t, err, tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "cognito: "), err.Error())
			access, err := f.v.VerifyAccessToken(context.Background(), f.pool.MintAccessToken("alice", tt.opts...))
			assert.Nil(t, access)
			require.ErrorIs(t, err, tt.want)
		})
	}
	_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice", cognitotest.WithClaim("auth_time", limit.Unix())))
	assert.NoError(t, err, "auth_time at the limit of the leeway and allowance")
}

// fixedVerifier is an AccessTokenVerifier of the caller's: its tokens carry
// no Verifier clock.
type fixedVerifier struct{ tok *cognito.AccessToken }

func (v fixedVerifier) VerifyAccessToken(context.Context, string) (*cognito.AccessToken, error) {
	return v.tok, nil
}

func TestRequireStepUp(t *testing.T) {
	f := newPoolFixture(t, cognito.WithLeeway(30*time.Second))
	now := f.clock.Now()
	signedIn := func(ago time.Duration, claims ...cognitotest.TokenOption) string {
		opts := append([]cognitotest.TokenOption{cognitotest.WithClaim("auth_time", now.Add(-ago).Unix())}, claims...)
		return f.pool.MintAccessToken("alice", opts...)
	}
	loa := func(level string) cognitotest.TokenOption { return cognitotest.WithClaim("acr", level) }
	mfa := stepUpFor("urn:cognito:loa:2", "urn:cognito:loa:3")
	recent := cognito.StepUp{MaxAge: 5 * time.Minute}
	both := cognito.StepUp{ACR: []string{"urn:cognito:loa:2"}, MaxAge: 5 * time.Minute}

	tests := []struct {
		name      string
		step      cognito.StepUp
		token     string
		status    int
		challenge string
	}{
		{"level reached", mfa, signedIn(time.Hour, loa("urn:cognito:loa:3")), 200, ""},
		{"level below", mfa, signedIn(0, loa("urn:cognito:loa:1")), 401,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="urn:cognito:loa:2 urn:cognito:loa:3"`},
		{"no acr claim", mfa, signedIn(0), 401,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="urn:cognito:loa:2 urn:cognito:loa:3"`},
		{"levels are matched whole", mfa, signedIn(0, loa("urn:cognito:loa:22")), 401,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="urn:cognito:loa:2 urn:cognito:loa:3"`},
		{"signed in within MaxAge and the leeway", recent, signedIn(5*time.Minute + 30*time.Second), 200, ""},
		{"signed in a second too long ago", recent, signedIn(5*time.Minute + 31*time.Second), 401,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent sign-in is required", max_age="300"`},
		{"no auth_time", recent, f.pool.MintAccessToken("alice", cognitotest.WithClaim("auth_time", nil)), 401,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent sign-in is required", max_age="300"`},
		{"both met", both, signedIn(time.Minute, loa("urn:cognito:loa:2")), 200, ""},
		{"both short: every requirement in the challenge", both, signedIn(time.Hour, loa("urn:cognito:loa:1")), 401,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="A stronger and more recent sign-in is required", acr_values="urn:cognito:loa:2", max_age="300"`},
		{"level met, too old: the level is still named", both, signedIn(time.Hour, loa("urn:cognito:loa:2")), 401,
			`Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent sign-in is required", acr_values="urn:cognito:loa:2", max_age="300"`},
		{"empty StepUp: 500", cognito.StepUp{}, signedIn(0, loa("urn:cognito:loa:2")), 500, ""},
		{"negative MaxAge: 500", cognito.StepUp{MaxAge: -time.Second}, signedIn(0), 500, ""},
		{"a space in a level: 500", stepUpFor("urn:cognito:loa:2 urn:cognito:loa:1"), signedIn(0, loa("urn:cognito:loa:2")), 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := cognito.RequireAccessToken(f.v, cognito.WithRealm("api"))(cognito.RequireStepUp(tt.step)(whoami))
			rec := serve(h, "Bearer "+tt.token)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			if tt.status != http.StatusOK {
				assert.Equal(t, http.StatusText(tt.status)+"\n", rec.Body.String())
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			}
		})
	}

	t.Run("without a realm", func(t *testing.T) {
		h := cognito.RequireAccessToken(f.v)(cognito.RequireStepUp(recent)(whoami))
		rec := serve(h, "Bearer "+signedIn(time.Hour))
		assert.Equal(t, `Bearer error="insufficient_user_authentication", error_description="A more recent sign-in is required", max_age="300"`,
			rec.Header().Get("WWW-Authenticate"))
	})
	t.Run("the Verifier's clock, not the wall clock", func(t *testing.T) {
		// The fixture's clock is far from the wall clock: a token signed in
		// a minute ago by it is years away by time.Now.
		h := cognito.RequireAccessToken(f.v)(cognito.RequireStepUp(recent)(whoami))
		assert.Equal(t, http.StatusOK, serve(h, "Bearer "+signedIn(time.Minute)).Code)
	})
	t.Run("a verifier of the caller's: time.Now", func(t *testing.T) {
		fresh := &cognito.AccessToken{Subject: "s", AuthTime: time.Now().Add(-time.Minute)}
		h := cognito.RequireAccessToken(fixedVerifier{fresh})(cognito.RequireStepUp(recent)(whoami))
		assert.Equal(t, http.StatusOK, serve(h, "Bearer x").Code)
		stale := &cognito.AccessToken{Subject: "s", AuthTime: time.Now().Add(-6 * time.Minute)}
		h = cognito.RequireAccessToken(fixedVerifier{stale})(cognito.RequireStepUp(recent)(whoami))
		assert.Equal(t, http.StatusUnauthorized, serve(h, "Bearer x").Code)
	})
	t.Run("without RequireAccessToken: 401", func(t *testing.T) {
		rec := serve(cognito.RequireStepUp(recent)(whoami))
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
	})
	t.Run("the step is copied", func(t *testing.T) {
		levels := []string{"urn:cognito:loa:2"}
		guard := cognito.RequireStepUp(cognito.StepUp{ACR: levels})
		levels[0] = "urn:cognito:loa:1"
		h := cognito.RequireAccessToken(f.v)(guard(whoami))
		assert.Equal(t, http.StatusUnauthorized, serve(h, "Bearer "+signedIn(0, loa("urn:cognito:loa:1"))).Code)
	})
}

// stepUpFor is a StepUp for levels alone.
func stepUpFor(levels ...string) cognito.StepUp { return cognito.StepUp{ACR: levels} }
