package cognito_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

var errWrongTenant = errors.New("wrong tenant")

// tenantRule refuses the users of any tenant but the one it holds.
type tenantRule struct {
	want  atomic.Value // string
	calls atomic.Int32
}

func (r *tenantRule) check(_ context.Context, t cognito.VerifiedToken) error {
	r.calls.Add(1)
	var c struct {
		Tenant string `json:"custom:tenant"`
	}
	if err := t.Claims(&c); err != nil {
		return err
	}
	if c.Tenant != r.want.Load().(string) {
		return fmt.Errorf("%w: %q", errWrongTenant, c.Tenant)
	}
	return nil
}

func TestWithCheck(t *testing.T) {
	rule := &tenantRule{}
	rule.want.Store("acme")
	f := newPoolFixture(t, cognito.WithCheck(rule.check))
	ctx := context.Background()
	idTok := f.pool.MintIDToken("alice")
	accessTok := f.pool.MintAccessToken("alice", cognitotest.WithClaim("custom:tenant", "acme"))

	_, err := f.v.VerifyIDToken(ctx, idTok)
	require.NoError(t, err)
	_, err = f.v.VerifyAccessToken(ctx, accessTok)
	require.NoError(t, err)

	rule.want.Store("globex")
	_, err = f.v.VerifyIDToken(ctx, idTok)
	assert.ErrorIs(t, err, cognito.ErrCheckFailed, "the rule runs on cache hits too")
	assert.ErrorIs(t, err, errWrongTenant, "and its own error still matches")
	assert.ErrorContains(t, err, `wrong tenant: "acme"`)
	_, err = f.v.VerifyAccessToken(ctx, accessTok)
	assert.ErrorIs(t, err, cognito.ErrCheckFailed)
	assert.Equal(t, int32(4), rule.calls.Load())

	_, err = f.v.VerifyIDToken(ctx, f.pool.MintIDToken("alice", cognitotest.Expired()))
	assert.ErrorIs(t, err, cognito.ErrTokenExpired)
	assert.Equal(t, int32(4), rule.calls.Load(), "a rule sees only tokens every built-in check accepted")
}

func TestWithCheckSeesTheTokenType(t *testing.T) {
	var seen []string
	f := newPoolFixture(t,
		cognito.WithCheck(nil), // ignored
		cognito.WithCheck(func(_ context.Context, t cognito.VerifiedToken) error {
			switch t := t.(type) {
			case *cognito.IDToken:
				seen = append(seen, "id:"+t.Username)
			case *cognito.AccessToken:
				seen = append(seen, "access:"+t.Username)
				if len(t.Groups) > 0 {
					t.Groups[0] = "changed" // must not reach the cache
				}
			}
			return nil
		}),
		cognito.WithCheck(func(context.Context, cognito.VerifiedToken) error {
			seen = append(seen, "second")
			return nil
		}),
	)
	_, err := f.v.VerifyIDToken(context.Background(), f.pool.MintIDToken("alice"))
	require.NoError(t, err)
	tok := f.pool.MintAccessToken("alice")
	_, err = f.v.VerifyAccessToken(context.Background(), tok)
	require.NoError(t, err)
	at, err := f.v.VerifyAccessToken(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, []string{"id:alice", "second", "access:alice", "second", "access:alice", "second"}, seen, "in order, on every call")
	assert.Equal(t, "changed", at.Groups[0], "the caller's copy is the one the rule saw")
}

func TestWithCheckInTheMiddleware(t *testing.T) {
	pool := cognitotest.NewServer(t)
	var outage atomic.Bool
	v, err := cognito.NewVerifier(pool.Config(), cognito.WithCheck(func(ctx context.Context, t cognito.VerifiedToken) error {
		if outage.Load() {
			return fmt.Errorf("tenant store: %w", cognito.ErrEndpointUnavailable)
		}
		if at, ok := t.(*cognito.AccessToken); ok && at.Username == "mallory" {
			return errors.New("blocked user")
		}
		return nil
	}))
	require.NoError(t, err)
	h := cognito.RequireAccessToken(v)(whoami)

	assert.Equal(t, http.StatusOK, serve(h, "Bearer "+pool.MintAccessToken("alice")).Code)
	assert.Equal(t, http.StatusUnauthorized, serve(h, "Bearer "+pool.MintAccessToken("mallory")).Code)
	outage.Store(true)
	rec := serve(h, "Bearer "+pool.MintAccessToken("alice"))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "a rule that could not decide is not the client's fault")
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
}
