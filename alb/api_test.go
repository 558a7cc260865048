package alb_test

import (
	"context"
	"net/http"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/alb"
)

// The ALB section of ../shared/API.md, name by name and shape by shape: this
// file stops compiling if any of them is renamed or reshaped.
var (
	_ = alb.Config{
		Region:           "",
		LoadBalancerARNs: []string(nil),
		ClientIDs:        []string(nil),
		Issuer:           "",
		KeysURL:          "",
	}
	_ func(alb.Config, ...cognito.Option) (*alb.Verifier, error)       = alb.NewVerifier
	_ func(*alb.Verifier, context.Context, string) (*alb.Token, error) = (*alb.Verifier).Verify
	_ func(*alb.Token, any) error                                      = (*alb.Token).Claims
	_ func(*alb.Verifier) func(http.Handler) http.Handler              = alb.RequireUser
	_ func(context.Context) (*alb.Token, bool)                         = alb.TokenFromContext
	_                                                                  = alb.Token{Subject: "", Email: "", Username: "", Expiry: time.Time{}}
)
