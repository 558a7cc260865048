package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRelative(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		claim string
		at    time.Duration
		want  string
	}{
		{"exp", 42 * time.Minute, "expires in 42m"},
		{"exp", 42*time.Minute + 59*time.Second, "expires in 42m"},
		{"exp", time.Second, "expires in 1s"},
		{"exp", 0, "expired 0s ago"},
		{"exp", -3 * time.Hour, "expired 3h ago"},
		{"exp", -(3*time.Hour + 20*time.Minute), "expired 3h20m ago"},
		{"exp", -72 * time.Hour, "expired 3d ago"},
		{"exp", 47*time.Hour + 59*time.Minute, "expires in 47h59m"},
		{"iat", -59 * time.Second, "59s ago"},
		{"iat", 0, "0s ago"},
		{"nbf", 90 * time.Minute, "in 1h30m"},
	} {
		assert.Equal(t, tt.want, relative(tt.claim, now.Add(tt.at), now), "%s %v", tt.claim, tt.at)
	}
}

// TestDecodeEscapesControlCharacters: a claim may hold DEL and C1 control
// characters unescaped, and invalid UTF-8; decode prints them as \u escapes
// (or U+FFFD), so that a hostile token cannot write a control sequence to
// the terminal, and the output still reads as the same JSON.
func TestDecodeEscapesControlCharacters(t *testing.T) {
	claims := "{\"sub\":\"a\u009b2Jb\x7fc\u0085d\",\"x\":\"\x9b31m\"}"
	raw := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".c2ln"
	tok, err := parseUnverified(raw)
	require.NoError(t, err)

	var b bytes.Buffer
	require.NoError(t, writeJSON(&b, decodeJSON(tok, time.Now())))
	for name, out := range map[string]string{"text": indent(tok.payload), "--json": b.String()} {
		assert.False(t, strings.ContainsFunc(out, func(r rune) bool { return r == 0x7f || r >= 0x80 && r <= 0x9f }), name)
		assert.True(t, utf8.ValidString(out), name)
		assert.Contains(t, out, `a\u009b2Jb\u007fc\u0085d`, name)
	}
	var got struct{ Sub, X string }
	require.NoError(t, json.Unmarshal([]byte(indent(tok.payload)), &got))
	assert.Equal(t, "a\u009b2Jb\x7fc\u0085d", got.Sub, "the same JSON")
	assert.Equal(t, "\uFFFD31m", got.X, "invalid UTF-8 as a decoder reads it")
}
