// Package options hands the settings of []cognito.Option to the module's
// sub-packages (alb), which cannot call cognito.Option's unexported method.
// The cognito package fills in Resolve when it is initialised; a sub-package
// imports cognito, so Resolve is set before any of its code runs.
package options

import (
	"net/http"
	"time"
)

// Settings are the values of cognito's options that sub-packages honour.
type Settings struct {
	HTTPClient   *http.Client     // WithHTTPClient, or the default client
	Now          func() time.Time // WithClock, or time.Now
	Leeway       time.Duration    // WithLeeway
	FetchTimeout time.Duration    // WithJWKSFetchTimeout
	MinRefetch   time.Duration    // WithJWKSMinRefetchInterval
}

// Resolve applies opts, each a cognito.Option (others are ignored), to the
// defaults cognito.NewVerifier starts from.
var Resolve func(opts []any) Settings
