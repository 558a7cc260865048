package cognito

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// sessionRecord is what the store holds for a session.
type sessionRecord struct {
	created  time.Time // sign-in: the absolute lifetime counts from here
	lastSeen time.Time // last recorded use: the idle timeout counts from here
	obtained time.Time // when the tokens were issued to us
	expiry   time.Time // when the ID or access token expires, whichever is first

	idToken, accessToken, refreshToken string
}

// setTokens takes fresh tokens from the token endpoint. A refresh that does
// not rotate returns no refresh token: the old one stays.
func (r *sessionRecord) setTokens(t *Tokens, now time.Time) {
	r.idToken, r.accessToken = t.IDToken, t.AccessToken
	if t.RefreshToken != "" {
		r.refreshToken = t.RefreshToken
	}
	r.obtained, r.expiry = now, t.Expiry
	// The ID token's lifetime is configured apart from the access token's,
	// and expires_in speaks for the access token only. The token came from
	// the token endpoint and is verified before use; here its exp only
	// schedules the refresh.
	if c, ok := unverifiedClaims(t.IDToken); ok && !c.exp.IsZero() && c.exp.Before(r.expiry) {
		r.expiry = c.exp
	}
}

// The encoding: a version byte, the four times as varint Unix milliseconds,
// then each token as a uvarint length and its bytes. Compact, and a record of
// an unknown version or any other shape is refused as a whole.
const (
	sessionRecordVersion = 1
	maxRecordToken       = 64 << 10
)

var errBadRecord = errors.New("cognito: malformed session record")

func (r *sessionRecord) encode() []byte {
	b := make([]byte, 0, 1+4*binary.MaxVarintLen64+3*binary.MaxVarintLen32+len(r.idToken)+len(r.accessToken)+len(r.refreshToken))
	b = append(b, sessionRecordVersion)
	for _, t := range []time.Time{r.created, r.lastSeen, r.obtained, r.expiry} {
		b = binary.AppendVarint(b, t.UnixMilli())
	}
	for _, s := range []string{r.idToken, r.accessToken, r.refreshToken} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeSession(b []byte) (*sessionRecord, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errBadRecord)
	}
	if b[0] != sessionRecordVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", errBadRecord, b[0], sessionRecordVersion)
	}
	b = b[1:]
	var times [4]time.Time
	for i := range times {
		ms, n := binary.Varint(b)
		if n <= 0 {
			return nil, fmt.Errorf("%w: truncated time", errBadRecord)
		}
		times[i], b = time.UnixMilli(ms), b[n:]
	}
	var toks [3]string
	for i := range toks {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > maxRecordToken || l > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: truncated token", errBadRecord)
		}
		toks[i], b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(b))
	}
	if toks[0] == "" || toks[1] == "" || toks[2] == "" {
		return nil, fmt.Errorf("%w: a token is missing", errBadRecord)
	}
	return &sessionRecord{
		created: times[0], lastSeen: times[1], obtained: times[2], expiry: times[3],
		idToken: toks[0], accessToken: toks[1], refreshToken: toks[2],
	}, nil
}
