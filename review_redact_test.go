package cognito_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

// TestConfigHidesPasswordsWithDelimiters: a URL field whose password has an
// unencoded '#', '/' or '?' is malformed; neither Validate's error nor %v
// shows the password.
func TestConfigHidesPasswordsWithDelimiters(t *testing.T) {
	for _, raw := range []string{
		"https://alice:s3#cret@keys.example.com/jwks.json",
		"https://alice:123/s3cret@keys.example.com/jwks.json",
		"https://alice:s3?cret@keys.example.com/jwks.json",
	} {
		t.Run(raw, func(t *testing.T) {
			cfg := cognito.Config{UserPoolID: "us-east-1_AbC123", ClientID: "client", JWKSURL: raw}
			// "alice:123" parses as a host and a port, and the rest as a
			// path: Validate may take it, and the fetch then fails.
			if err := cfg.Validate(); err != nil {
				require.ErrorIs(t, err, cognito.ErrInvalidConfig)
				assert.NotContains(t, err.Error(), "s3", "Validate's error")
			}
			assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), "s3", "the Config printed")
		})
	}
}
