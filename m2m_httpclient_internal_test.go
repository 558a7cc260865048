package cognito

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want bool
	}{
		{"same URL", "https://api.example.com/a", "https://api.example.com/b", true},
		{"host in another case", "https://API.example.com/a", "https://api.example.com/b", true},
		{"the default port spelled out", "https://api.example.com/a", "https://api.example.com:443/b", true},
		{"http's default port spelled out", "http://127.0.0.1:80/a", "http://127.0.0.1/b", true},
		{"https to http on the same host", "https://api.example.com/a", "http://api.example.com/b", false},
		{"https to http on the same host and port", "https://api.example.com:8443/a", "http://api.example.com:8443/b", false},
		{"another port", "https://api.example.com/a", "https://api.example.com:8443/b", false},
		{"a subdomain", "https://example.com/a", "https://api.example.com/b", false},
		{"another host", "https://api.example.com/a", "https://api.example.org/b", false},
		{"a host that ends like it", "https://example.com/a", "https://evilexample.com/b", false},
		{"userinfo that looks like the host", "https://api.example.com/a", "https://api.example.com@evil.example/b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := url.Parse(tc.a)
			require.NoError(t, err)
			b, err := url.Parse(tc.b)
			require.NoError(t, err)
			assert.Equal(t, tc.want, sameOrigin(a, b))
			assert.Equal(t, tc.want, sameOrigin(b, a))
		})
	}
	assert.False(t, sameOrigin(nil, &url.URL{}))
	assert.False(t, sameOrigin(&url.URL{}, nil))
}
