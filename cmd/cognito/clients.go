package main

import (
	"context"
	"errors"

	"github.com/cognitokit/cognito"
)

// newVerifier returns a Verifier that accepts tokens of any of clients.
// Until cognito.WithClientIDs is merged, it tries one Verifier per client.
func newVerifier(cfg cognito.Config, clients []string, opts ...cognito.Option) (verifier, error) {
	var m multiVerifier
	for _, id := range clients {
		c := cfg
		c.ClientID = id
		v, err := cognito.NewVerifier(c, opts...)
		if err != nil {
			return nil, err
		}
		m = append(m, v)
	}
	return m, nil
}

type multiVerifier []*cognito.Verifier

func (m multiVerifier) VerifyIDToken(ctx context.Context, raw string) (*cognito.IDToken, error) {
	var first error
	for _, v := range m {
		t, err := v.VerifyIDToken(ctx, raw)
		if err == nil {
			return t, nil
		}
		if first == nil || !errors.Is(err, cognito.ErrInvalidAudience) {
			first = err
		}
		if !errors.Is(err, cognito.ErrInvalidAudience) {
			break
		}
	}
	return nil, first
}

func (m multiVerifier) VerifyAccessToken(ctx context.Context, raw string) (*cognito.AccessToken, error) {
	var first error
	for _, v := range m {
		t, err := v.VerifyAccessToken(ctx, raw)
		if err == nil {
			return t, nil
		}
		if first == nil || !errors.Is(err, cognito.ErrInvalidAudience) {
			first = err
		}
		if !errors.Is(err, cognito.ErrInvalidAudience) {
			break
		}
	}
	return nil, first
}

// clientCredentials gets an M2M token; it waits for (*cognito.Client).ClientCredentials.
func clientCredentials(ctx context.Context, c *cognito.Client, scopes []string) (*cognito.Tokens, error) {
	return nil, errors.New("client credentials: not available in this build")
}
