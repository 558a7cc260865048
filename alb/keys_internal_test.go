package alb

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMissingKidsAreBounded(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := newKeyCache("http://127.0.0.1:1", nil, func() time.Time { return now }, time.Second, time.Minute)
	for i := range maxMissing {
		c.markMissing(fmt.Sprintf("kid-%d", i))
	}
	require.Len(t, c.missing, maxMissing)

	c.markMissing("one-more")
	assert.Len(t, c.missing, maxMissing, "full: one held kid makes way")
	assert.Contains(t, c.missing, "one-more")
	assert.Error(t, c.held("one-more"))

	now = now.Add(time.Minute)
	assert.NoError(t, c.held("one-more"), "held for the interval only")
	c.markMissing("after-expiry")
	assert.Len(t, c.missing, 1, "a full map first drops every expired kid")
}
