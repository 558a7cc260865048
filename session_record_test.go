package cognito

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleRecord() *sessionRecord {
	t0 := time.UnixMilli(1_800_000_000_123)
	return &sessionRecord{
		created: t0, lastSeen: t0.Add(time.Minute), obtained: t0.Add(2 * time.Minute), expiry: t0.Add(time.Hour),
		idToken: "id.token.sig", accessToken: "access.token.sig", refreshToken: "a.b.c.d.e",
	}
}

func TestSessionRecordRoundTrip(t *testing.T) {
	rec := sampleRecord()
	data := rec.encode()
	assert.Equal(t, byte(1), data[0], "a version byte first: 1 without a sign-in level, for older replicas")
	got, err := decodeSession(data)
	require.NoError(t, err)
	assert.True(t, got.created.Equal(rec.created))
	assert.True(t, got.lastSeen.Equal(rec.lastSeen))
	assert.True(t, got.obtained.Equal(rec.obtained))
	assert.True(t, got.expiry.Equal(rec.expiry))
	assert.Equal(t, rec.idToken, got.idToken)
	assert.Equal(t, rec.accessToken, got.accessToken)
	assert.Equal(t, rec.refreshToken, got.refreshToken)
	assert.Less(t, len(data), 1+4*6+3+len(rec.idToken)+len(rec.accessToken)+len(rec.refreshToken)+1, "compact")
}

