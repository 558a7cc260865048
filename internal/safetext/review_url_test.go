package safetext

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestURLPasswordWithDelimiters: a password written into a URL without
// percent-encoding its '/', '?' or '#' (base64 and generated passwords have
// them) ends what url.Parse takes for the authority early, so that it finds
// no user info, or even a host and a port. The password is hidden all the
// same.
func TestURLPasswordWithDelimiters(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"'#' in the password", "https://alice:s3#cret@example.com/x", "https://alice:xxxxx@example.com/x"},
		{"'#' after digits, which parse as a port", "https://alice:123#s3cret@example.com/x", "https://alice:xxxxx@example.com/x"},
		{"'/' after digits, which parse as a port", "https://alice:123/s3cret@example.com/jwks", "https://alice:xxxxx@example.com/jwks"},
		{"'?' in the password", "https://alice:s3?cret@example.com", "https://alice:xxxxx@example.com"},
		{"base64 in a Redis URL", "redis://:ab/s3+cd==@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		{"bare host, '/' in the password", "alice:s3/cret@myapp.auth.us-east-1.amazoncognito.com", "alice:xxxxx@myapp.auth.us-east-1.amazoncognito.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := URL(tc.in)
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, got, "s3")
		})
	}
}

// TestURLWithoutPasswordUnchanged: URLs whose user info url.Parse finds, or
// that have none, are shown as before, '@' in the path or query included.
func TestURLWithoutPasswordUnchanged(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/a@b?c=@d", "https://example.com/a@b?c=@d"},
		{"https://alice@example.com/", "https://alice@example.com/"},
		{"https://alice:s3cret@example.com/x?mail=a@b", "https://alice:xxxxx@example.com/x?mail=a@b"},
		{"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/.well-known/jwks.json", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/.well-known/jwks.json"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, URL(tc.in), tc.in)
	}
}
