package cognito_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

// TestTenantResolverConfigPasswordHidden: a resolver that answers a Config
// of another issuer is refused, and the refusal, in the error and in the
// log, names that issuer without the password of its URL.
func TestTenantResolverConfigPasswordHidden(t *testing.T) {
	var logs bytes.Buffer
	tv, err := cognito.NewTenantVerifier(func(context.Context, string) (cognito.Config, error) {
		return cognito.Config{Issuer: "https://alice:s3cret@other.example/us-east-1_Other1", ClientID: "client"}, nil
	}, cognito.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	_, err = tv.VerifyAccessToken(context.Background(), unsignedToken(`{"iss":"https://tenant.example/us-east-1_Tenant1","token_use":"access","sub":"s"}`))
	require.ErrorIs(t, err, cognito.ErrInvalidIssuer)
	assert.NotContains(t, err.Error(), "s3cret")
	assert.NotContains(t, logs.String(), "s3cret")
}
