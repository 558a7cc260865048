package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