func TestSessionRecordRefusesGarbage(t *testing.T) {
	data := sampleRecord().encode()
	for n := range len(data) {
		_, err := decodeSession(data[:n])
		assert.ErrorIs(t, err, errBadRecord, "truncated to %d bytes", n)
	}
	_, err := decodeSession(append(bytes.Clone(data), 0))
	assert.ErrorIs(t, err, errBadRecord, "a trailing byte")
	for _, v := range []byte{0, 3, 0xff} {
		other := bytes.Clone(data)
		other[0] = v
		_, err := decodeSession(other)
		assert.ErrorIs(t, err, errBadRecord, "version %d", v)
	}
	empty := &sessionRecord{}
	_, err = decodeSession(empty.encode())
	assert.ErrorIs(t, err, errBadRecord, "no tokens")
	huge := []byte{sessionRecordVersion, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	_, err = decodeSession(huge)
	assert.ErrorIs(t, err, errBadRecord, "a length beyond the data")
}

func FuzzDecodeSession(f *testing.F) {
	f.Add(sampleRecord().encode())
	f.Add([]byte{sessionRecordVersion})
	f.Add([]byte("\x01garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := decodeSession(data)
		if err != nil {
			return
		}
		again, err := decodeSession(rec.encode())
		require.NoError(t, err)
		assert.Equal(t, rec.idToken, again.idToken)
		assert.Equal(t, rec.refreshToken, again.refreshToken)
	})
}

func TestSafeReturnTo(t *testing.T) {
	for in, want := range map[string]string{
		"/a?b=c#d":       "/a?b=c#d",
		"/":              "/",
		"":               "/",
		"//x":            "/",
		"/\\x":           "/",
		"http://x/":      "/",
		"/a\nb":          "/",
		"x":              "/",
		"/\u200bzw":      "/\u200bzw", // not a control character: a path like any other
		"/%0d%0aX: y":    "/%0d%0aX: y",
		"/a b":           "/a b",
		"/\u00e9t\u00e9": "/\u00e9t\u00e9",
	} {
		assert.Equal(t, want, safeReturnTo(in), "%q", in)
	}
}

func TestSessionRecordKeepsTheSignInLevel(t *testing.T) {
	rec := sampleRecord()
	rec.acr, rec.amr = "urn:cognito:loa:2", []string{"pwd", "otp", "mfa"}
	data := rec.encode()
	assert.Equal(t, byte(2), data[0], "version 2 with a level")
	got, err := decodeSession(data)
	require.NoError(t, err)
	assert.Equal(t, rec, got)

	v1 := sampleRecord().encode()
	got, err = decodeSession(v1)
	require.NoError(t, err)
	assert.Empty(t, got.acr)
	assert.Nil(t, got.amr)

	for n := range len(data) {
		_, err := decodeSession(data[:n])
		assert.ErrorIs(t, err, errBadRecord, "truncated to %d bytes", n)
	}
	_, err = decodeSession(append(bytes.Clone(data), 0))
	assert.ErrorIs(t, err, errBadRecord, "a trailing byte")
	rec.amr = make([]string, maxRecordAMR+1)
	_, err = decodeSession(rec.encode())
	assert.ErrorIs(t, err, errBadRecord, "too many methods")
	rec.amr, rec.acr = nil, strings.Repeat("a", maxRecordACR+1)
	_, err = decodeSession(rec.encode())
	assert.ErrorIs(t, err, errBadRecord, "acr too long")
}

func TestSessionRecordFillsWhatARefreshLeftOut(t *testing.T) {
	rec := &sessionRecord{acr: "urn:cognito:loa:2", amr: []string{"pwd", "otp"}}
	refreshed := rec.withSignIn(&IDToken{Subject: "s"})
	assert.Equal(t, "urn:cognito:loa:2", refreshed.ACR)
	assert.Equal(t, []string{"pwd", "otp"}, refreshed.AMR)
	refreshed.AMR[0] = "changed"
	assert.Equal(t, []string{"pwd", "otp"}, rec.amr, "the caller gets a copy")

	own := rec.withSignIn(&IDToken{ACR: "urn:cognito:loa:3", AMR: []string{"pwd", "webauthn"}})
	assert.Equal(t, "urn:cognito:loa:3", own.ACR, "a token's own claims stand")
	assert.Equal(t, []string{"pwd", "webauthn"}, own.AMR)
}

// TestSessionRecordLimits: a record holds tokens of up to 64 KiB each, an
// acr and amr methods of up to 1 KiB and up to 64 methods, whichever token
// is the long one; one byte or method more is refused.
func TestSessionRecordLimits(t *testing.T) {
	long := strings.Repeat("t", maxRecordToken)
	level := strings.Repeat("l", maxRecordACR)
	for name, set := range map[string]func(r *sessionRecord){
		"a long ID token":      func(r *sessionRecord) { r.idToken = long },
		"a long access token":  func(r *sessionRecord) { r.accessToken = long },
		"a long refresh token": func(r *sessionRecord) { r.refreshToken = long },
		"a long acr":           func(r *sessionRecord) { r.acr = level },
		"a long amr method":    func(r *sessionRecord) { r.amr = []string{level} },
		"64 amr methods":       func(r *sessionRecord) { r.amr = slices.Repeat([]string{"otp"}, maxRecordAMR) },
	} {
		t.Run(name, func(t *testing.T) {
			rec := sampleRecord()
			set(rec)
			got, err := decodeSession(rec.encode())
			require.NoError(t, err)
			assert.Equal(t, rec, got)
		})
	}
	for name, set := range map[string]func(r *sessionRecord){
		"a token a byte too long":       func(r *sessionRecord) { r.refreshToken = long + "t" },
		"an amr method a byte too long": func(r *sessionRecord) { r.amr = []string{level + "l"} },
	} {
		t.Run(name, func(t *testing.T) {
			rec := sampleRecord()
			set(rec)
			_, err := decodeSession(rec.encode())
			assert.ErrorIs(t, err, errBadRecord)
		})
	}
}

// TestSessionRecordSaysWhereItIsCut: the error of a record cut short names
// the part that is missing, as the log of garbage in the store shows it.
func TestSessionRecordSaysWhereItIsCut(t *testing.T) {
	rec := sampleRecord()
	rec.acr, rec.amr = "urn:cognito:loa:2", []string{"pwd"}
	data := rec.encode()
	times := 1
	for range 4 {
		_, n := binary.Varint(data[times:])
		times += n
	}
	for _, tc := range []struct {
		cut  int
		says string
	}{
		{1, "truncated time"},
		{times - 1, "truncated time"},
		{times, "truncated token"},
		{len(data) - 1, "truncated amr"},
	} {
		_, err := decodeSession(data[:tc.cut])
		assert.ErrorIs(t, err, errBadRecord)
		assert.ErrorContains(t, err, tc.says, "cut at %d", tc.cut)
	}
}

// TestSessionRecordEncodesInOneAllocation: encode sizes its buffer for the
// record up front (every Commit encodes one), with or without a sign-in
// level, so that it never grows it. The tokens come to 4,068 bytes, so
// that the record (31 bytes more without a level) outgrows the 4 KiB size
// class that a buffer reserving less than its header would get.
func TestSessionRecordEncodesInOneAllocation(t *testing.T) {
	rec := sampleRecord()
	rec.idToken, rec.accessToken, rec.refreshToken = strings.Repeat("i", 1100), strings.Repeat("a", 1000), strings.Repeat("r", 1968)
	require.Len(t, rec.encode(), 4068+31)
	assert.Equal(t, 1.0, testing.AllocsPerRun(20, func() { _ = rec.encode() }), "without a sign-in level")

	rec.refreshToken = strings.Repeat("r", 1800)
	rec.acr, rec.amr = strings.Repeat("c", 200), []string{"pwd", "mfa", strings.Repeat("m", 200)}
	assert.Equal(t, 1.0, testing.AllocsPerRun(20, func() { _ = rec.encode() }), "with one")

	// The most each length and time can take: 64 methods, whose lengths
	// outnumber the reserve of the other fields...
	rec.amr = make([]string, maxRecordAMR)
	for i := range rec.amr {
		rec.amr[i] = "m"
	}
	assert.Equal(t, 1.0, testing.AllocsPerRun(20, func() { _ = rec.encode() }), "with 64 methods")
	// ... and, without a level, times 146 million years from 1970 (nine
	// bytes each) and tokens whose lengths take three bytes.
	far := time.UnixMilli(-1 << 62)
	rec = &sessionRecord{
		created: far, lastSeen: far, obtained: far, expiry: far,
		idToken: strings.Repeat("i", 1<<14), accessToken: strings.Repeat("a", 1<<14), refreshToken: strings.Repeat("r", 1<<14),
	}
	assert.Equal(t, 1.0, testing.AllocsPerRun(20, func() { _ = rec.encode() }), "far times, long tokens")
	got, err := decodeSession(rec.encode())
	require.NoError(t, err)
	assert.Equal(t, far.UnixMilli(), got.expiry.UnixMilli(), "and it reads back")
}
