package cognito

import "github.com/cognitokit/cognito/internal/options"

// Sub-packages resolve []Option through internal/options, so that they honour
// the same options, with the same defaults, as NewVerifier.
func init() {
	options.Resolve = func(opts []any) options.Settings {
		typed := make([]Option, 0, len(opts))
		for _, o := range opts {
			if o, ok := o.(Option); ok {
				typed = append(typed, o)
			}
		}
		s := newSettings(typed)
		return options.Settings{
			HTTPClient:   s.httpClient,
			Now:          s.now,
			Leeway:       s.leeway,
			FetchTimeout: s.jwksTimeout,
			MinRefetch:   s.jwksMinRefetch,
		}
	}
}
