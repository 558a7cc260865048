package alb

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
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

// TestTheQueueOfKidsIsCapped: while one download holds the slot, kids join
// the queue up to maxFlights; the next is refused at once, without starting
// the quiet period, and a caller that leaves a shared flight does not take
// it from the callers that stay.
func TestTheQueueOfKidsIsCapped(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-release
		http.NotFound(w, r)
	}))
	defer srv.Close()
	defer close(release)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := newKeyCache(srv.URL, srv.Client(), func() time.Time { return now }, 5*time.Second, time.Minute)
	ctx := context.Background()

	first, err := c.join(ctx, "kid-0")
	require.NoError(t, err)
	<-arrived
	flights := []*flight{first}
	for i := 1; i < maxFlights; i++ {
		f, err := c.join(ctx, fmt.Sprintf("kid-%d", i))
		require.NoError(t, err)
		flights = append(flights, f)
	}
	_, err = c.join(ctx, "one-too-many")
	require.ErrorIs(t, err, cognito.ErrJWKSUnavailable)
	assert.NoError(t, c.held("one-too-many"), "a full queue starts no quiet period")

	shared, err := c.join(ctx, "kid-1")
	require.NoError(t, err)
	assert.Same(t, flights[1], shared, "callers of one kid share one place in the queue")
	c.leave("kid-1", shared)
	c.mu.Lock()
	assert.Contains(t, c.flights, "kid-1", "one caller of kid-1 still waits")
	c.mu.Unlock()

	for i := 1; i < maxFlights; i++ {
		c.leave(fmt.Sprintf("kid-%d", i), flights[i])
	}
	c.mu.Lock()
	assert.Len(t, c.flights, 1, "kids no one waits for leave the queue; the download under way stays")
	c.mu.Unlock()
	_, err = c.join(ctx, "room-again")
	require.NoError(t, err)
}

// TestKeyServerErrorsHideTheURLPassword: NewVerifier refuses a KeysURL with
// credentials, so none reaches the cache; put there by hand, every download
// error names the URL without the password all the same.
func TestKeyServerErrorsHideTheURLPassword(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			_, _ = w.Write([]byte("not a key"))
		}
	}))
	defer srv.Close()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	withPassword := func(rawURL string) string { return strings.Replace(rawURL, "http://", "http://alice:s3cret@", 1) }
	for _, tc := range []struct{ base, kid string }{
		{srv.URL, "missing"}, {srv.URL, "broken"}, {srv.URL, "garbage"},
		{"http://127.0.0.1:1", "unreachable"}, {"http://127.0.0.1:port", "malformed"},
	} {
		c := newKeyCache(withPassword(tc.base), srv.Client(), func() time.Time { return now }, 5*time.Second, time.Minute)
		_, err := c.key(context.Background(), tc.kid)
		require.Error(t, err, tc.kid)
		assert.NotContains(t, err.Error(), "s3cret", tc.kid)
		assert.Contains(t, err.Error(), "alice:xxxxx@", tc.kid)
	}
}
