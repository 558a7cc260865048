package cognito_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
)

func validConfig() cognito.Config {
	return cognito.Config{
		UserPoolID:  "us-east-1_AbCdEf123",
		ClientID:    "client123",
		Domain:      "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI: "https://app.example.com/callback",
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*cognito.Config)
		wantErr string // a fragment naming the field; empty for valid
	}{
		{"complete", func(*cognito.Config) {}, ""},
		{"region agrees with pool", func(c *cognito.Config) { c.Region = "us-east-1" }, ""},
		{"bare domain is normalised", func(c *cognito.Config) { c.Domain = "auth.example.com/" }, ""},
		{"custom scopes", func(c *cognito.Config) { c.Scopes = []string{"openid", "api/read"} }, ""},
		{"emulator pool with issuer", func(c *cognito.Config) {
			c.UserPoolID, c.Issuer, c.Domain = "local_abc123", "http://localhost:9229/local_abc123", "http://localhost:9229"
		}, ""},
		{"issuer without pool", func(c *cognito.Config) { c.UserPoolID, c.Issuer = "", "https://issuer.example.com/pool" }, ""},
		{"native app redirect", func(c *cognito.Config) { c.RedirectURI = "myapp://callback" }, ""},
		{"loopback IP emulator", func(c *cognito.Config) { c.Domain = "http://127.0.0.1:9229" }, ""},
		{"IPv6 loopback emulator", func(c *cognito.Config) { c.Domain = "http://[::1]:9229" }, ""},
		{"localhost emulator", func(c *cognito.Config) { c.Domain = "http://localhost:9229" }, ""},
		// Native apps register custom schemes; each of these is an absolute
		// URL to Cognito, with an opaque part or a path after the scheme.
		{"custom scheme with an opaque part", func(c *cognito.Config) { c.RedirectURI = "myapp:cb" }, ""},
		{"custom scheme with a path", func(c *cognito.Config) { c.RedirectURI = "myapp:/cb" }, ""},
		{"custom scheme logout", func(c *cognito.Config) { c.LogoutURI = "myapp:/signed-out" }, ""},

		{"empty client ID", func(c *cognito.Config) { c.ClientID = "" }, "ClientID"},
		{"no pool and no issuer", func(c *cognito.Config) { c.UserPoolID = "" }, "UserPoolID"},
		{"pool without region", func(c *cognito.Config) { c.UserPoolID = "AbCdEf123" }, "UserPoolID"},
		{"emulator pool without issuer", func(c *cognito.Config) { c.UserPoolID = "local_abc123" }, "UserPoolID"},
		{"pool with slash even with issuer", func(c *cognito.Config) {
			c.UserPoolID, c.Issuer = "local/abc", "https://issuer.example.com/x"
		}, "UserPoolID"},
		{"region disagrees", func(c *cognito.Config) { c.Region = "eu-west-1" }, "Region"},
		{"region malformed", func(c *cognito.Config) { c.Region = "Moon" }, "Region"},
		{"plain http domain", func(c *cognito.Config) { c.Domain = "http://auth.example.com" }, "Domain"},
		{"domain with query", func(c *cognito.Config) { c.Domain = "https://auth.example.com?x=1" }, "Domain"},
		{"ftp domain", func(c *cognito.Config) { c.Domain = "ftp://auth.example.com" }, "Domain"},
		{"relative redirect", func(c *cognito.Config) { c.RedirectURI = "/callback" }, "RedirectURI"},
		{"a scheme and nothing else", func(c *cognito.Config) { c.RedirectURI = "myapp:" }, "RedirectURI"},
		{"logout: a scheme and nothing else", func(c *cognito.Config) { c.LogoutURI = "myapp:" }, "LogoutURI"},
		{"logout with fragment", func(c *cognito.Config) { c.LogoutURI = "https://app.example.com/#x" }, "LogoutURI"},
		{"opaque https domain", func(c *cognito.Config) { c.Domain = "https:auth.example.com" }, "Domain"},
		{"domain with user info", func(c *cognito.Config) { c.Domain = "https://user@auth.example.com" }, "Domain"},
		{"domain with fragment", func(c *cognito.Config) { c.Domain = "https://auth.example.com#x" }, "Domain"},
		{"http JWKS URL off loopback", func(c *cognito.Config) { c.JWKSURL = "http://keys.example.com/jwks.json" }, "JWKSURL"},
		{"http domain on a host named like loopback", func(c *cognito.Config) { c.Domain = "http://localhost.example.com" }, "Domain"},
		{"redirect with fragment", func(c *cognito.Config) { c.RedirectURI = "https://app.example.com/cb#x" }, "RedirectURI"},
		{"relative logout", func(c *cognito.Config) { c.LogoutURI = "logout" }, "LogoutURI"},
		{"http issuer off loopback", func(c *cognito.Config) { c.Issuer = "http://issuer.example.com/p" }, "Issuer"},
		{"relative JWKS URL", func(c *cognito.Config) { c.JWKSURL = "/jwks.json" }, "JWKSURL"},
		{"scope with a space", func(c *cognito.Config) { c.Scopes = []string{"openid email"} }, "scope"},
		{"empty scope", func(c *cognito.Config) { c.Scopes = []string{""} }, "scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestValidateReportsEveryProblemWithoutTheSecret(t *testing.T) {
	c := cognito.Config{ClientSecret: "s3cr3t-value", Domain: "http://evil.example.com", RedirectURI: "cb"}
	err := c.Validate()
	require.Error(t, err)
	for _, field := range []string{"ClientID", "UserPoolID", "Domain", "RedirectURI"} {
		assert.Contains(t, err.Error(), field)
	}
	assert.NotContains(t, err.Error(), "s3cr3t-value")
}

func TestNewClientNeedsDomain(t *testing.T) {
	c := validConfig()
	c.Domain = ""
	_, err := cognito.NewClient(c)
	require.ErrorIs(t, err, cognito.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "Domain")
}

func TestNewVerifierRefusesInvalidConfig(t *testing.T) {
	_, err := cognito.NewVerifier(cognito.Config{UserPoolID: "us-east-1_x"})
	require.ErrorIs(t, err, cognito.ErrInvalidConfig)
	assert.True(t, errors.Is(err, cognito.ErrInvalidConfig))
}

// TestValidateHidesURLPasswords: a URL field refused for any reason is quoted
// in the error without its password, whatever form it takes.
func TestValidateHidesURLPasswords(t *testing.T) {
	base := cognito.Config{UserPoolID: "us-east-1_AbC123", ClientID: "client"}
	for name, tc := range map[string]struct {
		set  func(*cognito.Config)
		want string
	}{
		"Domain with user info": {func(c *cognito.Config) { c.Domain = "https://alice:s3cret@myapp.auth.us-east-1.amazoncognito.com" },
			`Domain "https://alice:xxxxx@myapp.auth.us-east-1.amazoncognito.com"`},
		"Domain, a bare host with user info": {func(c *cognito.Config) { c.Domain = "alice:s3cret@myapp.auth.us-east-1.amazoncognito.com" },
			`Domain "alice:xxxxx@myapp.auth.us-east-1.amazoncognito.com"`},
		"Issuer with user info": {func(c *cognito.Config) { c.Issuer = "https://alice:s3cret@issuer.example.com/pool" },
			`Issuer "https://alice:xxxxx@issuer.example.com/pool"`},
		"JWKSURL with user info": {func(c *cognito.Config) { c.JWKSURL = "https://alice:s3cret@keys.example.com/jwks.json" },
			`JWKSURL "https://alice:xxxxx@keys.example.com/jwks.json"`},
		"JWKSURL that does not parse": {func(c *cognito.Config) { c.JWKSURL = "https://alice:s3cret@keys example.com/jwks.json" },
			`JWKSURL "https://alice:xxxxx@keys example.com/jwks.json"`},
		"RedirectURI with a fragment": {func(c *cognito.Config) { c.RedirectURI = "https://alice:s3cret@app.example.com/cb#x" },
			`RedirectURI "https://alice:xxxxx@app.example.com/cb#x"`},
		"LogoutURI with a fragment": {func(c *cognito.Config) { c.LogoutURI = "https://alice:s3cret@app.example.com/bye#x" },
			`LogoutURI "https://alice:xxxxx@app.example.com/bye#x"`},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			tc.set(&cfg)
			err := cfg.Validate()
			require.ErrorIs(t, err, cognito.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}
