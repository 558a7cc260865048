package cognito_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cognitokit/cognito"
)

func TestEndpointURLs(t *testing.T) {
	cfg := cognito.Config{
		UserPoolID: "eu-west-1_AbCdEf123", ClientID: "c",
		Domain: "myapp.auth.eu-west-1.amazoncognito.com/",
	}
	assert.Equal(t, "https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/token", cfg.TokenURL())
	assert.Equal(t, "https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/authorize", cfg.AuthorizeURL())
	assert.Equal(t, "https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/revoke", cfg.RevokeURL())
	assert.Equal(t, "https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/userInfo", cfg.UserInfoURL())
	assert.Equal(t, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", cfg.IssuerURL())
	assert.Equal(t, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json", cfg.KeySetURL())

	emulator := cognito.Config{
		UserPoolID: "local_abc", ClientID: "c", Domain: "http://localhost:9229",
		Issuer: "http://localhost:9229/local_abc", JWKSURL: "http://localhost:9229/keys.json",
	}
	assert.Equal(t, "http://localhost:9229/oauth2/token", emulator.TokenURL())
	assert.Equal(t, "http://localhost:9229/local_abc", emulator.IssuerURL())
	assert.Equal(t, "http://localhost:9229/keys.json", emulator.KeySetURL())

	noDomain := cognito.Config{UserPoolID: "eu-west-1_AbCdEf123", ClientID: "c"}
	assert.Empty(t, noDomain.TokenURL(), "no Domain, no hosted UI endpoints")
	assert.Empty(t, noDomain.AuthorizeURL())
	assert.Empty(t, noDomain.RevokeURL())
	assert.Empty(t, noDomain.UserInfoURL())
}
