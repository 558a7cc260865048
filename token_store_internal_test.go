package cognito

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testSharedToken(t *testing.T) *sharedToken {
	t.Helper()
	fleet, err := newTokenFleet(NewMemoryStore(), Config{UserPoolID: "us-east-1_AbCdEf123", ClientID: "c", ClientSecret: "s", Domain: "https://auth.example.com"})
	require.NoError(t, err)
	return fleet.entry([]string{"orders/read"}, time.Second)
}

// TestTokenEntryOfExactlyTheLimit: an entry of 64 KiB opens; one byte more
// is not read.
func TestTokenEntryOfExactlyTheLimit(t *testing.T) {
	sh := testSharedToken(t)
	iat := time.Unix(1772366400, 0)
	sealOf := func(n int) ([]byte, string) { // an entry of n bytes, and its token
		t.Helper()
		base, err := sh.seal(&Tokens{AccessToken: "x", Expiry: iat.Add(time.Hour)}, iat)
		require.NoError(t, err)
		access := strings.Repeat("x", 1+n-len(base))
		data, err := sh.seal(&Tokens{AccessToken: access, Expiry: iat.Add(time.Hour)}, iat)
		require.NoError(t, err)
		require.Len(t, data, n)
		return data, access
	}
	data, access := sealOf(maxTokenEntry)
	tok, gotIat, ok := sh.open(data)
	require.True(t, ok, "64 KiB")
	assert.Equal(t, access, tok.AccessToken)
	assert.True(t, iat.Equal(gotIat))
	data, _ = sealOf(maxTokenEntry + 1)
	_, _, ok = sh.open(data)
	assert.False(t, ok, "64 KiB and a byte")
}

// TestTokenEntryWithoutALifetimeDoesNotOpen: an entry whose token expires
// when it was issued, or before, is refused as a garbled one is.
func TestTokenEntryWithoutALifetimeDoesNotOpen(t *testing.T) {
	sh := testSharedToken(t)
	iat := time.Unix(1772366400, 0)
	for _, tc := range []struct {
		name   string
		expiry time.Time
		opens  bool
	}{
		{"a nanosecond of life", iat.Add(time.Nanosecond), true},
		{"expiring when issued", iat, false},
		{"expiring before it was issued", iat.Add(-time.Second), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := sh.seal(&Tokens{AccessToken: "tok", Expiry: tc.expiry}, iat)
			require.NoError(t, err)
			tok, _, ok := sh.open(data)
			require.Equal(t, tc.opens, ok)
			if ok {
				assert.True(t, tc.expiry.Equal(tok.Expiry))
			}
		})
	}
}

// TestTokenEntrySealedInTheBufferReservedForIt: seal reserves the version,
// the nonce, the token and the tag in one buffer, which Seal fills exactly
// rather than growing it into a second allocation: beside what json.Marshal
// allocates for the plaintext, sealing allocates three times whatever the
// token's length (the buffer among them); a buffer Seal had to grow would
// make it four.
func TestTokenEntrySealedInTheBufferReservedForIt(t *testing.T) {
	sh := testSharedToken(t)
	iat := time.Unix(1772366400, 0)
	for _, n := range []int{1, 900, 1500} {
		tok := &Tokens{AccessToken: strings.Repeat("x", n), Expiry: iat.Add(time.Hour)}
		data, err := sh.seal(tok, iat)
		require.NoError(t, err)
		assert.Equal(t, len(data), cap(data), "a token of %d bytes", n)
		marshal := fewestAllocs(func() {
			_, _ = json.Marshal(sealedToken{AccessToken: tok.AccessToken, IssuedAt: iat.UnixNano(), Expiry: tok.Expiry.UnixNano()})
		})
		seal := fewestAllocs(func() { _, _ = sh.seal(tok, iat) })
		assert.Equal(t, marshal+3, seal, "a token of %d bytes", n)
	}
}

// fewestAllocs is the fewest allocations f makes in a run, of 20 runs: under
// the race detector sync.Pool drops some of what is put back (json.Marshal's
// buffers among them), so that one run may allocate more than another.
func fewestAllocs(f func()) float64 {
	fewest := testing.AllocsPerRun(1, f)
	for range 19 {
		fewest = min(fewest, testing.AllocsPerRun(1, f))
	}
	return fewest
}
