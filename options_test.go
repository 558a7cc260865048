package cognito

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestOptionsIgnoreWhatTheyDocumentAsIgnored: a zero or negative duration, a
// nil client or clock and a nil option leave the defaults, except where zero
// is documented as meaningful (no quiet period, no leeway, no token cache).
func TestOptionsIgnoreWhatTheyDocumentAsIgnored(t *testing.T) {
	def := newSettings(nil)
	s := newSettings([]Option{
		nil, WithHTTPClient(nil), WithClock(nil),
		WithJWKSFetchTimeout(0), WithJWKSRefreshInterval(0), WithJWKSMinRefetchInterval(-1),
		WithLeeway(-time.Second), WithTokenCacheSize(-1),
	})
	assert.Same(t, def.httpClient, s.httpClient)
	assert.NotNil(t, s.now)
	assert.Equal(t, DefaultJWKSFetchTimeout, s.jwksTimeout)
	assert.Equal(t, DefaultJWKSRefreshInterval, s.jwksRefresh)
	assert.Equal(t, DefaultJWKSMinRefetchPeriod, s.jwksMinRefetch)
	assert.Zero(t, s.leeway)
	assert.Zero(t, s.tokenCacheSize)

	s = newSettings([]Option{WithJWKSFetchTimeout(-time.Second), WithJWKSRefreshInterval(-time.Second), WithJWKSMinRefetchInterval(0)})
	assert.Equal(t, DefaultJWKSFetchTimeout, s.jwksTimeout)
	assert.Equal(t, DefaultJWKSRefreshInterval, s.jwksRefresh)
	assert.Zero(t, s.jwksMinRefetch, "zero turns the quiet period off")

	hc := &http.Client{}
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s = newSettings([]Option{
		WithHTTPClient(hc), WithClock(func() time.Time { return fixed }),
		WithJWKSFetchTimeout(time.Nanosecond), WithJWKSRefreshInterval(time.Nanosecond), WithJWKSMinRefetchInterval(time.Nanosecond),
		WithLeeway(time.Second), WithTokenCacheSize(7),
	})
	assert.Same(t, hc, s.httpClient)
	assert.Equal(t, fixed, s.now())
	assert.Equal(t, time.Nanosecond, s.jwksTimeout)
	assert.Equal(t, time.Nanosecond, s.jwksRefresh)
	assert.Equal(t, time.Nanosecond, s.jwksMinRefetch)
	assert.Equal(t, time.Second, s.leeway)
	assert.Equal(t, 7, s.tokenCacheSize)
}
