package safetext

import (
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestIsControl(t *testing.T) {
	for r := rune(0); r <= 0x2000; r++ {
		want := r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f)
		assert.Equal(t, want, IsControl(r), "U+%04X", r)
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"plain text is kept", "kid-1", 64, "kid-1"},
		{"C0 and DEL are dropped", "a\x00b\nc\x1bd\x7fe", 64, "abcde"},
		{"C1 is dropped, CSI included", "a\u0080b\u009b2Jc\u009fd", 64, "ab2Jcd"},
		{"the characters just outside C1 are kept", "\u00a0\u00e9", 64, "\u00a0\u00e9"},
		{"cut to n bytes, then ...", "abcdef", 3, "abc..."},
		{"counted after dropping", "\u009b\u009b\u009babc", 3, "abc"},
		{"a cut rune is dropped", "aé", 2, "a..."},
		{"invalid UTF-8 is replaced, not kept", "a\xffb", 64, "a\uFFFDb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Clean(tc.in, tc.n)
			assert.Equal(t, tc.want, got)
			assert.True(t, utf8.ValidString(got))
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"no user info", "https://example.com/a@b?c=@d", "https://example.com/a@b?c=@d"},
		{"a password", "https://alice:s3cret@example.com/x", "https://alice:xxxxx@example.com/x"},
		{"a user without a password", "https://alice@example.com/", "https://alice@example.com/"},
		{"an '@' in the password", "https://alice:s3@cret@example.com/", "https://alice:xxxxx@example.com/"},
		{"bare host with a password", "alice:s3cret@myapp.auth.us-east-1.amazoncognito.com", "alice:xxxxx@myapp.auth.us-east-1.amazoncognito.com"},
		{"unparsable, with a password", "https://alice:s3cret@exa mple.com/%zz", "https://alice:xxxxx@exa mple.com/%zz"},
		{"unparsable port, with a password", "http://alice:s3cret@[::1]:port/", "http://alice:xxxxx@[::1]:port/"},
		{"redis, with a password", "redis://:s3cret@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := URL(tc.in)
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, got, "s3")
		})
	}
	// Where url.Parse finds a password, the answer is Redacted's.
	u, err := url.Parse("https://alice:s3cret@example.com/p?q#f")
	if assert.NoError(t, err) {
		assert.Equal(t, u.Redacted(), URL(u.String()))
	}
}
