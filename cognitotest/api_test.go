package cognitotest_test

import (
	"log/slog"
	"time"

	"github.com/cognitokit/cognito/cognitotest"
)

// The names of API.md's "test clocks" (the front door) and the test plumbing
// around them, with their shapes: code written against them keeps compiling.
var (
	_ func(time.Time) *cognitotest.Clock                                   = cognitotest.NewClock
	_ func(*cognitotest.Clock) time.Time                                   = (*cognitotest.Clock).Now
	_ func(*cognitotest.Clock, time.Duration)                              = (*cognitotest.Clock).Advance
	_ func(*cognitotest.Clock, time.Time)                                  = (*cognitotest.Clock).Set
	_ func(func() time.Time) cognitotest.Option                            = cognitotest.WithClock
	_ func(*cognitotest.Server, string, ...string) error                   = (*cognitotest.Server).SetRedirectURIs
	_ func(*cognitotest.Server, string, ...string) error                   = (*cognitotest.Server).SetLogoutURIs
	_ func(*slog.Logger) cognitotest.Option                                = cognitotest.WithLogger
	_ func(time.Duration, time.Duration) cognitotest.Option                = cognitotest.WithTokenLifetimes
	_ func(bool) cognitotest.Option                                        = cognitotest.WithRefreshTokenRotation
	_ func(time.Duration) cognitotest.Option                               = cognitotest.WithRetryGracePeriod
	_ func(*cognitotest.Server, string, ...cognitotest.TokenOption) string = (*cognitotest.Server).MintAccessToken
	_ func(string) cognitotest.TokenOption                                 = cognitotest.WithAudience
)
